"""The runners do what the plan names, step by step, and nothing else (no daemon)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest

from stackctl.backends.docker.desired import desire
from stackctl.backends.docker.plan import plan
from stackctl.backends.docker.run import ContainerRunner
from stackctl.core.plan import Kind, Operation, Step
from stackctl.core.run import SHARED_KINDS, PlanRunner, RunOptions, SharedRunner
from stackctl.engine.docker import DockerEngine
from stackctl.errors import ApplyError, WaitError
from stackctl.model import Condition
from tests.test_plan import applied, homelab, with_container


class FakeEngine:
    """Logs every call; ``create_container`` returns a new id."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any) -> Any:
            self.calls.append((name, *(a if isinstance(a, str | int) else "…" for a in args)))
            return "new-id" if name == "create_container" else None

        return call


class FakeWaiter:
    """Logs each wait in the engine's call log; ``fails``: raises WaitError instead."""

    def __init__(self, engine: FakeEngine, fails: bool = False) -> None:
        self.engine, self.fails = engine, fails

    def wait_for(self, name: str, condition: Condition, deadline: float, progress: Any) -> None:
        self.engine.calls.append(("wait_for", name, condition.value))
        if self.fails:
            raise WaitError(f"{name} is unhealthy; last health output: boom")


def run_op(op: Operation, *, unhealthy: bool = False) -> list[tuple[Any, ...]]:
    engine = FakeEngine()
    waiter = FakeWaiter(engine, unhealthy)
    runner = ContainerRunner(cast(DockerEngine, engine), RunOptions(stop_timeout=7), waiter)
    runner.run(op, lambda _: None)
    return engine.calls


def container_op(state: str, **changes: Any) -> Operation:
    desired = desire([homelab()])
    p = plan(desired, with_container(applied(desired), "lab-web-1", state=state, **changes))
    return p.by_id()["container:lab-web-1"]


def test_replace_runs_its_named_steps_in_order() -> None:
    op = container_op("running", networks={})
    assert run_op(op) == [
        ("remove_container", "lab-web-1_stackctl-new"),
        ("create_container", "…", "lab-web-1_stackctl-new"),
        ("stop", "id-lab-web-1", 7),
        ("start", "new-id"),
        ("wait_for", "lab-web-1_stackctl-new", "service_started"),
        ("inspect_container", "new-id"),
        ("remove_container", "id-lab-web-1"),
        ("rename", "new-id", "lab-web-1"),
    ]


def test_a_replacement_that_fails_is_rolled_back_by_the_named_steps() -> None:
    op = container_op("running", networks={})
    assert [s.value for s in op.rollback] == ["remove-temp", "start-old"]
    engine = FakeEngine()
    runner = ContainerRunner(
        cast(DockerEngine, engine), RunOptions(stop_timeout=7), FakeWaiter(engine, fails=True)
    )
    with pytest.raises(ApplyError, match="boom; rolled back: the old container runs again"):
        runner.run(op, lambda _: None)
    assert engine.calls[-3:] == [
        ("wait_for", "lab-web-1_stackctl-new", "service_started"),
        ("remove_container", "lab-web-1_stackctl-new"),
        ("start", "id-lab-web-1"),
    ]
    assert ("remove_container", "id-lab-web-1") not in engine.calls  # the old one is kept


def test_without_rollback_steps_a_failure_is_left_as_is() -> None:
    op = replace(container_op("running", networks={}), rollback=())
    with pytest.raises(WaitError, match="boom"):
        run_op(op, unhealthy=True)


def test_paused_is_unpaused_and_stopped_is_started() -> None:
    assert run_op(container_op("paused")) == [("unpause", "id-lab-web-1")]
    assert run_op(container_op("exited", exit_code=1)) == [("start", "id-lab-web-1")]


def test_the_steps_not_the_kind_say_what_runs() -> None:
    op = Operation("x", Kind.REPLACE, "c", "s", "r", steps=(Step.STOP, Step.START))
    assert run_op(op) == [("stop", "c", 7), ("start", "c")]


def test_an_operation_without_steps_is_a_planner_bug() -> None:
    with pytest.raises(AssertionError, match="no steps"):
        run_op(Operation("x", Kind.START, "c", "s", "r"))


def test_shared_kinds_go_to_the_shared_runner_and_the_rest_to_the_backend() -> None:
    seen: list[tuple[str, Kind]] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def run(self, op: Operation, progress: Any) -> None:
            seen.append((self.name, op.kind))

    runner = PlanRunner(Named("shared"), Named("units"))
    for kind in Kind:
        runner.run(Operation("x", kind, "r", None, "why"), lambda _: None)
    assert {k for who, k in seen if who == "shared"} == SHARED_KINDS
    assert Kind.UNPAUSE in {k for who, k in seen if who == "units"}


def test_shared_runner_refuses_a_unit_kind() -> None:
    shared = SharedRunner(cast(Any, FakeEngine()), cast(Any, None), RunOptions())
    with pytest.raises(AssertionError):
        shared.run(Operation("x", Kind.CREATE, "c", None, "missing"), lambda _: None)


def test_swarm_services_run_by_kind_with_the_planned_version() -> None:
    from stackctl.backends.swarm.desired import desire_swarm
    from stackctl.backends.swarm.run import ServiceRunner
    from stackctl.engine.swarm import SwarmEngine

    desired = desire_swarm([homelab()])
    engine = FakeEngine()
    runner = ServiceRunner(cast(SwarmEngine, engine), RunOptions())
    svc = desired.services[0]
    runner.run(Operation("a", Kind.CREATE_SERVICE, svc.name, "s", "missing", unit=svc), print)
    update = Operation(
        "b", Kind.UPDATE_SERVICE, svc.name, "s", "changed", unit=svc, target_id="sid", version=4
    )
    runner.run(update, print)
    runner.run(Operation("c", Kind.REMOVE_SERVICE, svc.name, "s", "orphan", target_id="sid"), print)
    assert [c[0] for c in engine.calls] == ["create_service", "update_service", "remove_service"]
    assert engine.calls[1][2:4] == ("sid", 4)
    with pytest.raises(AssertionError):
        runner.run(Operation("d", Kind.CREATE, "x", "s", "missing"), print)
