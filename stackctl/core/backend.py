"""The backend seam: what an engine (one Docker host, a swarm) implements.

The pipeline picks one backend per run (:func:`stackctl.backends.backend_named`) and every
command goes through it; the core imports no backend. A backend turns validated stacks
into its desired state, reads the daemon into its observed state (a constant number of
list calls), plans between them with the core's plan builder, and supplies the waits, the
runner of the operations on its kind of unit (containers, services) and their status table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Protocol, TypeVar

from stackctl.core.daytwo import LogSource, OneOffOptions, ProcessOptions
from stackctl.core.plan import Plan
from stackctl.core.resources import DesiredResources, ObservedResources
from stackctl.core.run import Runner, RunOptions, Waiter
from stackctl.core.status import StatusTable
from stackctl.errors import StackctlError
from stackctl.model import Condition, Stack

DesiredT = TypeVar("DesiredT", bound=DesiredResources)
ObservedT = TypeVar("ObservedT", bound=ObservedResources)
EngineT = TypeVar("EngineT")


class Checked(Protocol):
    """A container or service that may have a health check."""

    @property
    def name(self) -> str: ...
    @property
    def has_healthcheck(self) -> bool: ...


def wait_healthy(units: Iterable[Checked], waiter: Waiter, deadline: float) -> list[str]:
    """``apply --wait``: wait for every unit with a health check to be healthy; the
    failures as ``name: why``."""
    failures: list[str] = []
    for unit in units:
        if not unit.has_healthcheck:
            continue
        try:
            waiter.wait_for(unit.name, Condition.HEALTHY, deadline, lambda _t: None)
        except StackctlError as e:
            failures.append(f"{unit.name}: {e.message}")
    return failures


def unsupported(what: str, engine: str, instead: str) -> StackctlError:
    """The error of a command (or option) an engine does not offer: what, which engine,
    and what to run instead."""
    return StackctlError(
        f"{what} is not supported on the {engine} engine", hint=f"instead: {instead}"
    )


class Backend(Protocol[DesiredT, ObservedT, EngineT]):
    name: str  # "docker" | "swarm": the value of --engine and of a stack's `engine:`

    def connect(self) -> EngineT:
        """The daemon (raises DaemonUnavailableError if none answers)."""
        ...

    def desire(self, stacks: Sequence[Stack]) -> DesiredT:
        """Pure but for reading env and secret files; raises InvalidStackError."""
        ...

    def observe(
        self, engine: EngineT, inspect: Sequence[str] = (), registry: Sequence[str] = ()
    ) -> ObservedT:
        """``inspect``: stacks whose units are read in more detail than the lists give
        (the docker backend: its containers' restart policy and limits, for drift);
        ``registry``: images whose registry digest is asked for (``--pull``)."""
        ...

    def plan(
        self,
        desired: DesiredT,
        observed: ObservedT,
        *,
        prune: bool,
        replace: AbstractSet[tuple[str, str]] = frozenset(),
        wait: bool = True,
        rollback: bool = True,
        no_build: bool = False,
        adopt: bool = False,
    ) -> Plan:
        """``replace``: (stack, service) pairs to recreate even when in sync (--replace);
        ``wait``: replacements waited for before the old unit goes; ``rollback``: a failed
        one undone (where the backend replaces units itself); ``no_build``: build no image
        (the docker backend; a swarm builds none); ``adopt``: take over a docker compose
        project of a stack's name (the docker backend; refused by the others)."""
        ...

    def plan_destroy(self, desired: DesiredT, observed: ObservedT, *, volumes: bool) -> Plan: ...

    def waiter(self, engine: EngineT, cancel: threading.Event | None = None) -> Waiter: ...

    def runner(self, engine: EngineT, options: RunOptions, waiter: Waiter) -> Runner:
        """Runs the operations on this backend's units (the kinds that are not shared:
        stackctl.core.run.SHARED_KINDS), each by the steps its plan names."""
        ...

    def wait_ready(self, desired: DesiredT, engine: EngineT, deadline: float) -> list[str]:
        """``apply --wait``: every unit with a health check healthy; the failures, if any."""
        ...

    def status(self, desired: DesiredT, engine: EngineT) -> StatusTable:
        """Each unit's state and whether it matches (``stackctl status``)."""
        ...

    # Day two (stackctl logs, exec, run, restart): services as (stack, service) pairs. An
    # engine that does not offer one raises ``unsupported(...)``.

    def log_sources(
        self, desired: DesiredT, engine: EngineT, services: AbstractSet[tuple[str, str]]
    ) -> list[LogSource]: ...

    def exec(
        self,
        desired: DesiredT,
        engine: EngineT,
        service: tuple[str, str],
        index: int,
        options: ProcessOptions,
    ) -> int:
        """Run a command in a running unit of ``service``; its exit code."""
        ...

    def run_one_off(
        self, desired: DesiredT, engine: EngineT, service: tuple[str, str], options: OneOffOptions
    ) -> int:
        """A one-off unit of ``service`` running a command; its exit code."""
        ...

    def plan_restart(
        self, desired: DesiredT, observed: ObservedT, services: AbstractSet[tuple[str, str]]
    ) -> Plan:
        """Restart the units of ``services`` in dependency order, with the waits."""
        ...


AnyBackend = Backend[Any, Any, Any]
