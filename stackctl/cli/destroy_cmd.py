"""``stackctl destroy``: remove what the stacks made; named volumes only with --volumes."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from stackctl import lock, pipeline
from stackctl.cli import app
from stackctl.cli.apply_cmd import AsJson, LockTimeout, Parallelism, Yes, execute
from stackctl.cli.common import Engine, Files, Paths, Profiles, confirm, load_options, print_styled
from stackctl.render import plan_json, plan_segments


@app.command()
def destroy(
    paths: Paths = None,
    files: Files = None,
    profiles: Profiles = None,
    yes: Yes = False,
    volumes: Annotated[
        bool, typer.Option("--volumes", help="Also remove the stacks' named volumes (data!).")
    ] = False,
    parallelism: Parallelism = 8,
    lock_timeout: LockTimeout = 0.0,
    as_json: AsJson = False,
    engine: Engine = "docker",
) -> int:
    """Remove the stacks' containers (dependents first) and networks. External networks and
    anything stackctl does not own are never touched."""
    loaded = pipeline.load(paths or [], engine=engine, options=load_options(files, profiles))
    eng = loaded.backend.connect()
    names = [s.name for s in loaded.stacks]
    with (
        lock.hold(eng.identity(), names, lock_timeout),
        lock.hold_on_daemon(eng, names, lock_timeout),
    ):
        planned = pipeline.make_plan(loaded, eng, destroy=True, volumes=volumes)
        if as_json:
            print(json.dumps({"event": "plan", "plan": plan_json(planned.plan)}), flush=True)
        else:
            print_styled(plan_segments(planned.plan))
        if not planned.plan.has_changes:
            return 0
        confirm("Destroy these resources?", yes)
        result = execute(
            planned.plan,
            loaded.backend,
            eng,
            as_json=as_json,
            parallelism=parallelism,
            wait_timeout=60,
        )
        return 0 if result.ok else 1
