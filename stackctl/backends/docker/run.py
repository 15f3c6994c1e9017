"""Running container operations: each step the planner named, in order, nothing else.

A replace that fails before its old container is removed runs the ``rollback`` steps its
plan names (remove the new container, start the old one again) and then fails, saying so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from stackctl.backends.docker.desired import DesiredContainer
from stackctl.core.labels import temp_name
from stackctl.core.plan import Kind, Operation, Step
from stackctl.core.run import RunOptions, StepProgress, Waiter
from stackctl.engine.docker import DockerEngine
from stackctl.errors import ApplyError, StackctlError, WaitError
from stackctl.model import Condition

# What each step says while it runs (steps without one are quick bookkeeping).
SAYS = {
    Step.CREATE: "creating",
    Step.CREATE_TEMP: "creating replacement",
    Step.STOP_OLD: "stopping old",
    Step.START_NEW: "starting replacement",
    Step.WAIT_READY: "waiting for the replacement to be ready",
    Step.START: "starting",
    Step.UNPAUSE: "unpausing",
    Step.UPDATE: "updating in place",
    Step.STOP: "stopping",
    Step.REMOVE: "removing",
    Step.START_OLD: "starting the old container again",
}


@dataclass
class ContainerRunner:
    """Create, replace, start, unpause and remove containers by their steps; build images.

    ``current``: the container the steps act on, the existing one (its id, else its name)
    until a create makes a new one."""

    engine: DockerEngine
    options: RunOptions
    waiter: Waiter

    def run(self, op: Operation, progress: StepProgress) -> None:
        if op.kind == Kind.BUILD:
            assert op.build is not None, f"{op.id}: no build"
            progress("building")
            self.engine.build(op.build, progress)
            return
        assert op.steps, f"{op.id}: the planner named no steps"
        old = op.target_id or op.resource
        current = old
        done: list[Step] = []
        try:
            for step in op.steps:
                current = self._step(op, step, old, current, progress)
                done.append(step)
        except Exception as e:
            if not op.rollback or Step.REMOVE_OLD in done:
                raise
            self._roll_back(op, old, e, progress)

    def _step(
        self, op: Operation, step: Step, old: str, current: str, progress: StepProgress
    ) -> str:
        """Run ``step``; the container the next steps act on."""
        e = self.engine
        if step in SAYS:
            progress(SAYS[step])
        match step:
            case Step.CREATE:
                return e.create_container(_unit(op), op.resource)
            case Step.REMOVE_TEMP:
                e.remove_container(temp_name(op.resource))  # a no-op when there is none
            case Step.CREATE_TEMP:
                return e.create_container(_unit(op), temp_name(op.resource))
            case Step.STOP_OLD:
                e.stop(old, self.options.stop_timeout)
            case Step.START_NEW | Step.START:
                e.start(current)
            case Step.WAIT_READY:
                self._ready(op, current, progress)
            case Step.REMOVE_OLD:
                e.remove_container(old)
            case Step.RENAME:
                e.rename(current, op.resource)
            case Step.START_OLD:
                e.start(old)
            case Step.UNPAUSE:
                e.unpause(current)
            case Step.UPDATE:
                e.update_container(current, _unit(op))
            case Step.STOP:
                e.stop(current, self.options.stop_timeout)
            case Step.REMOVE:
                e.remove_container(current)
            case Step.ADOPT:
                pass  # the stack's from now on, as it runs (the plan's record says so)
        return current

    def _ready(self, op: Operation, container: str, progress: StepProgress) -> None:
        """Healthy where it has a health check, else running (a one-shot: exited 0)."""
        unit = _unit(op)
        name = temp_name(op.resource)
        deadline = time.time() + self.options.wait_timeout
        if unit.has_healthcheck:
            self.waiter.wait_for(name, Condition.HEALTHY, deadline, progress)
            return
        self.waiter.wait_for(name, Condition.STARTED, deadline, progress)
        state = (self.engine.inspect_container(container) or {}).get("State") or {}
        code = state.get("ExitCode")
        if state.get("Status") in ("exited", "dead") and (code != 0 or not unit.oneshot):
            raise WaitError(f"{name} exited with code {code} right after it started")

    def _roll_back(self, op: Operation, old: str, error: Exception, progress: StepProgress) -> None:
        """Undo a replace that failed before its old container was removed, then fail."""
        why = error.message if isinstance(error, StackctlError) else str(error)
        try:
            for step in op.rollback:
                self._step(op, step, old, old, progress)
        except StackctlError as undo:
            raise ApplyError(
                f"{op.resource}: the replacement failed ({why}), and rolling back failed "
                f"too: {undo.message}",
                hint="run apply again: it replaces the container from where this stopped",
            ) from error
        back = "runs again" if Step.START_OLD in op.rollback else "was kept"
        raise ApplyError(
            f"{op.resource}: the replacement failed: {why}; rolled back: the old container {back}",
            hint="fix the service (or the host) and apply again; --no-rollback leaves a "
            "failed replacement in place to look at",
        ) from error


def _unit(op: Operation) -> DesiredContainer:
    assert isinstance(op.unit, DesiredContainer), f"{op.id}: no desired container"
    return op.unit
