"""Which engine a run uses: ``--engine``, or the engine the stacks themselves name."""

from __future__ import annotations

from collections.abc import Sequence

from stackctl.errors import Diagnostic
from stackctl.model import Stack
from stackctl.rules.core import ERROR, diagnostic


def resolve_engine(requested: str, stacks: Sequence[Stack]) -> tuple[str, list[Diagnostic]]:
    """The run's engine: ``--engine swarm`` or stacks that all say ``engine: swarm``.

    (``--engine docker`` is the default, so a stack's own ``engine:`` wins over it.)
    Stacks of one run that name different engines are an error (``engine-conflict``).
    """
    declared = {s.engine for s in stacks if s.engine}
    if requested == "swarm":
        wrong = [s for s in stacks if s.engine == "docker"]
        return "swarm", [
            diagnostic(
                s,
                ERROR,
                "engine-conflict",
                "engine",
                f"stack {s.name!r} says engine: docker but --engine swarm was given",
                "remove the stack's engine: line, or run without --engine swarm",
            )
            for s in wrong
        ]
    if len(declared) > 1:
        return requested, [
            diagnostic(
                s,
                ERROR,
                "engine-conflict",
                "engine",
                f"stack {s.name!r} says engine: {s.engine}, but stacks of one run must share "
                "an engine",
                "apply the docker and the swarm stacks in separate runs",
            )
            for s in stacks
            if s.engine
        ]
    if declared == {"swarm"}:
        return "swarm", []
    return requested, []
