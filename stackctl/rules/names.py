"""Names: of containers, volumes and stacks, and the host names a container resolves.

duplicate-container-name, duplicate-volume, container-name-with-replicas, invalid-name,
invalid-extra-host, invalid-dns, duplicate-stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from stackctl.model import Service, Stack
from stackctl.rules.core import ERROR, Finding, Rule, each_stack, item_path, parse_ip, where


def _duplicate_container_names(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """Two containers with one name, across all stacks."""
    seen: dict[str, tuple[Stack, Service]] = {}
    for stack in stacks:
        for svc in stack.services.values():
            for name in stack.container_names(svc):
                first = seen.setdefault(name, (stack, svc))
                if first[0] is stack and first[1] is svc:
                    continue
                o_stack, o_svc = first
                yield Finding(
                    stack,
                    f"services.{svc.name}.container_name"
                    if svc.container_name
                    else f"services.{svc.name}",
                    f"container name '{name}' of service '{svc.name}' is already used by "
                    f"service '{o_svc.name}' of stack '{o_stack.name}' "
                    f"({where(o_stack, f'services.{o_svc.name}')})",
                    "set a different container_name (or drop it to get '<stack>-<service>-1')",
                )


def _duplicate_volume_names(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """Two volumes that map to one Docker volume (``a_b`` of stack ``x`` and ``b`` of stack
    ``x_a`` are both ``x_a_b``): the second stack would write into the first one's data."""
    seen: dict[str, tuple[Stack, str]] = {}
    for stack in stacks:
        for key, vol in stack.volumes.items():
            if vol.external:
                continue
            name = stack.volume_name(key)
            first = seen.setdefault(name, (stack, key))
            if first[0] is stack and first[1] == key:
                continue
            o_stack, o_key = first
            yield Finding(
                stack,
                f"volumes.{key}.name" if vol.name else f"volumes.{key}",
                f"volume '{key}' of stack '{stack.name}' would be Docker volume '{name}', which "
                f"is volume '{o_key}' of stack '{o_stack.name}' "
                f"({where(o_stack, f'volumes.{o_key}')})",
                "give it another `name:` (or rename the key), or, to share the data on "
                f"purpose, let one stack define it and declare it `external: true` "
                f"(name: {name}) in the other",
            )


_DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
_NAME_HINT = "use letters, digits, '_', '.' and '-', starting with a letter or digit"


def _invalid_names(stack: Stack) -> Iterator[Finding]:
    """Container and local volume names the daemon refuses (``my web``, ``wéb``, ``v:x``);
    the default names carry the service and volume keys."""
    for svc in stack.services.values():
        for name in stack.container_names(svc):
            if not _DOCKER_NAME.fullmatch(name):
                own = bool(svc.container_name)
                yield Finding(
                    stack,
                    f"services.{svc.name}.container_name" if own else f"services.{svc.name}",
                    f"container name '{name}' of service '{svc.name}' is not a name Docker accepts",
                    _NAME_HINT if own else f"rename the service: {_NAME_HINT}",
                )
                break
    for key, vol in stack.volumes.items():
        name = stack.volume_name(key)
        if vol.driver in (None, "local") and not _DOCKER_NAME.fullmatch(name):
            yield Finding(
                stack,
                f"volumes.{key}.name" if vol.name else f"volumes.{key}",
                f"volume name '{name}' is not a name Docker accepts",
                _NAME_HINT if vol.name else f"rename the volume: {_NAME_HINT}",
            )


def _container_name_with_replicas(stack: Stack) -> Iterator[Finding]:
    """A fixed container_name cannot be shared by several replicas."""
    for svc in stack.services.values():
        if svc.container_name and svc.replica_count > 1:
            yield Finding(
                stack,
                f"services.{svc.name}.container_name",
                f"service '{svc.name}' has {svc.replica_count} replicas but one container_name "
                f"'{svc.container_name}'",
                "remove container_name (replicas are named <stack>-<service>-N) or use one replica",
            )


def _invalid_extra_hosts(stack: Stack) -> Iterator[Finding]:
    """``extra_hosts`` values must be IP addresses or ``host-gateway``."""
    for svc in stack.services.values():
        for host, value in svc.extra_hosts.items():
            if value != "host-gateway" and parse_ip(value) is None:
                yield Finding(
                    stack,
                    f"services.{svc.name}.extra_hosts.{host}",
                    f"extra host '{host}' maps to {value!r}, which is not an IP address",
                    "use an IP address, or host-gateway for the Docker host",
                    item_path(f"services.{svc.name}.extra_hosts", svc.extra_hosts, host),
                )


def _invalid_dns(stack: Stack) -> Iterator[Finding]:
    """``dns`` servers must be IP addresses."""
    for svc in stack.services.values():
        for i, server in enumerate(svc.dns):
            if parse_ip(server) is None:
                yield Finding(
                    stack,
                    f"services.{svc.name}.dns.{i}",
                    f"dns server {server!r} is not an IP address",
                    "Docker needs the resolver's address, e.g. 1.1.1.1",
                )


def _duplicate_stack_names(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """Two stacks with one name would manage the same containers."""
    seen: dict[str, Stack] = {}
    for stack in stacks:
        first = seen.setdefault(stack.name, stack)
        if first is not stack:
            yield Finding(
                stack,
                "name",
                f"stack name '{stack.name}' is already used by {where(first)}",
                "give each stack its own name",
            )


RULES: tuple[Rule, ...] = (
    Rule("duplicate-container-name", ERROR, "two containers with one name",
         _duplicate_container_names),
    Rule("duplicate-volume", ERROR, "two volumes with one Docker name",
         _duplicate_volume_names),
    Rule("container-name-with-replicas", ERROR, "container_name with several replicas",
         each_stack(_container_name_with_replicas)),
    Rule("invalid-name", ERROR, "container or volume name Docker refuses",
         each_stack(_invalid_names)),
    Rule("invalid-extra-host", ERROR, "extra_hosts value not an IP or host-gateway",
         each_stack(_invalid_extra_hosts)),
    Rule("invalid-dns", ERROR, "dns entry not an IP", each_stack(_invalid_dns)),
    Rule("duplicate-stack", ERROR, "two stacks with one name", _duplicate_stack_names),
)  # fmt: skip
