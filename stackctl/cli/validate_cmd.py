"""``stackctl validate PATH... [--strict] [--json] [--engine E]``: check stacks without a daemon.

Prints every problem with its file, line and attribute path, then (for a valid set) the
order the stacks apply in and the external networks that must already exist. Exit 0 when
valid, 1 when not (or, with ``--strict``, when there are warnings). The rules are those of
the run's engine: ``--engine``, or the one the stacks name (``engine: swarm``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from stackctl import pipeline
from stackctl.cli import app
from stackctl.cli.common import Engine, Files, Paths, Profiles, load_options
from stackctl.core.redact import redact_path
from stackctl.errors import Diagnostic
from stackctl.load.options import LoadOptions
from stackctl.model import Stack
from stackctl.order import StackOrder, order_stacks


@dataclass
class Report:
    """What validate found: the stacks, every diagnostic and (when valid) the order."""

    stacks: list[Stack]
    diagnostics: list[Diagnostic]
    order: StackOrder | None = None
    strict: bool = False
    errors: int = field(init=False)
    warnings: int = field(init=False)
    acknowledged: int = field(init=False)  # warnings a service accepts (acknowledge=)

    def __post_init__(self) -> None:
        self.errors = sum(1 for d in self.diagnostics if d.severity == "error")
        self.warnings = sum(1 for d in self.diagnostics if d.severity == "warning")
        self.acknowledged = sum(1 for d in self.diagnostics if d.severity == "acknowledged")

    @property
    def ok(self) -> bool:
        """Valid, and with ``--strict`` also free of warnings."""
        return self.errors == 0 and not (self.strict and self.warnings)


def check(
    paths: Sequence[Path],
    *,
    strict: bool = False,
    engine: str = "docker",
    options: LoadOptions | None = None,
) -> Report:
    """What ``plan`` would refuse before it reads the daemon (pipeline.check: the same load,
    rules and desired state); a stack that does not load becomes diagnostics."""
    checked = pipeline.check(paths, engine=engine, options=options)
    order = None if checked.errors or not checked.stacks else order_stacks(checked.stacks)
    return Report(list(checked.stacks), list(checked.diagnostics), order, strict)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> str:
    """The last line: ``2 stacks valid (0 warnings)`` or what went wrong."""
    stacks = _plural(len(report.stacks), "stack")
    warnings = _plural(report.warnings, "warning")
    if report.acknowledged:
        warnings += f", {report.acknowledged} acknowledged"
    if report.errors:
        return f"invalid: {_plural(report.errors, 'error')}, {warnings}"
    if not report.ok:
        return f"{stacks} valid, but {warnings} (--strict fails on warnings)"
    return f"{stacks} valid ({warnings})"


def render_text(report: Report) -> list[str]:
    """The report for people, one entry per printed block."""
    out = [d.format() for d in report.diagnostics]
    if report.order is not None and report.order.stacks:
        out.append("Order: " + " -> ".join(report.order.names))
        for ext in report.order.unprovided:
            out.append(
                f"external network '{ext.name}' is not defined by any stack here; "
                f"it must exist on the daemon (used by {', '.join(ext.used_by)})"
            )
    out.append(summary(report))
    return out


def render_json(report: Report) -> str:
    """The report for programs."""
    order = report.order
    doc: dict[str, Any] = {
        "valid": report.errors == 0,
        "ok": report.ok,
        "strict": report.strict,
        "errors": report.errors,
        "warnings": report.warnings,
        "acknowledged": report.acknowledged,
        "stacks": [
            {"name": s.name, "file": str(s.origin) if s.origin else None} for s in report.stacks
        ],
        "order": order.names if order else None,
        "external_networks": (
            [{"name": e.name, "used_by": list(e.used_by)} for e in order.unprovided]
            if order
            else None
        ),
        "diagnostics": [
            {**asdict(d), "path": redact_path(d.path) if d.path else d.path}
            for d in report.diagnostics
        ],
    }
    return json.dumps(doc, indent=2)


@app.command("validate")
def validate_command(
    paths: Paths = None,
    files: Files = None,
    profiles: Profiles = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 1) on warnings too.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    engine: Engine = "docker",
) -> None:
    """Check stacks without a daemon: references, cycles, addresses, ports, risky settings."""
    options = load_options(files, profiles)
    report = check(paths or [], strict=strict, engine=engine, options=options)
    if as_json:
        typer.echo(render_json(report))
    else:
        for block in render_text(report):
            typer.echo(block)
    if not report.ok:
        raise typer.Exit(1)
