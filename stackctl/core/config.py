"""Finalizing a canonical config: built once by a backend, finalized once here.

Finalizing drops empty values (so a new optional field does not change old hashes),
replaces every string that holds a secret value wherever it appears (a password inside a
command, a label or a URL in another variable) by a keyed digest of that string
(:class:`stackctl.core.redact.Secrets`), and hashes the result. The finalized config is
what is stored in the ``io.stackctl.config`` label, diffed by the plan and shown.

``legacy_hash`` is the hash the same config had under the unkeyed digests of earlier
versions: a unit labelled with it is unchanged (the planners accept either), so upgrading
does not replace every container that holds a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from stackctl.core.labels import canonical_json, drop_empty, sha256
from stackctl.core.redact import Secrets, legacy_redact

C = TypeVar("C", bound=Mapping[str, object])  # a backend's typed config (a TypedDict)


@dataclass(frozen=True)
class Finalized(Generic[C]):
    config: dict[str, Any]  # canonical, secrets redacted: stored, diffed, shown
    json: str  # its canonical JSON (the label's value)
    hash: str  # SHA-256 of that JSON
    real: C  # the same config with real values, empty ones dropped: what the engine sends
    legacy_hash: str = ""  # the hash under the unkeyed digests of earlier versions


def finalize(raw: C, secrets: Secrets, sensitive_env: Iterable[str] = ()) -> Finalized[C]:
    """``sensitive_env``: keys of ``raw["env"]`` shown as digests whatever their value."""
    real = cast(C, drop_empty(raw))
    hidden = frozenset(sensitive_env)
    if not secrets.values and not hidden:  # nothing to redact: one JSON, one hash
        text = canonical_json(real)
        digest = sha256(text)
        return Finalized(dict(real), text, digest, real, digest)
    config = secrets.data(real, hidden)
    text = canonical_json(config)
    legacy = legacy_redact(real, secrets.values, hidden)
    return Finalized(config, text, sha256(text), real, sha256(canonical_json(legacy)))
