"""The docker backend: the seam's implementation for containers on one Docker host."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from stackctl.backends.docker import desired
from stackctl.model import Stack

# Only what validate needs is imported here; the daemon's side (the docker SDK, about 0.1 s
# of start-up) loads when a command first connects.
if TYPE_CHECKING:
    from stackctl.backends.docker.observe import ObservedState
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
        from stackctl.backends.docker.observe import observe

        return observe(engine, inspect, registry)

    def plan(self, want: desired.DesiredState, have: ObservedState, *, prune: bool) -> Plan:
        from stackctl.backends.docker.plan import plan

        return plan(want, have, prune=prune)

    def plan_destroy(
        self, want: desired.DesiredState, have: ObservedState, *, volumes: bool
    ) -> Plan:
        from stackctl.backends.docker.plan import plan_destroy

        return plan_destroy(want, have, volumes=volumes)

    def waiter(self, engine: DockerEngine, cancel: threading.Event | None = None) -> Waiter:
        from stackctl.backends.docker.wait import EventWaiter

        return EventWaiter(engine, cancel)

    def runner(self, engine: DockerEngine, options: RunOptions) -> Runner:
        from stackctl.backends.docker.run import ContainerRunner

        return ContainerRunner(engine, options)

    def wait_ready(
        self, want: desired.DesiredState, engine: DockerEngine, deadline: float
    ) -> list[str]:
        from stackctl.core.backend import wait_healthy

        return wait_healthy(want.containers, self.waiter(engine), deadline)

    def status(self, want: desired.DesiredState, engine: DockerEngine) -> StatusTable:
        from stackctl.backends.docker.status import status_table

        return status_table(want, self.observe(engine, want.stacks))
