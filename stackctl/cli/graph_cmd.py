"""``stackctl graph PATH... [--format mermaid|dot]``: draw services, networks and waits.

The stacks are validated first; an invalid set is reported like ``stackctl validate``
would and nothing is drawn.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from stackctl import pipeline
from stackctl.cli import app
from stackctl.cli.common import Engine, FileOnly, Paths, Profiles, load_options
from stackctl.graph import render_graph


class Format(StrEnum):
    """Output formats of ``stackctl graph``."""

    mermaid = "mermaid"
    dot = "dot"


@app.command("graph")
def graph_command(
    paths: Paths = None,
    files: FileOnly = None,
    profiles: Profiles = None,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="mermaid (flowchart) or dot (Graphviz)."),
    ] = Format.mermaid,
    engine: Engine = "docker",
) -> None:
    """Print the stacks as a Mermaid flowchart or a Graphviz DOT graph."""
    options = load_options(files, profiles)
    loaded = pipeline.load(
        paths or [], engine=engine, options=options
    )  # what plan would refuse, refused here too
    typer.echo(render_graph(loaded.stacks, "dot" if fmt is Format.dot else "mermaid"), nl=False)
