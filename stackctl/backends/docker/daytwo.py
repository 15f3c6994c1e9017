"""Day two on one host: the containers of services for logs and exec, one-off containers
(``stackctl run``) and the restart plan. The daemon calls are the engine's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from functools import partial

from stackctl.backends.docker.desired import ContainerConfig, DesiredContainer, DesiredState
from stackctl.backends.docker.observe import ObservedContainer, ObservedState, fingerprint
from stackctl.core.daytwo import LogSource, LogWindow, OneOffOptions, ProcessOptions
from stackctl.core.labels import (
    LABEL_CONFIG,
    LABEL_HASH,
    LABEL_NUMBER,
    LABEL_ONEOFF,
    LABEL_ONESHOT,
    LABEL_SERVICE,
    LABEL_STACK,
)
from stackctl.core.plan import Kind, Operation, Plan, PlanBuilder, Step, container_id, wait_id
from stackctl.engine.docker import DockerEngine, Terminal
from stackctl.errors import StackctlError

Key = tuple[str, str]  # (stack, service)
RESTART_STEPS = (Step.STOP, Step.START)


def _running(
    want: DesiredState, have: ObservedState, services: AbstractSet[Key]
) -> list[tuple[DesiredContainer, ObservedContainer]]:
    """The existing containers of ``services`` (in the stacks' order); a service with none
    is an error that says to apply first."""
    out: list[tuple[DesiredContainer, ObservedContainer]] = []
    for key in sorted(services):
        found = [
            (dc, obs)
            for dc in want.containers
            if (dc.stack, dc.service) == key
            and (obs := have.container(dc.name)) is not None
            and (obs.stack, obs.service) == key
        ]
        if not found:
            raise StackctlError(
                f"service {key[1]!r} of stack {key[0]!r} has no container",
                hint="run `stackctl apply` first",
            )
        out += found
    return out


def log_sources(
    want: DesiredState, have: ObservedState, engine: DockerEngine, services: AbstractSet[Key]
) -> list[LogSource]:
    def read(container: str, window: LogWindow) -> Iterator[str]:
        return engine.container_logs(
            container,
            follow=window.follow,
            since=window.since,
            until=window.until,
            tail=window.tail,
        )

    return [
        LogSource(dc.service, dc.name, partial(read, obs.id))
        for dc, obs in _running(want, have, services)
    ]


def exec_in(
    want: DesiredState,
    have: ObservedState,
    engine: DockerEngine,
    key: Key,
    index: int,
    options: ProcessOptions,
) -> int:
    """Run a command in container number ``index`` of the service; its exit code."""
    found = _running(want, have, {key})
    numbered = [obs for dc, obs in found if dc.number == index]
    if not numbered:
        raise StackctlError(
            f"service {key[1]!r} has no container number {index}",
            hint=f"it has {len(found)}: use --index 1..{len(found)}",
        )
    obs = numbered[0]
    if not obs.running:
        raise StackctlError(
            f"container {obs.name} is not running ({obs.state})",
            hint="start it with `stackctl apply`, or use `stackctl run` for a one-off",
        )
    term = Terminal(tty=options.tty, stdin=options.stdin)
    return engine.exec(
        obs.id, options.command, term, user=options.user, workdir=options.workdir, env=options.env
    )


def one_off(dc: DesiredContainer, options: OneOffOptions) -> DesiredContainer:
    """The service's container as a one-off: its config and networks, the given command,
    no ports unless asked, another name, and labels that make it no unit of the stack."""
    p = options.process
    spec: ContainerConfig = {**dc.spec, "tty": p.tty, "stdin_open": p.stdin}
    if p.command:
        spec["command"] = list(p.command)
    if p.user:
        spec["user"] = p.user
    if p.workdir:
        spec["working_dir"] = p.workdir
    if not options.service_ports:
        spec["ports"] = []
    spec["restart"] = "no"
    ours = {LABEL_STACK, LABEL_SERVICE, LABEL_NUMBER, LABEL_HASH, LABEL_CONFIG, LABEL_ONESHOT}
    labels = {k: v for k, v in dc.labels.items() if k not in ours}
    labels[LABEL_ONEOFF] = f"{dc.stack}/{dc.service}"
    name = options.name or f"{dc.stack}-{dc.service}-run-{uuid.uuid4().hex[:12]}"
    return replace(dc, name=name, spec=spec, env={**dc.env, **p.env}, labels=labels)


def run_one_off(want: DesiredState, engine: DockerEngine, key: Key, options: OneOffOptions) -> int:
    """Create, start and follow a one-off container of the service; its exit code. It is
    removed afterwards unless ``options.remove`` is false."""
    dc = next(c for c in want.containers if (c.stack, c.service) == key)
    oneoff = one_off(dc, options)
    if dc.image and not engine.image_exists(dc.image):
        engine.pull(dc.image)
    cid = engine.create_one_off(oneoff, oneoff.name)
    term = Terminal(tty=options.process.tty, stdin=options.process.stdin)
    return engine.run_attached(cid, term, remove=options.remove)


def plan_restart(want: DesiredState, have: ObservedState, services: AbstractSet[Key]) -> Plan:
    """Stop and start each container of ``services``, a service only once those it depends
    on (of the ones restarted) meet their condition: the apply's own waits."""
    b = PlanBuilder()
    restarted: dict[Key, list[str]] = {}
    chosen = _running(want, have, services)
    for dc, obs in chosen:
        deps = [wait_id(dc.stack, service, cond) for service, cond in dc.depends_on.items()]
        op = Operation(
            container_id(dc.name),
            Kind.RESTART,
            dc.name,
            dc.stack,
            "restart",
            unit=dc,
            target_id=obs.id,
            steps=RESTART_STEPS,
        )
        restarted.setdefault((dc.stack, dc.service), []).append(b.add(op, after=deps))
    b.waits([dc for dc, _ in chosen], restarted)
    names: Sequence[str] = [dc.name for dc, _ in chosen]
    return b.finish(want.stacks, lambda: fingerprint(have, want.stacks, names), have.api_version)
