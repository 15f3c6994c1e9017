"""``stackctl exec``: run a command in a service's running container; its exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from stackctl import pipeline, targets
from stackctl.cli import app
from stackctl.cli.common import Engine
from stackctl.core.daytwo import ProcessOptions

# Everything after SERVICE is the command (options included): `exec s app ls -la`.
RAW = {"allow_interspersed_args": False}

NoTty = Annotated[bool, typer.Option("-T", "--no-tty", help="No TTY, even on a terminal.")]
User = Annotated[str | None, typer.Option("-u", "--user", help="Run as USER[:GROUP].")]
Workdir = Annotated[str | None, typer.Option("-w", "--workdir", help="Working directory.")]
EnvVars = Annotated[
    list[str] | None, typer.Option("-e", "--env", help="KEY=VALUE for the command; repeatable.")
]


def env_pairs(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not key or not sep:
            raise typer.BadParameter(f"-e {item!r}: use KEY=VALUE")
        out[key] = value
    return out


def command_args(command: list[str] | None) -> list[str]:
    """The command as given, without the ``--`` that may separate it."""
    args = list(command or [])
    return args[1:] if args[:1] == ["--"] else args


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


@app.command("exec", context_settings=RAW)
def exec_(
    path: Annotated[Path, typer.Argument(help="The stack file or folder.")],
    service: Annotated[str, typer.Argument(help="The service (SERVICE or STACK/SERVICE).")],
    command: Annotated[list[str], typer.Argument(help="The command and its arguments.")],
    no_tty: NoTty = False,
    index: Annotated[
        int, typer.Option("--index", min=1, help="Which container of a replicated service.")
    ] = 1,
    user: User = None,
    workdir: Workdir = None,
    env: EnvVars = None,
    engine: Engine = "docker",
) -> int:
    """Run a command in a service's running container (a TTY when stdin is a terminal)."""
    options = ProcessOptions(
        command=command_args(command),
        tty=stdin_is_terminal() and not no_tty,
        stdin=True,
        user=user,
        workdir=workdir,
        env=env_pairs(env),
    )
    loaded = pipeline.load([path], engine=engine)
    key = targets.one(loaded.stacks, service)
    eng = loaded.backend.connect()
    return loaded.backend.exec(loaded.desired, eng, key, index, options)
