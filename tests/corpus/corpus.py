"""The compose corpus: real compose files from public repositories (tests/corpus/files, sources
in SOURCES.csv), each validated the way ``stackctl validate FILE`` does, and the outcome
reduced to a set of refusal keys that tests/corpus/expected.yaml records per file.

A refusal key names what refused the file, not the wording: ``unsupported: build`` (a
Compose key stackctl does not honour), ``required: image``, ``interpolation: required
variable``, or a rule id (``bind-outside-stack``). ``triage.py`` regenerates the table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stackctl import pipeline
from stackctl.errors import Diagnostic

HERE = Path(__file__).parent
FILES = HERE / "files"
EXPECTED = HERE / "expected.yaml"

REASONS = ("real-error", "single-host-impossible", "unsupported-yet", "wrong-refusal")
"""Why a file is refused: an error in the file as written (Compose refuses it too, or it
cannot run as written); a feature one Docker host cannot provide; a Compose feature stackctl
does not support yet (``pending: <branch>`` in the note when another branch lands it); a
refusal of valid Compose that no planned work covers (a bug to fix)."""

_UNSUPPORTED = re.compile(r"^`([^`]+)` is not supported by stackctl")
_UNKNOWN = re.compile(r"^unknown field `([^`]+)`")
_REQUIRED = re.compile(r"^`([^`]+)` is required$")
_UNSET_REQUIRED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]* is required")


def corpus_files() -> list[str]:
    """Every compose file of the corpus, as a path relative to ``files/``."""
    return sorted(
        str(p.relative_to(FILES))
        for p in FILES.rglob("*")
        if p.is_file() and p.suffix in (".yml", ".yaml")
    )


def refusal_key(d: Diagnostic) -> str:
    """What refused a file, in words that do not change with the file's values."""
    m = _UNSUPPORTED.match(d.message)
    if m:
        return f"unsupported: {m.group(1)}"
    m = _UNKNOWN.match(d.message)
    if m:
        return f"unknown field: {m.group(1)}"
    if d.code != "invalid":
        return d.code
    m = _REQUIRED.match(d.message)
    if m:
        return f"required: {m.group(1)}"
    if _UNSET_REQUIRED.match(d.message):
        return "interpolation: required variable"
    if d.message.startswith("invalid '${'") or d.message.startswith("invalid reference"):
        return "interpolation: syntax"
    text = re.sub(r"^\[.*\] ", "", d.message)  # a JSON Schema message quoting the value
    text = re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "…", text)
    return "invalid: " + text.split(" (")[0].split(":")[0][:70]


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """The process environment with ``values`` set, restored afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass(frozen=True)
class Outcome:
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def refused(self) -> list[str]:
        return sorted({refusal_key(d) for d in self.errors})


def validate(rel: str, env: Mapping[str, str] | None = None) -> Outcome:
    """``stackctl validate files/REL`` in-process (the command's own code path)."""
    with environment(env or {}):
        checked = pipeline.check([FILES / rel], engine="docker")
    return Outcome(checked.diagnostics)


def load_expected() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(EXPECTED.read_text(encoding="utf-8")) if EXPECTED.exists() else None
    return dict(data or {})
