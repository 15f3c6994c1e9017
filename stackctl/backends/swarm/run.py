"""Running swarm service operations: each create or update waits for its rollout to
converge (or fail), bounded by --wait-timeout."""

from __future__ import annotations

import time
from dataclasses import dataclass

from stackctl.backends.swarm.desired import SwarmSecret, SwarmService
from stackctl.core.plan import Kind, Operation
from stackctl.core.run import RunOptions, StepProgress
from stackctl.engine.swarm import SwarmEngine


@dataclass
class ServiceRunner:
    engine: SwarmEngine
    options: RunOptions

    def run(self, op: Operation, progress: StepProgress) -> None:
        e = self.engine
        deadline = time.time() + self.options.wait_timeout
        match op.kind:
            case Kind.CREATE_SERVICE:
                e.create_service(_unit(op), deadline, progress)
            case Kind.UPDATE_SERVICE:
                ref = op.target_id or op.resource
                e.update_service(_unit(op), ref, op.version, deadline, progress)
            case Kind.REMOVE_SERVICE:
                e.remove_service(op.target_id or op.resource, deadline, progress)
            case Kind.CREATE_SECRET:  # made before the services that use it
                assert isinstance(op.unit, SwarmSecret), f"{op.id}: no desired secret"
                e.create_secret(op.unit)
            case Kind.REMOVE_SECRET:  # removed after them
                e.remove_secret(op.target_id or op.resource)
            case _:
                raise AssertionError(f"{op.id}: the swarm backend does not run {op.kind}")


def _unit(op: Operation) -> SwarmService:
    assert isinstance(op.unit, SwarmService), f"{op.id}: no desired service"
    return op.unit
