"""``content:`` and ``environment:`` configs on the docker backend, without a daemon.

The desired config holds a keyed digest of the text (never the text), so a changed text is
one replace naming the file; the text itself is only in ``DesiredContainer.copies``, which
the engine turns into the tar it uploads before the start.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from stackctl import Service, Stack
from stackctl.backends.docker.desired import DesiredContainer, desire
from stackctl.backends.docker.plan import plan
from stackctl.core.plan import Kind
from stackctl.engine.docker import config_archive
from stackctl.errors import InvalidStackError
from stackctl.load.yamldoc import resolve_plain
from stackctl.render import plan_json, plan_text
from tests.test_plan import IMG, applied

SECRET = "pa55-from-the-environment"


def lab(tmp_path: Path, content: str = "answer=42\n", **use: Any) -> Stack:
    return Stack(
        "lab",
        services=[
            Service(
                "web",
                image=IMG,
                configs=[{"source": "app", **use}, {"source": "token", "target": "/run/token"}],
            )
        ],
        configs={"app": {"content": content}, "token": {"environment": "LAB_TOKEN"}},
    ).with_origin(tmp_path / "compose.yaml")


def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> DesiredContainer:
    monkeypatch.setenv("LAB_TOKEN", SECRET)
    [dc] = desire([lab(tmp_path, **kw)]).containers
    return dc


@pytest.mark.parametrize(
    ("use", "target", "mode", "uid", "gid", "entry"),
    [
        ({}, "/app", 0o444, None, None, " mode=0444"),
        ({"target": "/etc/app/app.conf"}, "/etc/app/app.conf", 0o444, None, None, " mode=0444"),
        ({"target": "etc/app.conf"}, "/etc/app.conf", 0o444, None, None, " mode=0444"),
        ({"mode": 0o440, "uid": "1000", "gid": "100"}, "/app", 0o440, 1000, 100,
         " mode=0440 uid=1000 gid=100"),
        ({"mode": "0600"}, "/app", 0o600, None, None, " mode=0600"),
    ],
)  # fmt: skip
def test_the_config_holds_a_digest_and_the_copy_the_text(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    use: dict[str, Any],
    target: str,
    mode: int,
    uid: int | None,
    gid: int | None,
    entry: str,
) -> None:
    dc = web(tmp_path, monkeypatch, **use)
    files = dc.config["files"]
    assert sorted(files) == sorted([target, "/run/token"])
    assert files[target].startswith("hmac:") and files[target].endswith(entry)
    copies = {c.target: c for c in dc.copies}
    assert copies[target].data == b"answer=42\n"
    assert (copies[target].mode, copies[target].uid, copies[target].gid) == (mode, uid, gid)
    assert copies["/run/token"].data == SECRET.encode()
    for shown in (dc.labels, dc.config, repr(dc)):
        assert "answer=42" not in str(shown) and SECRET not in str(shown)


def test_a_changed_content_is_one_replace_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_TOKEN", SECRET)
    before = desire([lab(tmp_path)])
    after = desire([lab(tmp_path, content="answer=43\n")])
    result = plan(after, applied(before))
    [op] = result.operations
    assert (op.kind, op.resource) == (Kind.REPLACE, "lab-web-1")
    assert op.reason == "config file changed: /app"
    assert plan(before, applied(before)).operations == ()


def test_a_changed_environment_value_replaces_and_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_TOKEN", SECRET)
    before = desire([lab(tmp_path)])
    monkeypatch.setenv("LAB_TOKEN", SECRET + "-new")
    after = desire([lab(tmp_path)])
    result = plan(after, applied(before))
    [op] = result.operations
    assert op.reason == "config file changed: /run/token"
    for out in (plan_text(result), str(plan_json(result))):
        assert SECRET not in out and "answer=42" not in out


def test_an_unset_environment_config_is_an_error_with_where_to_set_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAB_TOKEN", raising=False)
    with pytest.raises(InvalidStackError) as e:
        desire([lab(tmp_path)])
    [d] = e.value.diagnostics
    assert (d.code, d.path) == ("config-environment-unset", "configs.token.environment")
    assert "LAB_TOKEN" in d.message and ".env" in (d.hint or "")
    (tmp_path / ".env").write_text("LAB_TOKEN=from-dotenv\n")
    [dc] = desire([lab(tmp_path)]).containers
    assert {c.target: c.data for c in dc.copies}["/run/token"] == b"from-dotenv"


def test_an_empty_content_is_no_file_as_in_compose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dc = web(tmp_path, monkeypatch, content="")
    assert [c.target for c in dc.copies] == ["/run/token"]


def test_the_archive_holds_each_file_with_its_mode_and_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dc = web(tmp_path, monkeypatch, target="/etc/app.conf", mode=0o440, uid="1000", gid="100")
    with tarfile.open(fileobj=io.BytesIO(config_archive(dc.copies))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["etc/app.conf", "run/token"]
        app = members["etc/app.conf"]
        assert (app.mode, app.uid, app.gid) == (0o440, 1000, 100)
        assert (members["run/token"].mode, members["run/token"].uid) == (0o444, 0)
        extracted = tar.extractfile(app)
        assert extracted is not None and extracted.read() == b"answer=42\n"


@pytest.mark.parametrize(
    ("text", "value"),
    [("0440", 0o440), ("0o440", 0o440), ("440", 440), ("0", 0), ("089", 89), ("-1", -1)],
)
def test_a_leading_zero_integer_is_octal_as_in_go_yaml(text: str, value: int) -> None:
    assert resolve_plain(text) == value
