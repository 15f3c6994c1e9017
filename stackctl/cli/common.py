"""Options and helpers the commands share (kept small: commands stay thin)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from stackctl.errors import Diagnostic

if TYPE_CHECKING:
    from rich.console import Console

    from stackctl.load.options import LoadOptions
    from stackctl.render import Segment

Paths = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Stack files or folders (a folder of stacks plans them together); none: the "
        "current folder, or COMPOSE_FILE.",
        show_default=False,
    ),
]
Files = Annotated[
    list[Path] | None,
    typer.Option(
        "-f",
        "--file",
        help="A Compose file of one stack; repeat to merge files in order (as docker compose).",
        show_default=False,
    ),
]
FileOnly = Annotated[  # for commands where -f means something else (graph --format)
    list[Path] | None,
    typer.Option("--file", help="A Compose file of one stack; repeat to merge files in order."),
]
Profiles = Annotated[
    list[str] | None,
    typer.Option(
        "--profile",
        help="Enable the Compose services of this profile (repeatable; default: COMPOSE_PROFILES).",
        show_default=False,
    ),
]
Strict = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")]
NoBuild = Annotated[
    bool,
    typer.Option("--no-build", help="Do not build images; an image to build must exist already."),
]
Adopt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Take over a running docker compose project of the stack's name: containers "
        "whose config matches keep running untouched, the others are replaced; networks "
        "and volumes are kept. Needed once; stackctl records the adoption.",
    ),
]
Engine = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Engine to deploy to: docker (one host) or swarm (services on the swarm manager "
        "at DOCKER_HOST). Stacks that all say `engine: swarm` use swarm.",
    ),
]
Target = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        help="Plan only this service (SERVICE or STACK/SERVICE) and what it depends on; "
        "repeatable.",
    ),
]
Replace = Annotated[
    list[str] | None,
    typer.Option(
        "--replace", help="Recreate this service's containers even if unchanged; repeatable."
    ),
]


def load_options(files: list[Path] | None, profiles: list[str] | None) -> LoadOptions:
    """The loader's view of ``-f``/``--file`` and ``--profile``."""
    from stackctl.load.options import LoadOptions

    return LoadOptions(tuple(files or ()), tuple(profiles or ()))


Pull = Annotated[
    bool,
    typer.Option(
        "--pull",
        help="Ask the registry for each image's current digest; plan a pull and a replace "
        "where a newer image is published under the tag.",
    ),
]


def console(stderr: bool = False) -> Console:
    """Colour on a terminal, plain text when piped (NO_COLOR honoured by rich)."""
    from rich.console import Console  # start-up time: only what prints with rich loads it

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200  # piped: no wrapping at 80 columns
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def styled(stream: TextIO) -> bool:
    """Whether output to ``stream`` gets rich's colours: on a terminal, or where
    FORCE_COLOR / TTY_COMPATIBLE ask for them (as rich itself honours them)."""
    if os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1":
        return True
    return stream.isatty()


def print_styled(segments: Iterable[Segment]) -> None:
    """(text, style) segments to stdout: through rich on a terminal, else as plain text,
    without loading rich (a piped or scripted command starts faster)."""
    if not styled(sys.stdout):
        from stackctl.render import plain  # validate, import, schema never load the planner

        sys.stdout.write(plain(segments))
        sys.stdout.flush()  # the plan shows before any prompt or progress
        return
    from rich.text import Text

    text = Text()
    for part, style in segments:
        text.append(part, style=style or None)
    console().print(text, end="", soft_wrap=True, highlight=False)


def print_warnings(warnings: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
    for d in warnings:
        print(d.format(), file=sys.stderr)


def confirm(question: str, yes: bool) -> None:
    """Ask on a terminal; refuse without one unless ``--yes``."""
    if yes:
        return
    if not sys.stdin.isatty():
        from stackctl.errors import StackctlError

        raise StackctlError(
            "no terminal to confirm on, and --yes was not given; nothing was changed",
            hint="review the plan, then run again with --yes (or save it with plan -o FILE "
            "and apply that file)",
        )
    answer = typer.prompt(f"{question} Only 'yes' will be accepted", default="", show_default=False)
    if answer.strip().lower() != "yes":
        raise typer.Exit(1)
