"""``stackctl restart``: stop and start services' containers in dependency order, each
after what it depends on meets its condition (the apply's waits)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stackctl import lock, pipeline, targets
from stackctl.cli import app
from stackctl.cli.common import Engine


@app.command()
def restart(
    path: Annotated[Path, typer.Argument(help="The stack file or folder.")],
    services: Annotated[
        list[str] | None, typer.Argument(help="Services (default: all of them).")
    ] = None,
    wait_timeout: Annotated[
        float, typer.Option("--wait-timeout", help="Seconds a dependency may take to be ready.")
    ] = 300.0,
    parallelism: Annotated[
        int, typer.Option("--parallelism", min=1, help="Restarts run at once.")
    ] = 8,
    engine: Engine = "docker",
) -> int:
    """Restart services in dependency order, honouring their wait conditions."""
    from stackctl.cli.apply_cmd import execute

    loaded = pipeline.load([path], engine=engine)
    chosen = targets.services_or_all(loaded.stacks, services or [])
    eng = loaded.backend.connect()
    with lock.hold(eng.identity(), [s.name for s in loaded.stacks], 0.0):
        observed = loaded.backend.observe(eng)
        plan = loaded.backend.plan_restart(loaded.desired, observed, chosen)
        result = execute(
            plan,
            loaded.backend,
            eng,
            as_json=False,
            parallelism=parallelism,
            wait_timeout=wait_timeout,
            command="restart",
        )
    if not result.ok:
        return 130 if result.interrupted and not result.failed else 1
    return 0
