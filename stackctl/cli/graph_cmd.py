"""``stackctl graph PATH... [--format mermaid|dot]``: draw services, networks and waits.

The stacks are validated first; an invalid set is reported like ``stackctl validate``
would and nothing is drawn.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from stackctl.cli import app
from stackctl.cli.validate_cmd import PathsArg
from stackctl.graph import render_graph
from stackctl.load import load_paths
from stackctl.rules import ensure_valid


class Format(StrEnum):
    """Output formats of ``stackctl graph``."""

    mermaid = "mermaid"
    dot = "dot"


@app.command("graph")
def graph_command(
    paths: PathsArg,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="mermaid (flowchart) or dot (Graphviz)."),
    ] = Format.mermaid,
) -> None:
    """Print the stacks as a Mermaid flowchart or a Graphviz DOT graph."""
    stacks = load_paths(paths)
    ensure_valid(stacks)
    typer.echo(render_graph(stacks, "dot" if fmt is Format.dot else "mermaid"), nl=False)
