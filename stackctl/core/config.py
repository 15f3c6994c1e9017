"""Finalizing a canonical config: built once by a backend, finalized once here.

Finalizing drops empty values (so a new optional field does not change old hashes),
replaces every secret value wherever it appears (a password inside a command, a label or
a URL in another variable) by its digest, and hashes the result. The finalized config is
what is stored in the ``io.stackctl.config`` label, diffed by the plan and shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from stackctl.core.labels import canonical_json, drop_empty, sha256
from stackctl.core.redact import redact

C = TypeVar("C", bound=Mapping[str, object])  # a backend's typed config (a TypedDict)


@dataclass(frozen=True)
class Finalized(Generic[C]):
    config: dict[str, Any]  # canonical, secrets redacted: stored, diffed, shown
    json: str  # its canonical JSON (the label's value)
    hash: str  # SHA-256 of that JSON
    real: C  # the same config with real values, empty ones dropped: what the engine sends


def finalize(raw: C, secrets: Iterable[str]) -> Finalized[C]:
    real = cast(C, drop_empty(raw))
    config = redact(real, secrets)
    text = canonical_json(config)
    return Finalized(config, text, sha256(text), real)
