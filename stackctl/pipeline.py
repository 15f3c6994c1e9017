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
    engine: str = "docker"  # resolved from --engine and the stacks' own `engine:`


def load(paths: Sequence[Path], *, strict: bool = False, engine: str = "docker") -> Loaded:
    """Load and validate; raises InvalidStackError with every finding when invalid."""
    from stackctl.load import load_paths
    from stackctl.swarm.validate import resolve_engine, validate_swarm

    stacks = load_paths(list(paths))
    diagnostics = validate(stacks)
    engine, conflicts = resolve_engine(engine, stacks)
    diagnostics = [*diagnostics, *conflicts]
    if engine == "swarm":  # fields Swarm cannot honour, by name
        diagnostics += validate_swarm(stacks)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors or (strict and diagnostics):
        raise InvalidStackError(diagnostics)
    ordered = order_stacks(stacks)
    return Loaded(stacks=tuple(ordered.stacks), warnings=tuple(diagnostics), engine=engine)


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
    desired: DesiredState
    observed: ObservedState
    if engine.name == "swarm":  # services on a swarm: stackctl/swarm/ (imported only then)
        from stackctl.engine.swarm import SwarmEngine
        from stackctl.swarm.desired import desire_swarm
        from stackctl.swarm.observe import observe_swarm

        assert isinstance(engine, SwarmEngine)
        desired, observed = desire_swarm(stacks), observe_swarm(engine)
    else:
        desired, observed = desire(stacks), observe(engine)
    if destroy:
        return Planned(desired, observed, plan_destroy(desired, observed, volumes=volumes))
    return Planned(desired, observed, plan(desired, observed, prune=prune))
