"""``stackctl export PATH [-o FILE|DIR] [--force]``: a stack as a compose file.

The stack is loaded and validated as ``validate`` does (any stack kind: Python, stack
YAML/JSON, compose), then written by :mod:`stackctl.export` to stdout, or to ``-o FILE``.
A PATH holding several stacks needs ``-o DIR``: each stack goes to ``DIR/<stack>/compose.yaml``
(``stackctl plan DIR`` then reads them all). The variables that secret references need are
named on stderr (and at the top of each file). Exit 3: the stack holds something
docker-compose 1.29 cannot (the message names the field).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from stackctl import pipeline
from stackctl.cli import app
from stackctl.cli.common import Engine, Files, Paths, Profiles, load_options, print_warnings
from stackctl.core.redact import redact_text
from stackctl.errors import StackctlError
from stackctl.export import Export, stack_variables, to_compose, variables_note
from stackctl.model import Stack


def _write(path: Path, export: Export, force: bool) -> None:
    if path.exists() and not force:
        raise StackctlError(
            f"{path} exists; nothing was written", hint="pass --force to replace it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(export.text(), encoding="utf-8")


def _print(export: Export) -> None:
    """The file on stdout, unless stdout's redaction would change it: a word of it equal to
    a value stackctl hides (an env_file's), which would print as ``(sensitive value)``."""
    text = export.text()
    if redact_text(text) != text:
        raise StackctlError(
            f"the compose file of stack {export.stack!r} holds text equal to a value stackctl "
            "hides in its output (an env_file's or a secret file's); printed, it would read "
            "(sensitive value); nothing was printed",
            hint="write it to a file: -o FILE",
        )
    sys.stdout.write(text)


def export_stacks(stacks: list[Stack], output: Path | None, force: bool) -> list[Export]:
    """Write each stack where ``output`` says; returns what was written (stdout: one)."""
    if output is None or (len(stacks) == 1 and not output.is_dir()):
        if len(stacks) != 1:
            names = ", ".join(s.name for s in stacks)
            raise StackctlError(
                f"{len(stacks)} stacks to export ({names}), and one output",
                hint="export one stack at a time (name its file or folder), or give -o DIR "
                "to write DIR/<stack>/compose.yaml for each",
            )
        folder = output.resolve().parent if output is not None else None
        export = to_compose(stacks[0], folder, stack_variables(stacks[0]))
        if output is None:
            _print(export)
        else:
            _write(output, export, force)
        return [export]
    if output.exists() and not output.is_dir():
        raise StackctlError(
            f"{output} is a file; several stacks are written to a folder",
            hint="give -o DIR (made if missing): DIR/<stack>/compose.yaml for each stack",
        )
    exports = [  # all or nothing
        to_compose(s, (output / s.name).resolve(), stack_variables(s)) for s in stacks
    ]
    for export in exports:
        _write(output / export.stack / "compose.yaml", export, force)
    return exports


@app.command("export")
def export_command(
    paths: Paths = None,
    files: Files = None,
    profiles: Profiles = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write to FILE instead of stdout; with several stacks, a folder: "
            "DIR/<stack>/compose.yaml for each.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
    engine: Engine = "docker",
) -> None:
    """Write stacks as compose files (docker-compose 1.29 reads them); secrets as ${VAR}."""
    loaded = pipeline.load(paths or [], engine=engine, options=load_options(files, profiles))
    print_warnings(loaded.warnings)
    exports = export_stacks(list(loaded.stacks), output, force)
    if output is not None:
        where = ", ".join(str(output / e.stack / "compose.yaml") for e in exports)
        typer.echo(f"wrote {where if len(exports) > 1 else output}", err=True)
    note = variables_note(exports)
    if note:
        typer.echo(note, err=True)
