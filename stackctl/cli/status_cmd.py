"""``stackctl status``: each service's state, health, image, ports, and whether it matches."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from stackctl import pipeline
from stackctl.cli import app
from stackctl.cli.common import Engine, Files, Paths, Profiles, console, load_options


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


@app.command()
def status(
    paths: Paths = None,
    files: Files = None,
    profiles: Profiles = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    engine: Engine = "docker",
) -> int:
    """Show each service: state, health, image, ports, and in sync / drifted / missing."""
    from rich.table import Table

    loaded = pipeline.load(paths or [], engine=engine, options=load_options(files, profiles))
    table = loaded.backend.status(loaded.desired, loaded.backend.connect())
    if as_json:
        print(json.dumps({table.key: table.rows}, indent=2))
        return 0
    out = Table(show_edge=False, pad_edge=False)
    for _key, title in table.columns:
        out.add_column(title)
    for row in table.rows:
        out.add_row(*(_cell(row[key]) for key, _title in table.columns))
    console().print(out)
    return 0
