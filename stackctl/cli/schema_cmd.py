"""``stackctl schema [-o FILE]``: the JSON Schema of the stack YAML/JSON format.

Editors use it through a ``# yaml-language-server: $schema=...`` first line; the committed
copy is ``schemas/stack.schema.json`` (regenerate it with ``-o`` after a model change).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from stackctl.cli import app
from stackctl.schema import schema_text


@app.command("schema")
def schema_command(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the schema to FILE instead of stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of the stack YAML/JSON format."""
    text = schema_text()
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)
