"""``stackctl completion SHELL``: the shell's completion script, to source or install."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from stackctl.cli import COMPLETE_VAR, app


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


@app.command()
def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell: bash, zsh or fish.")],
) -> int:
    """Print the completion script for SHELL (bash: eval "$(stackctl completion bash)")."""
    # typer's own scripts: they call stackctl back with _STACKCTL_COMPLETE set, which
    # typer answers with the commands, options and paths that fit.
    from typer._completion_shared import get_completion_script

    print(get_completion_script(prog_name="stackctl", complete_var=COMPLETE_VAR, shell=shell.value))
    return 0
