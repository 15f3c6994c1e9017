"""The one-way flow the commands share: load → validate → desire → observe → plan.

Each step is its own module; this file only strings them together so that every command
runs them the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stackctl.desired import DesiredState, desire
from stackctl.engine import DockerEngine
from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.model import Stack
from stackctl.observe import ObservedState, observe
from stackctl.order import order_stacks
from stackctl.plan import Plan, plan, plan_destroy
from stackctl.validate import validate


@dataclass(frozen=True)
class Loaded:
    stacks: tuple[Stack, ...]  # in apply order
    warnings: tuple[Diagnostic, ...]


def load(paths: Sequence[Path], *, strict: bool = False) -> Loaded:
    """Load and validate; raises InvalidStackError with every finding when invalid."""
    from stackctl.load import load_paths

    stacks = load_paths(list(paths))
    diagnostics = validate(stacks)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors or (strict and diagnostics):
        raise InvalidStackError(diagnostics)
    ordered = order_stacks(stacks)
    return Loaded(stacks=tuple(ordered.stacks), warnings=tuple(diagnostics))


@dataclass(frozen=True)
class Planned:
    desired: DesiredState
    observed: ObservedState
    plan: Plan


def make_plan(
    stacks: Sequence[Stack],
    engine: DockerEngine,
    *,
    prune: bool = False,
    destroy: bool = False,
    volumes: bool = False,
) -> Planned:
    desired = desire(stacks)
    observed = observe(engine)
    if destroy:
        return Planned(desired, observed, plan_destroy(desired, observed, volumes=volumes))
    return Planned(desired, observed, plan(desired, observed, prune=prune))
