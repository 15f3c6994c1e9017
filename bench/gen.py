"""One description of a benchmark stack, written out as a stackctl stack file and as an
equivalent compose.yaml.

A stack of N services ``s01 .. sNN`` on the busybox test image, all on two networks
(``front`` and ``back``), each with a health check; every fifth service (``s05``, ``s10``,
...) depends on its neighbour (``s04``, ``s09``, ...) being healthy. The neighbours are
checked every 2 s, so that the waits for them stay short; the services nobody waits for
every 30 s (Docker's default interval) unless told otherwise.

:func:`changed` gives the same stack with one service's environment changed (the
benchmark's "one service changed" row): :func:`changed_service`, a neighbour checked every
2 s, so that the wait for its replacement to be healthy is short.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

IMAGE = "stackctl-test/busybox:1"
# ``sleep & wait``: the TERM trap runs at once (``wait`` is interrupted by the signal), so
# a graceful stop takes milliseconds for every contender, not up to a second.
COMMAND = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"]
# Docker 20.10 has no start_interval: the first check runs one interval after start.
HEALTH_TEST = ["CMD", "true"]
# The services something waits for. 2s, not 1s: the first check runs one interval after
# start, so this is what each wait for a neighbour costs at least, for every contender.
HEALTH_INTERVAL = "2s"
# The services nobody waits for: Docker's default interval. Every check is a runc exec
# (about 50 ms of CPU here), so 100 services all checked every 2 s are 50 execs a second,
# which keep this 2-core machine's CPUs busy by themselves and starve every command timed
# beside them; ``python -m bench.run --unwaited-interval 2s`` reproduces that load.
UNWAITED_INTERVAL = "30s"
# Generous: a check on a busy machine may take a while; the timeout costs nothing when
# checks pass, and a slow check must not turn a container unhealthy mid-benchmark.
HEALTH_TIMEOUT = "30s"
HEALTH_RETRIES = 3
NETWORKS = ("front", "back")
RESTART = "unless-stopped"


@dataclass(frozen=True)
class Service:
    name: str
    depends_on: str | None  # the neighbour it needs healthy
    environment: tuple[tuple[str, str], ...] = ()  # only in a changed stack (changed())


@dataclass(frozen=True)
class Description:
    name: str  # stack / compose project name
    services: tuple[Service, ...]
    # network key -> subnet. Explicit /24s outside Docker's default pools: a network the
    # daemon refuses to remove (Docker 20.10's stuck "active endpoints") then holds a
    # /24 nobody else wants instead of one of the ~30 default pools everyone shares.
    subnets: tuple[tuple[str, str], ...] = ()
    unwaited_interval: str = UNWAITED_INTERVAL  # the health checks of the other services

    def subnet(self, key: str) -> str | None:
        return dict(self.subnets).get(key)

    @property
    def waited(self) -> frozenset[str]:
        """The services some other service waits for (to be healthy)."""
        return frozenset(s.depends_on for s in self.services if s.depends_on)

    def interval(self, service: str) -> str:
        """The health check interval of one service."""
        return HEALTH_INTERVAL if service in self.waited else self.unwaited_interval

    @property
    def waits(self) -> int:
        return sum(1 for s in self.services if s.depends_on)


def interval_option(text: str) -> str:
    """``--unwaited-interval``'s argument: whole or decimal seconds, like ``30s``."""
    if not re.fullmatch(r"\d+(\.\d+)?s", text):
        raise argparse.ArgumentTypeError(f"seconds like 30s, not {text!r}")
    return text


def add_interval_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unwaited-interval",
        type=interval_option,
        default=UNWAITED_INTERVAL,
        help="health check interval of the services nobody waits for "
        f"({UNWAITED_INTERVAL}, Docker's default; those waited for: {HEALTH_INTERVAL})",
    )


def describe(
    name: str,
    n: int,
    subnets: tuple[str, ...] = (),
    unwaited_interval: str = UNWAITED_INTERVAL,
) -> Description:
    width = max(2, len(str(n)))
    names = [f"s{i:0{width}d}" for i in range(1, n + 1)]
    services = tuple(
        Service(svc, names[i - 1] if (i + 1) % 5 == 0 else None) for i, svc in enumerate(names)
    )
    return Description(
        name, services, tuple(zip(NETWORKS, subnets, strict=False)), unwaited_interval
    )


def changed_service(d: Description) -> str:
    """The service the "one service changed" row changes: the first neighbour (health
    checked every 2 s, so its replacement is healthy about 2 s after its start), else the
    first service."""
    return min(d.waited) if d.waited else d.services[0].name


def changed(d: Description, value: str, service: str | None = None) -> Description:
    """``d`` with ``BENCH_CHANGE=value`` in the environment of ``service`` (default
    :func:`changed_service`) and of no other."""
    name = service or changed_service(d)
    if name not in {s.name for s in d.services}:
        raise ValueError(f"no service {name!r} in {d.name}")
    services = tuple(
        replace(s, environment=(("BENCH_CHANGE", value),)) if s.name == name else s
        for s in d.services
    )
    return replace(d, services=services)


def stack_py(d: Description) -> str:
    """The stackctl stack file (typed Python)."""
    lines = [
        f'"""Benchmark stack {d.name}: {len(d.services)} services (generated)."""',
        "",
        "from stackctl import Healthcheck, Ipam, IpamPool, Network, Service, Stack, healthy",
        "",
        *(_py_network(d, key) for key in NETWORKS),
        *_py_health("WAITED", HEALTH_INTERVAL),
        *_py_health("UNWAITED", d.unwaited_interval),
        f"COMMAND = {COMMAND!r}",
        "",
    ]
    for s in d.services:
        check = "WAITED" if s.name in d.waited else "UNWAITED"
        deps = f", depends_on={{{s.depends_on}: healthy}}" if s.depends_on else ""
        env = f", environment={dict(s.environment)!r}" if s.environment else ""
        lines.append(
            f"{s.name} = Service({s.name!r}, image={IMAGE!r}, command=COMMAND, "
            f"restart={RESTART!r}, healthcheck={check}, networks=[{', '.join(NETWORKS)}]"
            f"{deps}{env})"
        )
    lines += [
        "",
        f"stack = Stack({d.name!r}, services=[{', '.join(s.name for s in d.services)}], "
        f"networks=[{', '.join(NETWORKS)}])",
        "",
    ]
    return "\n".join(lines)


def _py_health(name: str, interval: str) -> list[str]:
    return [
        f"{name} = Healthcheck.cmd(",
        f"    {', '.join(repr(a) for a in HEALTH_TEST[1:])},",
        f"    interval={interval!r},",
        f"    timeout={HEALTH_TIMEOUT!r},",
        f"    retries={HEALTH_RETRIES},",
        ")",
    ]


def _py_network(d: Description, key: str) -> str:
    subnet = d.subnet(key)
    if subnet is None:
        return f"{key} = Network({key!r})"
    return f"{key} = Network({key!r}, ipam=Ipam(config=[IpamPool(subnet={subnet!r})]))"


def compose_yaml(d: Description) -> str:
    """The same stack for docker-compose (JSON is YAML; compose file format 2.4 keeps
    ``depends_on: condition`` in docker-compose 1.x)."""
    services: dict[str, object] = {}
    for s in d.services:
        svc: dict[str, object] = {
            "image": IMAGE,
            "command": COMMAND,
            "restart": RESTART,
            "healthcheck": {
                "test": HEALTH_TEST,
                "interval": d.interval(s.name),
                "timeout": HEALTH_TIMEOUT,
                "retries": HEALTH_RETRIES,
            },
            "networks": list(NETWORKS),
        }
        if s.depends_on:
            svc["depends_on"] = {s.depends_on: {"condition": "service_healthy"}}
        if s.environment:
            svc["environment"] = dict(s.environment)
        services[s.name] = svc
    networks: dict[str, object] = {}
    for key in NETWORKS:
        subnet = d.subnet(key)
        networks[key] = {"ipam": {"config": [{"subnet": subnet}]}} if subnet else {}
    doc = {"version": "2.4", "services": services, "networks": networks}
    return json.dumps(doc, indent=2) + "\n"


def write(d: Description, folder: Path) -> tuple[Path, Path]:
    """``folder/stack.py`` and ``folder/compose.yaml``."""
    folder.mkdir(parents=True, exist_ok=True)
    py = folder / "stack.py"
    py.write_text(stack_py(d), encoding="utf-8")
    compose = folder / "compose.yaml"
    compose.write_text(compose_yaml(d), encoding="utf-8")
    return py, compose
