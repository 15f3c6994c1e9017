"""Running container operations: each step the planner named, in order, nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from stackctl.backends.docker.desired import DesiredContainer
from stackctl.core.labels import temp_name
from stackctl.core.plan import Operation, Step
from stackctl.core.run import RunOptions, StepProgress
from stackctl.engine.docker import DockerEngine

# What each step says while it runs (steps without one are quick bookkeeping).
SAYS = {
    Step.CREATE: "creating",
    Step.CREATE_TEMP: "creating replacement",
    Step.STOP_OLD: "stopping old",
    Step.START: "starting",
    Step.UNPAUSE: "unpausing",
    Step.UPDATE: "updating in place",
    Step.STOP: "stopping",
    Step.REMOVE: "removing",
}


@dataclass
class ContainerRunner:
    """Create, replace, start, unpause and remove containers by their steps.

    ``current``: the container the steps act on, the existing one (its id, else its name)
    until a create makes a new one."""

    engine: DockerEngine
    options: RunOptions

    def run(self, op: Operation, progress: StepProgress) -> None:
        assert op.steps, f"{op.id}: the planner named no steps"
        e = self.engine
        old = op.target_id or op.resource
        current = old
        for step in op.steps:
            if step in SAYS:
                progress(SAYS[step])
            match step:
                case Step.CREATE:
                    current = e.create_container(_unit(op), op.resource)
                case Step.REMOVE_TEMP:
                    e.remove_container(temp_name(op.resource))  # a no-op when there is none
                case Step.CREATE_TEMP:
                    current = e.create_container(_unit(op), temp_name(op.resource))
                case Step.STOP_OLD:
                    e.stop(old, self.options.stop_timeout)
                case Step.REMOVE_OLD:
                    e.remove_container(old)
                case Step.RENAME:
                    e.rename(current, op.resource)
                case Step.START:
                    e.start(current)
                case Step.UNPAUSE:
                    e.unpause(current)
                case Step.UPDATE:
                    e.update_container(current, _unit(op))
                case Step.STOP:
                    e.stop(current, self.options.stop_timeout)
                case Step.REMOVE:
                    e.remove_container(current)


def _unit(op: Operation) -> DesiredContainer:
    assert isinstance(op.unit, DesiredContainer), f"{op.id}: no desired container"
    return op.unit
