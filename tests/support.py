"""Helpers for integration tests: converge stacks with the real executor, quietly."""

from __future__ import annotations

import io
from collections.abc import Sequence

from stackctl.backends.docker.backend import DockerBackend
from stackctl.backends.docker.desired import desire
from stackctl.backends.docker.observe import observe
from stackctl.backends.docker.plan import plan, plan_destroy
from stackctl.core.plan import Plan
from stackctl.core.run import RunOptions
from stackctl.engine import DockerEngine
from stackctl.execute import ApplyResult, executor_for
from stackctl.model import Stack
from stackctl.progress import PlainReporter


def make_plan(engine: DockerEngine, stacks: Sequence[Stack], **kw: bool) -> Plan:
    return plan(desire(stacks), observe(engine), **kw)


def run(engine: DockerEngine, p: Plan, wait_timeout: float = 60) -> tuple[ApplyResult, str]:
    out = io.StringIO()
    options = RunOptions(wait_timeout=wait_timeout)
    ex = executor_for(DockerBackend(), engine, PlainReporter(out), options=options)
    return ex.run(p), out.getvalue()


def converge(
    engine: DockerEngine, stacks: Sequence[Stack], wait_timeout: float = 60, **kw: bool
) -> tuple[Plan, ApplyResult]:
    p = make_plan(engine, stacks, **kw)
    result, log = run(engine, p, wait_timeout)
    assert result.ok, log
    return p, result


def destroy(engine: DockerEngine, stacks: Sequence[Stack], volumes: bool = False) -> Plan:
    p = plan_destroy(desire(stacks), observe(engine), volumes=volumes)
    result, log = run(engine, p)
    assert result.ok, log
    return p


def writes(engine: DockerEngine) -> int:
    calls = engine.call_counts()
    return calls["POST"] + calls["DELETE"] + calls["PUT"]
