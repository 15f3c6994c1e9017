"""The host the containers run on: files beside the stack, and what a container may reach.

missing-env-file, bind-outside-stack (errors); docker-socket, privileged,
exposed-database-port (warnings).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from stackctl.model import Stack
from stackctl.rules.core import ANY_HOST, ERROR, WARNING, Finding, Rule, each_stack


def _missing_env_files(stack: Stack) -> Iterator[Finding]:
    """An ``env_file`` that does not exist (relative paths from the stack's folder)."""
    for svc in stack.services.values():
        for i, name in enumerate(svc.env_file):
            path = Path(name).expanduser()
            full = path if path.is_absolute() else stack.base_dir / path
            if not full.is_file():
                yield Finding(
                    stack,
                    f"services.{svc.name}.env_file.{i}",
                    f"env file '{name}' of service '{svc.name}' does not exist (looked for {full})",
                    "create it, or fix the path (relative paths start at the stack's folder)",
                )


def _binds_outside_stack(stack: Stack) -> Iterator[Finding]:
    """A relative bind source that climbs out of the stack's folder (``../../etc``).

    Relative paths promise "beside the stack"; one that leaves the folder is most likely a
    mistake, and one that reaches ``/etc`` is a surprise in review. The check is on the
    text (no symlinks followed: the source may not exist yet). Absolute and ``~`` paths
    say what they mean and are allowed.
    """
    base = os.path.abspath(stack.base_dir)
    for svc in stack.services.values():
        for i, mount in enumerate(svc.volumes):
            source = mount.source or ""
            if mount.type != "bind" or source.startswith(("/", "~")):
                continue
            full = os.path.normpath(os.path.join(base, source))
            if full == base or full.startswith(base.rstrip("/") + "/"):
                continue
            yield Finding(
                stack,
                f"services.{svc.name}.volumes.{i}",
                f"bind mount source '{source}' of service '{svc.name}' resolves to {full}, "
                f"outside the stack's folder {base}",
                f"use an absolute path ('{full}') if you really mean a host path, or keep "
                "the data inside the stack's folder",
            )


_DOCKER_SOCKETS = {"/var/run/docker.sock", "/run/docker.sock"}
_SOCKET_PROXY_HINT = (
    "even read-only, the socket lets it call the whole API; a socket proxy "
    "(e.g. tecnativa/docker-socket-proxy) limits what it may call"
)


def _docker_socket(stack: Stack) -> Iterator[Finding]:
    """The Docker socket mounted into a container gives it control of the host."""
    for svc in stack.services.values():
        for i, mount in enumerate(svc.volumes):
            if mount.type != "bind" or os.path.normpath(mount.source or "") not in _DOCKER_SOCKETS:
                continue
            how = "read-only" if mount.read_only else "read-write"
            yield Finding(
                stack,
                f"services.{svc.name}.volumes.{i}",
                f"service '{svc.name}' mounts the Docker socket {how}: it can control the "
                "Docker daemon, which is root on the host",
                _SOCKET_PROXY_HINT
                if mount.read_only
                else "mount it read-only (:ro) if the service only watches containers; "
                + _SOCKET_PROXY_HINT,
            )


def _privileged(stack: Stack) -> Iterator[Finding]:
    """A privileged container has every capability and every host device."""
    for svc in stack.services.values():
        if svc.privileged:
            yield Finding(
                stack,
                f"services.{svc.name}.privileged",
                f"service '{svc.name}' runs privileged: it has every capability and can reach "
                "all host devices",
                "grant only what it needs with cap_add and devices",
            )


DATABASE_PORTS = frozenset(
    {5432, 3306, 27017, 6379, 9200, 5984, 1433, 1521, 26257, 8086, 11211, 9042}
)


def _exposed_database_ports(stack: Stack) -> Iterator[Finding]:
    """A database port published on every interface of the host."""
    for svc in stack.services.values():
        for i, port in enumerate(svc.ports):
            if not port.published or port.host_ip not in ANY_HOST:
                continue
            if port.target not in DATABASE_PORTS and port.published not in DATABASE_PORTS:
                continue
            yield Finding(
                stack,
                f"services.{svc.name}.ports.{i}",
                f"service '{svc.name}' publishes database port {port.published} on all "
                "interfaces of the host",
                f"bind it to localhost ('127.0.0.1:{port.published}:{port.target}') or drop it "
                "and reach the service by name on a shared network",
            )


RULES: tuple[Rule, ...] = (
    Rule("missing-env-file", ERROR, "env_file does not exist", each_stack(_missing_env_files)),
    Rule("bind-outside-stack", ERROR, "relative bind source outside the stack's folder",
         each_stack(_binds_outside_stack)),
    Rule("docker-socket", WARNING, "Docker socket mounted", each_stack(_docker_socket)),
    Rule("privileged", WARNING, "privileged container", each_stack(_privileged)),
    Rule("exposed-database-port", WARNING, "database port on all interfaces",
         each_stack(_exposed_database_ports)),
)  # fmt: skip
