"""``stackctl apply``: make the daemon match the stacks (or a saved plan), then report."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from typing import Annotated, Any, NamedTuple

import typer

from stackctl import lock, pipeline, planfile
from stackctl.cli import app
from stackctl.cli.common import (
    Adopt,
    Engine,
    Files,
    NoBuild,
    Paths,
    Profiles,
    Pull,
    Replace,
    Strict,
    Target,
    confirm,
    console,
    load_options,
    print_styled,
    print_warnings,
)
from stackctl.core.backend import AnyBackend
from stackctl.core.backend import wait_healthy as wait_units
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
STARTS = (Kind.CREATE, Kind.START, Kind.UNPAUSE)  # what apply waits for at its end
NoWait = Annotated[
    bool,
    typer.Option(
        "--no-wait",
        help="Do not wait for what is created or replaced to be ready (healthy, else "
        "running); a replacement that fails its health check is then not rolled back.",
    ),
]
NoRollback = Annotated[
    bool,
    typer.Option("--no-rollback", help="Leave a failed replacement in place (old one stopped)."),
]
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
    command: str | None = None,
) -> ApplyResult:
    """Pull and build first (an image that cannot be had fails before anything changed),
    then the rest. ``command``: the one the progress names (default: apply or destroy)."""
    command = command or ("destroy" if plan.destroy else "apply")
    options = RunOptions(wait_timeout=wait_timeout)

    def executor() -> Executor:
        out = reporter(as_json, command)
        return executor_for(backend, engine, out, parallelism=parallelism, options=options)

    images = {Kind.PULL, Kind.BUILD}
    pulls = tuple(op for op in plan.operations if op.kind in images)
    if pulls:
        result = executor().run(replace(plan, operations=pulls))
        if not result.ok:
            return result
    rest = tuple(op for op in plan.operations if op.kind not in images)
    return executor().run(replace(plan, operations=rest))


class Started(NamedTuple):
    name: str
    has_healthcheck: bool


def wait_started(plan: Plan, backend: AnyBackend, engine: Any, timeout: float) -> None:
    """What this apply created or started, healthy where it has a health check (the
    replacements were waited for by their own steps, before their old containers went)."""
    units = [
        Started(op.unit.name, bool(getattr(op.unit, "has_healthcheck", False)))
        for op in plan.operations
        if op.kind in STARTS and op.unit is not None
    ]
    failures = wait_units(units, backend.waiter(engine), time.time() + timeout)
    if failures:
        raise ApplyError(
            "applied, but not healthy:\n  " + "\n  ".join(failures),
            hint="see `stackctl status` and the containers' logs; --no-wait does not wait",
        )


def wait_healthy(loaded: pipeline.Loaded, engine: Any, timeout: float, as_json: bool) -> None:
    """``--wait``: every service with a health check healthy, or an error naming the others."""
    failures = loaded.backend.wait_ready(loaded.desired, engine, time.time() + timeout)
    if failures:
        raise ApplyError("not healthy after apply:\n  " + "\n  ".join(failures))
    if not as_json:
        console().print("All services with a health check are healthy.")


@app.command()
def apply(
    paths: Paths = None,
    files: Files = None,
    profiles: Profiles = None,
    yes: Yes = False,
    parallelism: Parallelism = 8,
    wait_timeout: WaitTimeout = 300.0,
    lock_timeout: LockTimeout = 0.0,
    prune: Annotated[bool, typer.Option("--prune", help="Remove orphaned containers.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="End only when every health-checked service is healthy.")
    ] = False,
    no_wait: NoWait = False,
    no_rollback: NoRollback = False,
    as_json: AsJson = False,
    no_build: NoBuild = False,
    strict: Strict = False,
    engine: Engine = "docker",
    target: Target = None,
    replace: Replace = None,
    pull: Pull = False,
    adopt: Adopt = False,
) -> int:
    """Apply the stacks (or a saved plan file) to the daemon: plan, confirm, converge."""
    saved: dict[str, Any] | None = None
    paths = paths or []
    options = load_options(files, profiles)
    if len(paths) == 1 and not files and planfile.is_plan_file(paths[0]):
        saved = planfile.read_plan(paths[0])
        paths = planfile.sources_of(saved)
        saved_options = saved.get("options", {})
        prune = bool(saved_options.get("prune", False))
        target = list(saved_options.get("target") or [])
        replace = list(saved_options.get("replace") or [])
        no_build = bool(saved_options.get("no_build", False))
        pull = bool(saved_options.get("pull", False))
        adopt = bool(saved_options.get("adopt", False))
        options = planfile.load_options_of(saved)
    loaded = pipeline.load(paths, strict=strict, engine=engine, options=options)
    print_warnings(loaded.warnings)
    eng = loaded.backend.connect()
    names = [s.name for s in loaded.stacks]
    with (
        lock.hold(eng.identity(), names, lock_timeout),
        lock.hold_on_daemon(eng, names, lock_timeout),
    ):
        planned = pipeline.make_plan(
            loaded,
            eng,
            prune=prune,
            targets=target or [],
            replace=replace or [],
            wait=not no_wait,
            rollback=not no_rollback,
            no_build=no_build,
            pull=pull,
            adopt=adopt,
        )
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
            if not no_wait:
                wait_started(planned.plan, loaded.backend, eng, wait_timeout)
    if wait:
        wait_healthy(loaded, eng, wait_timeout, as_json)
    return 0
