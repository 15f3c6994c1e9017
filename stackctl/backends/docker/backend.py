"""The docker backend: the seam's implementation for containers on one Docker host."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from stackctl.backends.docker import desired, observe, plan, status, wait
from stackctl.backends.docker.observe import ObservedState
from stackctl.backends.docker.run import ContainerRunner
from stackctl.core.backend import wait_healthy
from stackctl.core.plan import Plan
from stackctl.core.run import Runner, RunOptions, Waiter
from stackctl.core.status import StatusTable
from stackctl.engine.docker import DockerEngine
from stackctl.model import Stack


class DockerBackend:
    name = "docker"

    def connect(self) -> DockerEngine:
        return DockerEngine()

    def desire(self, stacks: Sequence[Stack]) -> desired.DesiredState:
        return desired.desire(stacks)

    def observe(self, engine: DockerEngine) -> ObservedState:
        return observe.observe(engine)

    def plan(self, want: desired.DesiredState, have: ObservedState, *, prune: bool) -> Plan:
        return plan.plan(want, have, prune=prune)

    def plan_destroy(
        self, want: desired.DesiredState, have: ObservedState, *, volumes: bool
    ) -> Plan:
        return plan.plan_destroy(want, have, volumes=volumes)

    def waiter(self, engine: DockerEngine, cancel: threading.Event | None = None) -> Waiter:
        return wait.EventWaiter(engine, cancel)

    def runner(self, engine: DockerEngine, options: RunOptions) -> Runner:
        return ContainerRunner(engine, options)

    def wait_ready(
        self, want: desired.DesiredState, engine: DockerEngine, deadline: float
    ) -> list[str]:
        return wait_healthy(want.containers, wait.EventWaiter(engine), deadline)

    def status(self, stacks: Sequence[Stack], engine: DockerEngine) -> StatusTable:
        return status.status_table(stacks, observe.observe(engine))
