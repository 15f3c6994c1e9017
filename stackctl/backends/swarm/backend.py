"""The swarm backend: the seam's implementation for services on a swarm manager."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from stackctl.backends.swarm import desired, observe, plan, status
from stackctl.backends.swarm.observe import SwarmObservedState
from stackctl.backends.swarm.run import ServiceRunner
from stackctl.core.backend import wait_healthy
from stackctl.core.plan import Plan
from stackctl.core.run import Runner, RunOptions, Waiter
from stackctl.core.status import StatusTable
from stackctl.engine.swarm import SwarmEngine, SwarmWaiter
from stackctl.model import Stack


class SwarmBackend:
    name = "swarm"

    def connect(self) -> SwarmEngine:
        return SwarmEngine()

    def desire(self, stacks: Sequence[Stack]) -> desired.SwarmDesiredState:
        return desired.desire_swarm(stacks)

    def observe(self, engine: SwarmEngine) -> SwarmObservedState:
        return observe.observe_swarm(engine)

    def plan(
        self, want: desired.SwarmDesiredState, have: SwarmObservedState, *, prune: bool
    ) -> Plan:
        return plan.plan_swarm(want, have, prune=prune)

    def plan_destroy(
        self, want: desired.SwarmDesiredState, have: SwarmObservedState, *, volumes: bool
    ) -> Plan:
        return plan.plan_swarm_destroy(want, have, volumes=volumes)

    def waiter(self, engine: SwarmEngine, cancel: threading.Event | None = None) -> Waiter:
        return SwarmWaiter(engine, cancel)

    def runner(self, engine: SwarmEngine, options: RunOptions) -> Runner:
        return ServiceRunner(engine, options)

    def wait_ready(
        self, want: desired.SwarmDesiredState, engine: SwarmEngine, deadline: float
    ) -> list[str]:
        """Every service with a health check has all its tasks running and healthy (Swarm
        reports a task with a health check as running only once it is healthy)."""
        return wait_healthy(want.services, SwarmWaiter(engine), deadline)

    def status(self, stacks: Sequence[Stack], engine: SwarmEngine) -> StatusTable:
        return status.status_table(stacks, observe.observe_swarm(engine))
