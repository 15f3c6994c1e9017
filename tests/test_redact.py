"""Issue 24: keyed digests (stable per key, migration from the unkeyed labels of earlier
versions) and the two forms of the one redaction pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackctl.backends.docker.desired import desire
from stackctl.backends.docker.plan import plan
from stackctl.core.labels import LABEL_CONFIG, LABEL_HASH
from stackctl.core.redact import MARKER, Known, Secrets, digest, digest_key, redact_text
from tests.test_plan import applied, homelab, with_container


def test_a_digest_is_keyed_per_stack_and_stable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("STACKCTL_DIGEST_KEY", raising=False)
    a, b = digest_key("lab"), digest_key("other")
    assert a == digest_key("lab") and a != b  # made once, then read
    key_file = tmp_path / "stackctl" / "digest-keys" / "lab"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert digest("hunter2", a) == digest("hunter2", a) != digest("hunter2", b)
    assert digest("hunter2", a) != digest("hunter2", None)  # not the dictionary-able form
    monkeypatch.setenv("STACKCTL_DIGEST_KEY", "shared")
    assert digest_key("lab") == digest_key("lab") != a  # machines sharing one daemon


def test_a_second_plan_has_no_changes_and_old_unkeyed_labels_are_in_sync() -> None:
    desired = desire([homelab()])
    observed = applied(desired)
    assert plan(desired, observed).operations == ()
    (db,) = [c for c in desired.containers if c.service == "db"]
    assert db.legacy_hash != db.config_hash
    labels = {**db.labels, LABEL_HASH: db.legacy_hash, LABEL_CONFIG: "{}"}
    old = with_container(observed, db.name, labels=labels)
    assert plan(desired, old).operations == ()  # upgrading replaces nothing
    changed = with_container(observed, db.name, labels={**labels, LABEL_HASH: "0" * 64})
    assert [op.resource for op in plan(desired, changed).operations] == [db.name]


def test_structured_redaction_hides_whole_strings_and_split_words() -> None:
    s = Secrets.of(["correct horse battery", "ab"], b"k" * 32)
    out = s.data({"command": ["sh", "-c", "x", "correct", "horse", "battery", "y"], "u": "ab"})
    assert out["command"][:3] == ["sh", "-c", "x"] and out["command"][-1] == "y"
    assert all(w.startswith("hmac:") for w in out["command"][3:6])
    assert out["u"].startswith("hmac:")
    assert s.data({"image": "busybox:ab1"}) == {"image": "busybox:ab1"}  # short: whole only


def test_free_text_redaction_hides_the_whole_token_and_escaped_forms() -> None:
    k = Known()
    k.add(["p4ss$!word99", "é!"])
    text = 'bad "x:p4ss$!word99@h" and {"m": "p4ss$!word99"} \\u00e9! \'é!\' é!x'
    shown = redact_text(text, k)
    assert "p4ss" not in shown and "'é!'" not in shown and shown.count(MARKER) == 3
    assert "é!x" in shown  # a short value inside a word is ordinary text


def test_a_path_segment_that_is_a_secret_is_hidden_however_short() -> None:
    from stackctl.core.redact import Known, redact_path

    values = Known()
    values.add(["$!", "hunter2"])
    assert redact_path("services.web.depends_on.$!", values) == (
        "services.web.depends_on.(sensitive value)"
    )
    assert redact_path("services.web.environment.X", values) == "services.web.environment.X"
    assert redact_path("services.$!x.image", values) == "services.$!x.image"  # a part only
