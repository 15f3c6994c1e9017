"""``stackctl logs``: the services' output merged by time, one prefix per service."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from stackctl import logs as logview
from stackctl import pipeline, targets
from stackctl.cli import app
from stackctl.cli.common import Engine, styled
from stackctl.core.daytwo import LogWindow


@app.command()
def logs(
    path: Annotated[Path, typer.Argument(help="The stack file or folder.")],
    services: Annotated[
        list[str] | None, typer.Argument(help="Services (default: all of them).")
    ] = None,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new lines.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only lines since: 10m, 1h30m, 2026-12-03T16:00:00Z."),
    ] = None,
    tail: Annotated[
        str, typer.Option("--tail", "-n", help="Lines per container from the end, or all.")
    ] = "all",
    timestamps: Annotated[
        bool, typer.Option("-t", "--timestamps", help="Show each line's timestamp.")
    ] = False,
    engine: Engine = "docker",
) -> int:
    """Show the services' output merged by time (coloured prefixes on a terminal)."""
    try:
        window = LogWindow(
            follow=follow,
            since=logview.parse_since(since, time.time()) if since else None,
            tail=logview.parse_tail(tail),
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    loaded = pipeline.load([path], engine=engine)
    chosen = targets.services_or_all(loaded.stacks, services or [])
    sources = loaded.backend.log_sources(loaded.desired, loaded.backend.connect(), chosen)
    printer = logview.Printer(
        sys.stdout,
        logview.labels(sources),
        colour=styled(sys.stdout),
        timestamps=timestamps,
    )
    logview.show(sources, window, printer)
    return 0
