"""The docker backend: the seam's implementation for containers on one Docker host."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from stackctl.backends.docker import desired
from stackctl.model import Stack

# Only what validate needs is imported here; the daemon's side (the docker SDK, about 0.1 s
# of start-up) loads when a command first connects.
if TYPE_CHECKING:
    from stackctl.backends.docker.observe import ObservedState
    from stackctl.core.daytwo import LogSource, OneOffOptions, ProcessOptions
    from stackctl.core.plan import Plan
    from stackctl.core.run import Runner, RunOptions, Waiter
    from stackctl.core.status import StatusTable
    from stackctl.engine.docker import DockerEngine


class DockerBackend:
    name = "docker"

    def connect(self) -> DockerEngine:
        from stackctl.engine.docker import DockerEngine

        return DockerEngine()

    def desire(self, stacks: Sequence[Stack]) -> desired.DesiredState:
        return desired.desire(stacks)

    def observe(
        self, engine: DockerEngine, inspect: Sequence[str] = (), registry: Sequence[str] = ()
    ) -> ObservedState:
        """``inspect``: the stacks whose containers' settings are read (the plan's);
        ``registry``: the images whose current digest the registry is asked for."""
        from stackctl.backends.docker.adopt import owned
        from stackctl.backends.docker.observe import observe

        # what docker compose made for a stack that adopted it counts as the stack's
        return owned(observe(engine, inspect, registry))

    def plan(
        self,
        want: desired.DesiredState,
        have: ObservedState,
        *,
        prune: bool,
        replace: AbstractSet[tuple[str, str]] = frozenset(),
        wait: bool = True,
        rollback: bool = True,
        no_build: bool = False,
        adopt: bool = False,
    ) -> Plan:
        from stackctl.backends.docker.plan import plan

        return plan(
            want,
            have,
            prune=prune,
            replace=replace,
            wait=wait,
            rollback=rollback,
            no_build=no_build,
            adopt=adopt,
        )

    def plan_destroy(
        self, want: desired.DesiredState, have: ObservedState, *, volumes: bool
    ) -> Plan:
        from stackctl.backends.docker.plan import plan_destroy

        return plan_destroy(want, have, volumes=volumes)

    def waiter(self, engine: DockerEngine, cancel: threading.Event | None = None) -> Waiter:
        from stackctl.backends.docker.wait import EventWaiter

        return EventWaiter(engine, cancel)

    def runner(self, engine: DockerEngine, options: RunOptions, waiter: Waiter) -> Runner:
        from stackctl.backends.docker.run import ContainerRunner

        return ContainerRunner(engine, options, waiter)

    def wait_ready(
        self, want: desired.DesiredState, engine: DockerEngine, deadline: float
    ) -> list[str]:
        from stackctl.core.backend import wait_healthy

        return wait_healthy(want.containers, self.waiter(engine), deadline)

    def status(self, want: desired.DesiredState, engine: DockerEngine) -> StatusTable:
        from stackctl.backends.docker.status import status_table

        return status_table(want, self.observe(engine, want.stacks))

    def log_sources(
        self,
        want: desired.DesiredState,
        engine: DockerEngine,
        services: AbstractSet[tuple[str, str]],
    ) -> list[LogSource]:
        from stackctl.backends.docker.daytwo import log_sources

        return log_sources(want, self.observe(engine), engine, services)

    def exec(
        self,
        want: desired.DesiredState,
        engine: DockerEngine,
        service: tuple[str, str],
        index: int,
        options: ProcessOptions,
    ) -> int:
        from stackctl.backends.docker.daytwo import exec_in

        return exec_in(want, self.observe(engine), engine, service, index, options)

    def run_one_off(
        self,
        want: desired.DesiredState,
        engine: DockerEngine,
        service: tuple[str, str],
        options: OneOffOptions,
    ) -> int:
        from stackctl.backends.docker.daytwo import run_one_off

        return run_one_off(want, engine, service, options)

    def plan_restart(
        self,
        want: desired.DesiredState,
        have: ObservedState,
        services: AbstractSet[tuple[str, str]],
    ) -> Plan:
        from stackctl.backends.docker.daytwo import plan_restart

        return plan_restart(want, have, services)
