"""What Swarm cannot honour, said by name before anything is deployed.

``docker stack deploy`` prints "Ignoring unsupported options" (or nothing) and goes on;
stackctl refuses a field whose meaning would be lost (an error) and warns about one whose
effect merely differs on a swarm. Each finding names the service and field, with the
file:line the loader recorded (``stack.line_of(path)``).

    diagnostics = validate_swarm(stacks)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from stackctl.errors import Diagnostic
from stackctl.model import Stack


@dataclass(frozen=True)
class _Unsupported:
    field: str
    severity: str  # error | warning
    why: str
    hint: str


# Service fields, checked when set (truthy). Order: as a reader meets them in a stack file.
SERVICE_FIELDS: tuple[_Unsupported, ...] = (
    _Unsupported(
        "container_name",
        "error",
        "Swarm names each task's container itself (<stack>_<service>.<slot>.<id>)",
        "remove container_name; other services reach it by its service name on a network",
    ),
    _Unsupported(
        "privileged",
        "error",
        "swarm services cannot run privileged containers",
        "remove privileged, or use --engine docker for this stack",
    ),
    _Unsupported(
        "devices",
        "error",
        "swarm services cannot map host devices",
        "remove devices, or use --engine docker for this stack",
    ),
    _Unsupported(
        "security_opt",
        "error",
        "swarm services take no security_opt",
        "remove security_opt, or use --engine docker for this stack",
    ),
    _Unsupported(
        "shm_size",
        "error",
        "swarm services take no shm_size",
        "mount a tmpfs at /dev/shm instead (volumes: - type: tmpfs, target: /dev/shm)",
    ),
    _Unsupported(
        "pull_policy",
        "warning",
        "each swarm node pulls (or uses its own copy of) the image itself",
        "remove pull_policy; make the image available on every node",
    ),
    _Unsupported(
        "expose",
        "warning",
        "expose has no effect on a swarm: tasks reach each other's ports on shared networks",
        "remove expose",
    ),
)


def _diag(stack: Stack, severity: str, message: str, path: str, hint: str, code: str) -> Diagnostic:
    return Diagnostic(
        severity,
        message,
        file=str(stack.origin) if stack.origin else None,
        line=stack.line_of(path),
        path=path,
        hint=hint,
        code=code,
    )


def _service_findings(stack: Stack) -> Iterator[Diagnostic]:
    for name, service in stack.services.items():
        base = f"services.{name}"
        for rule in SERVICE_FIELDS:
            if getattr(service, rule.field):
                yield _diag(
                    stack,
                    rule.severity,
                    f"service {name!r}: {rule.field} is not supported on Swarm: {rule.why}",
                    f"{base}.{rule.field}",
                    rule.hint,
                    f"swarm-unsupported-{rule.field.replace('_', '-')}",
                )
        for key, attach in service.networks.items():
            for addr in ("ipv4_address", "ipv6_address"):
                if getattr(attach, addr):
                    yield _diag(
                        stack,
                        "error",
                        f"service {name!r}: networks.{key}.{addr} is not supported on Swarm: "
                        "tasks get their addresses from the overlay network's pool",
                        f"{base}.networks.{key}.{addr}",
                        f"remove {addr}; reach the service by its name (or an alias)",
                        "swarm-unsupported-static-address",
                    )
        for i, port in enumerate(service.ports):
            if port.host_ip:
                yield _diag(
                    stack,
                    "error",
                    f"service {name!r}: ports[{i}] binds host_ip {port.host_ip}, which Swarm "
                    "cannot do: a published port listens on every address of every node "
                    "(or of the task's node in mode: host)",
                    f"{base}.ports.{i}",
                    "remove the address (and restrict access with a firewall), or use "
                    "--engine docker",
                    "swarm-unsupported-host-ip",
                )
        for i, mount in enumerate(service.volumes):
            if mount.type == "bind":
                yield _diag(
                    stack,
                    "warning",
                    f"service {name!r}: bind mount {mount.source} -> {mount.target} must exist "
                    "on every node a task may run on (Swarm does not create it)",
                    f"{base}.volumes.{i}",
                    "use a named volume, or a placement constraint pinning the service to "
                    "the node that has the path",
                    "swarm-bind-mount",
                )
        dep = service.deploy
        if dep and dep.mode == "global" and (dep.replicas is not None or service.replicas):
            yield _diag(
                stack,
                "error",
                f"service {name!r}: deploy.replicas cannot be combined with mode: global",
                f"{base}.deploy.replicas",
                "remove replicas (global runs one task per node) or the global mode",
                "swarm-global-replicas",
            )
        if dep and dep.endpoint_mode == "dnsrr":
            for i, port in enumerate(service.ports):
                if (port.mode or "ingress") == "ingress":
                    yield _diag(
                        stack,
                        "error",
                        f"service {name!r}: ports[{i}] is published through the ingress "
                        "routing mesh, which needs endpoint_mode: vip",
                        f"{base}.ports.{i}",
                        "publish it with mode: host, or use endpoint_mode: vip",
                        "swarm-dnsrr-ingress",
                    )


def _network_findings(stack: Stack) -> Iterator[Diagnostic]:
    for key, net in stack.networks.items():
        if net.external or net.driver in (None, "overlay"):
            continue
        yield _diag(
            stack,
            "error",
            f"network {key!r}: driver {net.driver} cannot span a swarm; stackctl creates "
            "overlay networks",
            f"networks.{key}.driver",
            "remove the driver (overlay is the default on Swarm)",
            "swarm-network-driver",
        )


def validate_swarm(stacks: Sequence[Stack]) -> list[Diagnostic]:
    """Errors and warnings for fields Swarm cannot honour, in every stack."""
    out: list[Diagnostic] = []
    for stack in stacks:
        out.extend(_service_findings(stack))
        out.extend(_network_findings(stack))
    return out


def resolve_engine(requested: str, stacks: Sequence[Stack]) -> tuple[str, list[Diagnostic]]:
    """The run's engine: ``--engine swarm`` or stacks that all say ``engine: swarm``.

    (``--engine docker`` is the default, so a stack's own ``engine:`` wins over it.)
    Stacks of one run that name different engines are an error.
    """
    declared = {s.engine for s in stacks if s.engine}
    if requested == "swarm":
        wrong = [s for s in stacks if s.engine == "docker"]
        return "swarm", [
            _diag(
                s,
                "error",
                f"stack {s.name!r} says engine: docker but --engine swarm was given",
                "engine",
                "remove the stack's engine: line, or run without --engine swarm",
                "engine-conflict",
            )
            for s in wrong
        ]
    if len(declared) > 1:
        return requested, [
            _diag(
                s,
                "error",
                f"stack {s.name!r} says engine: {s.engine}, but stacks of one run must share "
                "an engine",
                "engine",
                "apply the docker and the swarm stacks in separate runs",
                "engine-conflict",
            )
            for s in stacks
            if s.engine
        ]
    if declared == {"swarm"}:
        return "swarm", []
    return requested, []
