"""Finalizing a canonical config: built once by a backend, finalized once here.

Finalizing drops empty values (so a new optional field does not change old hashes),
replaces every secret value wherever it appears (a password inside a command, a label or
a URL in another variable) by its digest, and hashes the result. The finalized config is
what is stored in the ``io.stackctl.config`` label, diffed by the plan and shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stackctl.core.labels import canonical_json, drop_empty, sha256
from stackctl.core.redact import redact


@dataclass(frozen=True)
class Finalized:
    config: dict[str, Any]  # canonical, secrets redacted: stored, diffed, shown
    json: str  # its canonical JSON (the label's value)
    hash: str  # SHA-256 of that JSON


def finalize(raw: Mapping[str, Any], secrets: Iterable[str]) -> Finalized:
    config = redact(drop_empty(raw), secrets)
    text = canonical_json(config)
    return Finalized(config, text, sha256(text))
