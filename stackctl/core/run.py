"""Running one operation: the seam between the executor (which only schedules) and an engine.

Every operation is run by a :class:`Runner` that does what the operation names and decides
nothing (the planner decided). The kinds both backends share (pulls, networks, volumes,
waits) are run here by :class:`SharedRunner`; each backend supplies the runner of its own
units (``Backend.runner``: containers on one host, swarm services), and
:class:`PlanRunner` sends each operation to the one that runs its kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from stackctl.core.plan import Kind, Operation
from stackctl.core.resources import DesiredNetwork, DesiredVolume
from stackctl.model import Condition

StepProgress = Callable[[str], None]  # what an operation is doing now ("starting")


class Waiter(Protocol):
    """Waits until a container (or service) meets a dependency condition, or raises."""

    def wait_for(
        self, name: str, condition: Condition, deadline: float, progress: Callable[[str], None]
    ) -> None: ...


class Runner(Protocol):
    """Runs one operation (its steps, in order) against the daemon, or raises."""

    def run(self, op: Operation, progress: StepProgress) -> None: ...


@dataclass(frozen=True)
class RunOptions:
    wait_timeout: float = 300.0  # seconds a wait (or a swarm rollout) may take
    stop_timeout: int = 10  # seconds a container has to stop before it is killed


class ResourceWriter(Protocol):
    """The writes the shared kinds make (both engines have them)."""

    def pull(self, image: str, progress: Callable[[str], None] | None = None) -> None: ...
    def create_network(self, net: DesiredNetwork) -> str: ...
    def remove_network(self, name: str) -> None: ...
    def connect(self, container: str, net: Any) -> None: ...
    def disconnect(self, container: str, network: str) -> None: ...
    def create_volume(self, vol: DesiredVolume) -> None: ...
    def remove_volume(self, name: str) -> None: ...


SHARED_KINDS = frozenset(
    {
        Kind.PULL,
        Kind.CREATE_NETWORK,
        Kind.REPLACE_NETWORK,
        Kind.REMOVE_NETWORK,
        Kind.CREATE_VOLUME,
        Kind.REMOVE_VOLUME,
        Kind.WAIT,
    }
)


@dataclass
class SharedRunner:
    """Pulls, networks, volumes and waits, the same for every backend."""

    engine: ResourceWriter
    waiter: Waiter
    options: RunOptions

    def run(self, op: Operation, progress: StepProgress) -> None:
        e = self.engine
        match op.kind:
            case Kind.PULL:
                progress("pulling")
                e.pull(op.resource, progress)
            case Kind.CREATE_NETWORK:
                assert op.network is not None
                e.create_network(op.network)
            case Kind.REPLACE_NETWORK:
                # the planner listed the containers to reconnect (none on a swarm)
                assert op.network is not None
                for container, _ in op.reconnect:
                    progress(f"disconnecting {container}")
                    e.disconnect(container, op.resource)
                e.remove_network(op.resource)
                e.create_network(op.network)
                for container, attach in op.reconnect:
                    progress(f"reconnecting {container}")
                    e.connect(container, attach)
            case Kind.REMOVE_NETWORK:
                e.remove_network(op.resource)
            case Kind.CREATE_VOLUME:
                assert op.volume is not None
                e.create_volume(op.volume)
            case Kind.REMOVE_VOLUME:
                e.remove_volume(op.resource)
            case Kind.WAIT:
                assert op.condition is not None
                deadline = time.time() + self.options.wait_timeout
                for name in op.wait_for:
                    self.waiter.wait_for(name, op.condition, deadline, progress)
            case _:
                raise AssertionError(f"{op.id}: {op.kind} is not a shared kind")


@dataclass
class PlanRunner:
    """Each operation to the runner of its kind: shared kinds here, units to the backend's."""

    shared: Runner
    units: Runner

    def run(self, op: Operation, progress: StepProgress) -> None:
        runner = self.shared if op.kind in SHARED_KINDS else self.units
        runner.run(op, progress)
