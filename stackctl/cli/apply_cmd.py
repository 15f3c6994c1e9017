"""``stackctl apply``: make the daemon match the stacks (or a saved plan), then report."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from stackctl import lock, pipeline, planfile
from stackctl.cli import app
from stackctl.cli.common import (
    Engine,
    Paths,
    Pull,
    Strict,
    confirm,
    console,
    print_styled,
    print_warnings,
)
from stackctl.core.backend import AnyBackend
from stackctl.core.plan import Kind, Plan
from stackctl.core.run import RunOptions
from stackctl.errors import ApplyError
from stackctl.execute import ApplyResult, Executor, Reporter, executor_for
from stackctl.progress import JsonReporter, LiveReporter, PlainReporter
from stackctl.render import plan_json, plan_segments

Parallelism = Annotated[
    int, typer.Option("--parallelism", min=1, help="Operations run at once (waits aside).")
]
WaitTimeout = Annotated[
    float, typer.Option("--wait-timeout", help="Seconds a dependency may take to be ready.")
]
LockTimeout = Annotated[
    float, typer.Option("--lock-timeout", help="Seconds to wait for another apply of the stack.")
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
AsJson = Annotated[bool, typer.Option("--json", help="Plan and progress as JSON lines.")]


def reporter(as_json: bool, command: str = "apply") -> Reporter:
    """``command``: apply or destroy, the command a person runs again after a failure."""
    if as_json:
        return JsonReporter()
    if sys.stdout.isatty():
        return LiveReporter(console(), command)
    return PlainReporter(command=command)


def execute(
    plan: Plan,
    backend: AnyBackend,
    engine: Any,
    *,
    as_json: bool,
    parallelism: int,
    wait_timeout: float,
) -> ApplyResult:
    """Pull first (an image that cannot be had fails before anything changed), then the rest."""
    command = "destroy" if plan.destroy else "apply"
    options = RunOptions(wait_timeout=wait_timeout)

    def executor() -> Executor:
        out = reporter(as_json, command)
        return executor_for(backend, engine, out, parallelism=parallelism, options=options)

    pulls = tuple(op for op in plan.operations if op.kind == Kind.PULL)
    if pulls:
        result = executor().run(replace(plan, operations=pulls))
        if not result.ok:
            return result
    rest = tuple(op for op in plan.operations if op.kind != Kind.PULL)
    return executor().run(replace(plan, operations=rest))


def wait_healthy(loaded: pipeline.Loaded, engine: Any, timeout: float, as_json: bool) -> None:
    """``--wait``: every service with a health check healthy, or an error naming the others."""
    failures = loaded.backend.wait_ready(loaded.desired, engine, time.time() + timeout)
    if failures:
        raise ApplyError("not healthy after apply:\n  " + "\n  ".join(failures))
    if not as_json:
        console().print("All services with a health check are healthy.")


@app.command()
def apply(
    paths: Paths,
    yes: Yes = False,
    parallelism: Parallelism = 8,
    wait_timeout: WaitTimeout = 300.0,
    lock_timeout: LockTimeout = 0.0,
    prune: Annotated[bool, typer.Option("--prune", help="Remove orphaned containers.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="End only when every health-checked service is healthy.")
    ] = False,
    as_json: AsJson = False,
    strict: Strict = False,
    engine: Engine = "docker",
    pull: Pull = False,
) -> int:
    """Apply the stacks (or a saved plan file) to the daemon: plan, confirm, converge."""
    saved: dict[str, Any] | None = None
    if len(paths) == 1 and planfile.is_plan_file(paths[0]):
        saved = planfile.read_plan(paths[0])
        paths = [Path(p) for p in saved["sources"]]
        prune = bool(saved.get("options", {}).get("prune", False))
        pull = bool(saved.get("options", {}).get("pull", False))
    loaded = pipeline.load(paths, strict=strict, engine=engine)
    print_warnings(loaded.warnings)
    eng = loaded.backend.connect()
    names = [s.name for s in loaded.stacks]
    with (
        lock.hold(eng.identity(), names, lock_timeout),
        lock.hold_on_daemon(eng, names, lock_timeout),
    ):
        planned = pipeline.make_plan(loaded, eng, prune=prune, pull=pull)
        if saved is not None:
            planfile.check_fresh(saved, planned.plan)
        if as_json:
            print(json.dumps({"event": "plan", "plan": plan_json(planned.plan)}), flush=True)
        else:
            print_styled(plan_segments(planned.plan))
        if planned.plan.has_changes:
            if saved is None:
                confirm("Apply these changes?", yes)
            result = execute(
                planned.plan,
                loaded.backend,
                eng,
                as_json=as_json,
                parallelism=parallelism,
                wait_timeout=wait_timeout,
            )
            if not result.ok:
                return 130 if result.interrupted and not result.failed else 1
    if wait:
        wait_healthy(loaded, eng, wait_timeout, as_json)
    return 0
