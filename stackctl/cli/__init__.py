"""The command line: thin typer commands over load → validate → observe → plan → apply.

One module per command; every stackctl error becomes one clear message and an exit code
here, in ``main`` (codes in ``stackctl.errors``). Anything else is a bug and says so.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys
import threading
from typing import Annotated, Any, NoReturn

import typer

from stackctl.errors import InvalidStackError, StackctlError

app = typer.Typer(
    name="stackctl",
    help="Plan and apply Docker stacks: as easy as docker compose, as honest as terraform plan.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# The module that defines each command. Importing one adds its command to ``app``; a run
# imports only the module of the command it runs (start-up time: ``stackctl plan`` does
# not load the graph, import or schema machinery), and every module for help or a typo.
COMMANDS = {
    "apply": "apply_cmd",
    "completion": "completion_cmd",
    "destroy": "destroy_cmd",
    "exec": "exec_cmd",
    "export": "export_cmd",
    "graph": "graph_cmd",
    "import": "import_cmd",
    "logs": "logs_cmd",
    "plan": "plan_cmd",
    "restart": "restart_cmd",
    "run": "run_cmd",
    "pull": "pull_cmd",
    "schema": "schema_cmd",
    "status": "status_cmd",
    "validate": "validate_cmd",
}


COMPLETE_VAR = "_STACKCTL_COMPLETE"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"stackctl {version('stackctl')}")
        raise typer.Exit(0)


@app.callback()
def _group(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version, help="Print the version and exit."
    ),
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            help="The docker context to use (as `docker --context`); else DOCKER_HOST, "
            "DOCKER_CONTEXT, then `docker context use`'s choice.",
        ),
    ] = None,
) -> None:
    # Also keeps ``app`` a group of subcommands when only one of them is registered.
    if context:
        os.environ["STACKCTL_CONTEXT"] = context  # read by stackctl.engine.context


def _command_word(args: list[str]) -> str | None:
    """The command's name in ``args``, after the group's own options (--context NAME)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--context":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _register(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    word = _command_word(args)
    wanted = COMMANDS.get(word) if word else None
    for module in [wanted] if wanted else sorted(set(COMMANDS.values())):
        importlib.import_module(f"stackctl.cli.{module}")


def main(argv: list[str] | None = None) -> int:
    """Run one command. Everything it prints goes through one redaction pass over the
    secret values that loading made known (``stackctl.core.redact``)."""
    from stackctl.core.redact import collecting, redacted_output

    before = os.environ.get("STACKCTL_CONTEXT")
    try:
        with collecting() as known, redacted_output(known):
            return _main(argv)
    finally:  # --context holds for this command only (tests run several in one process)
        if before is None:
            os.environ.pop("STACKCTL_CONTEXT", None)
        else:
            os.environ["STACKCTL_CONTEXT"] = before


def _main(argv: list[str] | None) -> int:
    _register(argv)
    if os.environ.get(COMPLETE_VAR):  # a shell asks for completions (stackctl completion)
        from typer._completion_classes import completion_init

        completion_init()  # typer's bash/zsh/fish answers (its own --install-completion's)
    command = typer.main.get_command(app)
    _flags_without_type(command)
    try:
        result = command.main(args=argv, prog_name="stackctl", standalone_mode=False)
    except InvalidStackError as e:
        for d in e.diagnostics:
            print(d.format(), file=sys.stderr)
        errors = sum(1 for d in e.diagnostics if d.severity == "error")
        print(f"{errors} error(s); nothing was changed.", file=sys.stderr)
        return e.exit_code
    except StackctlError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if _is_usage_error(e):
            e.show()  # type: ignore[attr-defined]
            return int(e.exit_code)  # type: ignore[attr-defined]
        print(
            "stackctl hit a bug (this is not your fault). Please report it with the "
            "traceback below:",
            file=sys.stderr,
        )
        raise
    return result if isinstance(result, int) else 0


def _flags_without_type(group: Any) -> None:
    """No ``<bool>`` after a flag in ``--help``: typer 0.28+ prints every option's type in
    its rich help, a flag's too, although a flag takes no value (typer 0.27 left out types
    that contain "bool"; its plain help still leaves flags bare). An empty metavar is what
    the rich help then prints for it, in every command and for ``--help`` itself."""
    commands = [group, *getattr(group, "commands", {}).values()]
    for cmd in commands:
        ctx = typer.Context(cmd, info_name=cmd.name)
        for param in cmd.get_params(ctx):
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""


def _is_usage_error(exc: Exception) -> bool:
    """A bad option or unknown command (typer may bundle its own copy of click)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "ClickException" in names and hasattr(exc, "show")


def entry() -> None:
    # The process is short-lived and most of what it allocates lives to the end (modules,
    # models, the plan): look for garbage cycles every 100,000 allocations instead of every
    # 700, which spares about 20 ms of a command's start-up (the CLI's own process only).
    gc.set_threshold(100_000, 20, 20)
    # pydantic looks for plugins (the "pydantic" entry-point group) when it builds its first
    # validator: a read of every installed distribution's metadata, about 3 ms with this
    # project's dependencies (more with a crowded site-packages). stackctl uses none; a
    # PYDANTIC_DISABLE_PLUGINS the caller set is kept as it is.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    leave(main())


def leave(code: int) -> NoReturn:
    """End the process with ``code`` without tearing the interpreter down.

    Freeing every module and object at exit costs 50-80 ms (more on a busy host), a fifth
    of a ``stackctl plan`` with nothing to do, and nothing needs it: the atexit hooks run
    and the output is flushed here, files are closed by then (``with``), and the kernel
    releases the rest (sockets, the stack lock). While a thread other than the main one
    still runs, the ordinary exit waits for it as it always did.
    """
    if any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # a closed or broken pipe: Python's own exit reports it as before
    os._exit(code)
