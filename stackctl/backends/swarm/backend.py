"""The swarm backend: the seam's implementation for services on a swarm manager."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from stackctl.backends.swarm import desired
from stackctl.model import Stack

# Only what validate needs is imported here; the daemon's side (the docker SDK, about 0.1 s
# of start-up) loads when a command first connects.
if TYPE_CHECKING:
    from stackctl.backends.swarm.observe import SwarmObservedState
    from stackctl.core.daytwo import LogSource, OneOffOptions, ProcessOptions
    from stackctl.core.plan import Plan
    from stackctl.core.run import Runner, RunOptions, Waiter
    from stackctl.core.status import StatusTable
    from stackctl.engine.swarm import SwarmEngine


class SwarmBackend:
    name = "swarm"

    def connect(self) -> SwarmEngine:
        from stackctl.engine.swarm import SwarmEngine

        return SwarmEngine()

    def desire(self, stacks: Sequence[Stack]) -> desired.SwarmDesiredState:
        return desired.desire_swarm(stacks)

    def observe(
        self, engine: SwarmEngine, inspect: Sequence[str] = (), registry: Sequence[str] = ()
    ) -> SwarmObservedState:
        """Service specs come whole in the list: nothing more to inspect; the swarm
        resolves image digests itself at each update (``registry`` is not asked)."""
        from stackctl.backends.swarm.observe import observe_swarm

        return observe_swarm(engine)

    def plan(
        self,
        want: desired.SwarmDesiredState,
        have: SwarmObservedState,
        *,
        prune: bool,
        replace: AbstractSet[tuple[str, str]] = frozenset(),
        wait: bool = True,
        rollback: bool = True,
        no_build: bool = False,  # nothing is built for a swarm (rule swarm-build)
        adopt: bool = False,
    ) -> Plan:
        """``wait``, ``rollback``: Swarm's own rolling update (update_config) decides."""
        from stackctl.backends.swarm.plan import plan_swarm

        if adopt:  # a compose project's containers are not swarm services
            what = "stackctl plan/apply --adopt"
            raise _unsupported(what, "adopt it with --engine docker, or `docker compose down` it")
        if replace:
            what = "stackctl plan/apply --replace"
            raise _unsupported(what, "docker service update --force NAME")
        return plan_swarm(want, have, prune=prune)

    def plan_destroy(
        self, want: desired.SwarmDesiredState, have: SwarmObservedState, *, volumes: bool
    ) -> Plan:
        from stackctl.backends.swarm.plan import plan_swarm_destroy

        return plan_swarm_destroy(want, have, volumes=volumes)

    def waiter(self, engine: SwarmEngine, cancel: threading.Event | None = None) -> Waiter:
        from stackctl.engine.swarm import SwarmWaiter

        return SwarmWaiter(engine, cancel)

    def runner(self, engine: SwarmEngine, options: RunOptions, waiter: Waiter) -> Runner:
        from stackctl.backends.swarm.run import ServiceRunner

        return ServiceRunner(engine, options)

    def wait_ready(
        self, want: desired.SwarmDesiredState, engine: SwarmEngine, deadline: float
    ) -> list[str]:
        """Every service with a health check has all its tasks running and healthy (Swarm
        reports a task with a health check as running only once it is healthy)."""
        from stackctl.core.backend import wait_healthy

        return wait_healthy(want.services, self.waiter(engine), deadline)

    def status(self, want: desired.SwarmDesiredState, engine: SwarmEngine) -> StatusTable:
        from stackctl.backends.swarm.status import status_table

        return status_table(want, self.observe(engine))

    # Day two: not offered on a swarm yet (each names what to run instead).

    def log_sources(
        self,
        want: desired.SwarmDesiredState,
        engine: SwarmEngine,
        services: AbstractSet[tuple[str, str]],
    ) -> list[LogSource]:
        raise _unsupported("stackctl logs", "docker service logs -f NAME")

    def exec(
        self,
        want: desired.SwarmDesiredState,
        engine: SwarmEngine,
        service: tuple[str, str],
        index: int,
        options: ProcessOptions,
    ) -> int:
        raise _unsupported("stackctl exec", "docker exec on the node that runs the task")

    def run_one_off(
        self,
        want: desired.SwarmDesiredState,
        engine: SwarmEngine,
        service: tuple[str, str],
        options: OneOffOptions,
    ) -> int:
        raise _unsupported("stackctl run", "docker run on a node, on the stack's network")

    def plan_restart(
        self,
        want: desired.SwarmDesiredState,
        have: SwarmObservedState,
        services: AbstractSet[tuple[str, str]],
    ) -> Plan:
        raise _unsupported("stackctl restart", "docker service update --force NAME")


def _unsupported(what: str, instead: str) -> Exception:
    from stackctl.core.backend import unsupported

    return unsupported(what, SwarmBackend.name, instead)
