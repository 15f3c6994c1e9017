"""The one-way flow the commands share: load → validate → desire → observe → plan.

Each step is its own module; this file only strings them together so that every command,
``validate`` included, runs them the same way through one backend, chosen here once.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackctl.errors import Diagnostic, InvalidStackError, StackctlError
from stackctl.model import Stack
from stackctl.order import order_stacks

if TYPE_CHECKING:  # validate, import and schema never load the planner (start-up time)
    from stackctl.core.backend import AnyBackend
    from stackctl.core.plan import Plan
    from stackctl.load.options import LoadOptions


@dataclass(frozen=True)
class Checked:
    """What loading and validating found: the stacks (in apply order when valid), every
    diagnostic, and the backend the run uses."""

    stacks: tuple[Stack, ...]
    diagnostics: tuple[Diagnostic, ...]
    backend: AnyBackend | None
    desired: Any = None  # the backend's desired state, when valid

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading, validating and planning make a few hundred thousand small objects (a
    1000-service compose file; a daemon's answers) and leave no garbage cycles worth
    finding: Python's cyclic collector, which runs every 700 new objects and now and then
    rescans everything alive, cost up to a quarter of that CPU. It is paused meanwhile
    (reference counting still frees all else), and runs as before afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_collector_paused()
def check(
    paths: Sequence[Path], *, engine: str = "docker", options: LoadOptions | None = None
) -> Checked:
    """Load and validate for ``engine``, without a daemon and without raising for a bad
    stack: what ``plan`` would refuse before it reads the daemon, ``validate`` reports."""
    from stackctl.load import load_paths

    try:
        stacks = load_paths(list(paths), options)
    except InvalidStackError as e:
        if not e.partial:
            return Checked((), tuple(e.diagnostics), None)
        # Stacks that loaded despite an error (no name): their other findings too.
        from stackctl.rules import resolve_engine, validate

        name, _ = resolve_engine(engine, e.partial)
        found = [d for d in validate(e.partial, engine=name) if d not in e.diagnostics]
        return Checked((), (*e.diagnostics, *found), None)
    except StackctlError as e:  # a path that is not a stack at all
        return Checked((), (Diagnostic("error", e.message, hint=e.hint, code="load"),), None)
    return _validated(stacks, engine)


def validated(stacks: list[Stack], engine: str = "docker") -> Checked:
    """The rules and the backend's desired state for stacks loaded already (``import``)."""
    return _validated(stacks, engine)


def _validated(stacks: list[Stack], engine: str) -> Checked:
    """The engine's rules run, and so does the backend's ``desire`` (env files and secret
    files are read there), so a stack that validates also plans."""
    from stackctl.backends import backend_named
    from stackctl.rules import resolve_engine, validate

    name, conflicts = resolve_engine(engine, stacks)
    diagnostics = [*validate(stacks, engine=name), *conflicts]  # the engine's rules too
    backend = backend_named(name)
    if any(d.severity == "error" for d in diagnostics):
        return Checked(tuple(stacks), tuple(diagnostics), backend)
    ordered = order_stacks(stacks).stacks
    try:
        desired = backend.desire(ordered)
    except InvalidStackError as e:
        return Checked(tuple(stacks), (*diagnostics, *e.diagnostics), backend)
    return Checked(tuple(ordered), tuple(diagnostics), backend, desired)


@dataclass(frozen=True)
class Loaded:
    stacks: tuple[Stack, ...]  # in apply order
    warnings: tuple[Diagnostic, ...]
    backend: AnyBackend  # resolved from --engine and the stacks' own `engine:`
    desired: Any  # the backend's desired state of the stacks

    @property
    def engine(self) -> str:
        return self.backend.name


@_collector_paused()
def load(
    paths: Sequence[Path],
    *,
    strict: bool = False,
    engine: str = "docker",
    options: LoadOptions | None = None,
) -> Loaded:
    """Load and validate; raises InvalidStackError with every finding when invalid."""
    from stackctl.load import load_paths

    checked = _validated(load_paths(list(paths), options), engine)  # a load error raises
    warned = any(d.severity == "warning" for d in checked.diagnostics)
    if checked.errors or (strict and warned) or checked.backend is None:
        raise InvalidStackError(list(checked.diagnostics))
    return Loaded(checked.stacks, checked.diagnostics, checked.backend, checked.desired)


@dataclass(frozen=True)
class Planned:
    desired: Any  # the backend's desired state
    observed: Any  # the backend's observed state
    plan: Plan


@_collector_paused()  # the daemon's answers are many small objects too
def make_plan(
    loaded: Loaded,
    engine: Any,
    *,
    prune: bool = False,
    destroy: bool = False,
    volumes: bool = False,
    targets: Sequence[str] = (),
    replace: Sequence[str] = (),
    wait: bool = True,
    rollback: bool = True,
    no_build: bool = False,
    pull: bool = False,
    adopt: bool = False,
) -> Planned:
    """``engine``: what ``loaded.backend.connect()`` returned. ``targets``: plan only these
    services and what they depend on (``--target``); ``replace``: services recreated even
    when in sync (``--replace``); ``no_build``: never build an image (one that is missing
    is a plan error); ``pull``: ask the registry for every image's current digest (else
    only for ``pull_policy: always`` ones); ``adopt``: take over a docker compose project
    of a stack's name (``--adopt``)."""
    from stackctl import targets as targeting

    backend, desired = loaded.backend, loaded.desired
    wanted = targeting.resolve(loaded.stacks, targets, "--target")  # before the daemon
    forced = targeting.resolve(loaded.stacks, replace, "--replace")
    if destroy:
        observed = backend.observe(engine)
        return Planned(desired, observed, backend.plan_destroy(desired, observed, volumes=volumes))
    registry = desired.images if pull else desired.always_pulled
    observed = backend.observe(engine, desired.stacks, registry)  # their units' settings too
    plan = backend.plan(
        desired,
        observed,
        prune=prune,
        replace=forced,
        wait=wait,
        rollback=rollback,
        no_build=no_build,
        adopt=adopt,
    )
    if targets:
        plan = targeting.partial(plan, targeting.with_dependencies(loaded.stacks, wanted), targets)
    return Planned(desired, observed, plan)
