"""``stackctl run``: a one-off container of a service (its config and networks, no ports
unless asked), its dependencies started first; the command's exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from stackctl import lock, oneoff, pipeline, targets
from stackctl.cli import app
from stackctl.cli.common import Engine
from stackctl.cli.exec_cmd import (
    RAW,
    EnvVars,
    NoTty,
    User,
    Workdir,
    command_args,
    env_pairs,
    stdin_is_terminal,
)
from stackctl.core.daytwo import OneOffOptions, ProcessOptions
from stackctl.errors import ApplyError


@app.command("run", context_settings=RAW)
def run(
    path: Annotated[Path, typer.Argument(help="The stack file or folder.")],
    service: Annotated[str, typer.Argument(help="The service (SERVICE or STACK/SERVICE).")],
    command: Annotated[
        list[str] | None, typer.Argument(help="The command (default: the service's).")
    ] = None,
    no_tty: NoTty = False,
    user: User = None,
    workdir: Workdir = None,
    env: EnvVars = None,
    service_ports: Annotated[
        bool, typer.Option("--service-ports", help="Publish the service's ports too.")
    ] = False,
    keep: Annotated[
        bool, typer.Option("--no-rm", help="Keep the container after it ends.")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="The container's name.")] = None,
    no_deps: Annotated[
        bool, typer.Option("--no-deps", help="Do not start the services it depends on.")
    ] = False,
    wait_timeout: Annotated[
        float, typer.Option("--wait-timeout", help="Seconds a dependency may take to be ready.")
    ] = 300.0,
    engine: Engine = "docker",
) -> int:
    """Run a one-off container of a service, removed after (its dependencies first)."""
    from stackctl.cli.apply_cmd import execute

    terminal = stdin_is_terminal()
    process = ProcessOptions(
        command=command_args(command),
        tty=terminal and not no_tty,
        stdin=True,
        user=user,
        workdir=workdir,
        env=env_pairs(env),
    )
    options = OneOffOptions(process, service_ports=service_ports, remove=not keep, name=name)
    loaded = pipeline.load([path], engine=engine)
    key = targets.one(loaded.stacks, service)
    eng = loaded.backend.connect()
    if not no_deps:  # its networks, volumes, image and the services it depends on
        with lock.hold(eng.identity(), [key[0]], 0.0):
            plan = oneoff.dependencies_plan(loaded, eng, key)
            if plan.operations:
                real_stdout = sys.stdout
                sys.stdout = sys.stderr  # progress on stderr: stdout is the command's
                try:
                    result = execute(
                        plan,
                        loaded.backend,
                        eng,
                        as_json=False,
                        parallelism=8,
                        wait_timeout=wait_timeout,
                        command="run",
                    )
                finally:
                    sys.stdout = real_stdout
                if not result.ok:
                    raise ApplyError(f"what {service} needs (its dependencies) did not start")
    return loaded.backend.run_one_off(loaded.desired, eng, key, options)
