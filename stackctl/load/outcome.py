"""What loading one source produced, and where a finding sits: the part of loading that
every kind of input shares. It imports no YAML parser, so loading a Python stack does not
pay for one (start-up time; YAML and Compose input lives in :mod:`stackctl.load.documents`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from stackctl.core.dotenv import Variables
from stackctl.core.interpolate import TreeResult
from stackctl.errors import Diagnostic
from stackctl.model import Stack


@dataclass
class Outcome:
    """What loading one source produced: stacks, and every finding (errors and warnings)."""

    stacks: list[Stack] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    partial: list[Stack] = field(default_factory=list)  # loaded despite an error (no name)

    @property
    def failed(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


def dotted(path: Sequence[str | int]) -> str:
    """``("services", "db", "ports", 0)`` -> ``"services.db.ports.0"``."""
    return ".".join(map(str, path))


def nearest_line(lines: Mapping[str, int], path: Sequence[str | int]) -> int | None:
    """``lines[dotted(path)]``, or the line of the nearest ancestor of ``path`` that has one."""
    parts = [str(p) for p in path]
    while parts:
        line = lines.get(".".join(parts))
        if line is not None:
            return line
        parts.pop()
    return None


def interpolation_diagnostics(
    result: TreeResult,
    variables: Variables,
    file: str,
    line_of: Callable[[Sequence[str | int]], int | None],
) -> list[Diagnostic]:
    """A ``${...}`` that cannot be expanded is an error; an unset variable a warning."""
    out: list[Diagnostic] = []
    for err in result.errors:
        hint = variables.where_to_set(err.variable) if err.variable else None
        out.append(
            Diagnostic("error", err.message, file, line_of(err.path), dotted(err.path), hint)
        )
    for warn in result.unset:
        out.append(
            Diagnostic(
                "warning",
                warn.message,
                file,
                line_of(warn.path),
                dotted(warn.path),
                variables.where_to_set(warn.variable or ""),
                code="unset-variable",
            )
        )
    return out
