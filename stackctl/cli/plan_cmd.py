"""``stackctl plan``: what apply would change, and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stackctl import pipeline, planfile
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
    console,
    load_options,
    print_styled,
    print_warnings,
)
from stackctl.render import plan_json, plan_segments


@app.command()
def plan(
    paths: Paths = None,
    files: Files = None,
    profiles: Profiles = None,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Save the plan for `stackctl apply FILE`.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 0: no changes, 2: changes, 1: error."),
    ] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Remove orphaned containers.")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="List unchanged too.")] = False,
    no_build: NoBuild = False,
    pull: Pull = False,
    strict: Strict = False,
    engine: Engine = "docker",
    target: Target = None,
    replace: Replace = None,
    adopt: Adopt = False,
) -> int:
    """Show what apply would do: + create, ~ start, -/+ replace, - remove, … wait."""
    options = load_options(files, profiles)
    loaded = pipeline.load(paths or [], strict=strict, engine=engine, options=options)
    print_warnings(loaded.warnings)
    targets, forced = target or [], replace or []
    planned = pipeline.make_plan(
        loaded,
        loaded.backend.connect(),
        prune=prune,
        targets=targets,
        replace=forced,
        no_build=no_build,
        pull=pull,
        adopt=adopt,
    )
    if as_json:
        print(json.dumps(plan_json(planned.plan), indent=2, ensure_ascii=False))
    else:
        print_styled(plan_segments(planned.plan, verbose=verbose))
    if out is not None:
        planfile.save(
            out,
            planned.plan,
            list(paths or []),
            {
                "prune": prune,
                "target": targets,
                "replace": forced,
                "no_build": no_build,
                "pull": pull,
                "adopt": adopt,
            },
            options,
        )
        if not as_json:
            console().print(f"Saved the plan to {out}; apply it with: stackctl apply {out}")
    if detailed_exitcode and planned.plan.has_changes:
        return 2
    return 0
