"""What Swarm cannot honour, said by name before anything is deployed.

``docker stack deploy`` prints "Ignoring unsupported options" (or nothing) and goes on;
stackctl refuses a field whose meaning would be lost (an error) and warns about one whose
effect merely differs on a swarm. Each finding names the service and field, with the
file:line the loader recorded. These rules run only for ``engine="swarm"``.

swarm-unsupported-<field> (build, container_name, privileged, devices, security_opt, shm_size:
errors; pull_policy, expose: warnings), swarm-unsupported-host-setting (network_mode,
links, ulimits, the service-level limits ...), swarm-unsupported-gpus (gpus and
deploy.resources.reservations.devices), swarm-unsupported-mount-option (bind
propagation, SELinux relabel, volume subpath, tmpfs mode), swarm-unsupported-static-address,
swarm-unsupported-host-ip, swarm-bind-mount (warning), swarm-global-replicas,
swarm-dnsrr-ingress, swarm-network-driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from stackctl.model import Stack
from stackctl.rules.core import ERROR, WARNING, Finding, Rule, Severity, StackCheck, each_stack

SWARM = ("swarm",)


@dataclass(frozen=True)
class _Unsupported:
    field: str
    severity: Severity
    why: str
    hint: str


# Service fields, checked when set (truthy). Order: as a reader meets them in a stack file.
SERVICE_FIELDS: tuple[_Unsupported, ...] = (
    _Unsupported(
        "build",
        ERROR,
        "an image built on this machine is not on the other nodes, which pull the image "
        "from a registry",
        "build and push the image (docker build -t REGISTRY/NAME:TAG . && docker push "
        "REGISTRY/NAME:TAG), then reference it with `image:` and remove `build:`",
    ),
    _Unsupported(
        "container_name",
        ERROR,
        "Swarm names each task's container itself (<stack>_<service>.<slot>.<id>)",
        "remove container_name; other services reach it by its service name on a network",
    ),
    _Unsupported(
        "privileged",
        ERROR,
        "swarm services cannot run privileged containers",
        "remove privileged, or use --engine docker for this stack",
    ),
    _Unsupported(
        "devices",
        ERROR,
        "swarm services cannot map host devices",
        "remove devices, or use --engine docker for this stack",
    ),
    _Unsupported(
        "security_opt",
        ERROR,
        "swarm services take no security_opt",
        "remove security_opt, or use --engine docker for this stack",
    ),
    _Unsupported(
        "shm_size",
        ERROR,
        "swarm services take no shm_size",
        "mount a tmpfs at /dev/shm instead (volumes: - type: tmpfs, target: /dev/shm)",
    ),
    _Unsupported(
        "pull_policy",
        WARNING,
        "each swarm node pulls (or uses its own copy of) the image itself",
        "remove pull_policy; make the image available on every node",
    ),
    _Unsupported(
        "expose",
        WARNING,
        "expose has no effect on a swarm: tasks reach each other's ports on shared networks",
        "remove expose",
    ),
)


def _unsupported(field: _Unsupported) -> StackCheck:
    """The check for one service field Swarm cannot honour."""

    def check(stack: Stack) -> Iterator[Finding]:
        for name, service in stack.services.items():
            if getattr(service, field.field):
                yield Finding(
                    stack,
                    f"services.{name}.{field.field}",
                    f"service {name!r}: {field.field} is not supported on Swarm: {field.why}",
                    field.hint,
                )

    check.__doc__ = f"{field.field} set on a swarm service."
    return check


# Single-host settings stackctl does not carry to a swarm service (errors, one rule).
_LIMIT_HINT = "set deploy.resources.{} instead (Swarm honours it)"
HOST_SETTINGS: dict[str, str] = {
    "network_mode": "join overlay networks with `networks:`",
    "links": "reach the service by its name (or a network alias) on a shared network",
    "mem_limit": _LIMIT_HINT.format("limits.memory"),
    "cpus": _LIMIT_HINT.format("limits.cpus"),
    "pids_limit": _LIMIT_HINT.format("limits.pids"),
    "mem_reservation": _LIMIT_HINT.format("reservations.memory"),
    **{
        f: f"remove {f}, or use --engine docker for this stack"
        for f in (
            "ulimits", "runtime", "platform", "memswap_limit", "cpu_shares", "cpu_quota",
            "cpu_period", "cpuset", "oom_score_adj", "group_add", "ipc", "pid",
            "userns_mode", "cgroup_parent", "storage_opt", "domainname", "configs",
        )
    },
}  # fmt: skip


def _host_settings(stack: Stack) -> Iterator[Finding]:
    """Single-host settings (network_mode, links, ulimits, service-level limits, ...)."""
    for name, service in stack.services.items():
        for field, hint in HOST_SETTINGS.items():
            value = getattr(service, field)
            if value is not None and value != [] and value != {}:
                yield Finding(
                    stack,
                    f"services.{name}.{field}",
                    f"service {name!r}: {field} is not supported on Swarm by stackctl",
                    hint,
                )


def _gpus(stack: Stack) -> Iterator[Finding]:
    """GPU requests (``gpus``, ``deploy.resources.reservations.devices``): a swarm service
    has no device requests (Swarm's generic resources are another mechanism)."""
    for name, service in stack.services.items():
        res = service.deploy.resources if service.deploy else None
        paths = [f"services.{name}.gpus"] if service.gpus else []
        if res and res.reservations and res.reservations.devices:
            paths.append(f"services.{name}.deploy.resources.reservations.devices")
        for path in paths:
            yield Finding(
                stack,
                path,
                f"service {name!r}: {path.split('.', 2)[2]} is not supported on Swarm: a "
                "swarm service cannot request devices from a device driver",
                "use --engine docker for this stack (or advertise the GPUs as the nodes' "
                "generic resources and reserve those, outside stackctl)",
            )


def _static_addresses(stack: Stack) -> Iterator[Finding]:
    """A fixed ipv4_address/ipv6_address: tasks get theirs from the overlay's pool."""
    for name, service in stack.services.items():
        for key, attach in service.networks.items():
            for addr in ("ipv4_address", "ipv6_address"):
                if getattr(attach, addr):
                    yield Finding(
                        stack,
                        f"services.{name}.networks.{key}.{addr}",
                        f"service {name!r}: networks.{key}.{addr} is not supported on Swarm: "
                        "tasks get their addresses from the overlay network's pool",
                        f"remove {addr}; reach the service by its name (or an alias)",
                    )


def _host_ips(stack: Stack) -> Iterator[Finding]:
    """A port bound to one host address: Swarm publishes on every address."""
    for name, service in stack.services.items():
        for i, port in enumerate(service.ports):
            if port.host_ip:
                yield Finding(
                    stack,
                    f"services.{name}.ports.{i}",
                    f"service {name!r}: ports[{i}] binds host_ip {port.host_ip}, which Swarm "
                    "cannot do: a published port listens on every address of every node "
                    "(or of the task's node in mode: host)",
                    "remove the address (and restrict access with a firewall), or use "
                    "--engine docker",
                )


def _bind_mounts(stack: Stack) -> Iterator[Finding]:
    """A bind mount, whose source must exist on every node."""
    for name, service in stack.services.items():
        for i, mount in enumerate(service.volumes):
            if mount.type == "bind":
                yield Finding(
                    stack,
                    f"services.{name}.volumes.{i}",
                    f"service {name!r}: bind mount {mount.source} -> {mount.target} must exist "
                    "on every node a task may run on (Swarm does not create it)",
                    "use a named volume, or a placement constraint pinning the service to "
                    "the node that has the path",
                )


def _global_replicas(stack: Stack) -> Iterator[Finding]:
    """Replicas given for a global service."""
    for name, service in stack.services.items():
        dep = service.deploy
        if dep and dep.mode == "global" and (dep.replicas is not None or service.replicas):
            yield Finding(
                stack,
                f"services.{name}.deploy.replicas",
                f"service {name!r}: deploy.replicas cannot be combined with mode: global",
                "remove replicas (global runs one task per node) or the global mode",
            )


def _dnsrr_ingress(stack: Stack) -> Iterator[Finding]:
    """An ingress-published port on a service with endpoint_mode: dnsrr."""
    for name, service in stack.services.items():
        dep = service.deploy
        if not (dep and dep.endpoint_mode == "dnsrr"):
            continue
        for i, port in enumerate(service.ports):
            if (port.mode or "ingress") == "ingress":
                yield Finding(
                    stack,
                    f"services.{name}.ports.{i}",
                    f"service {name!r}: ports[{i}] is published through the ingress "
                    "routing mesh, which needs endpoint_mode: vip",
                    "publish it with mode: host, or use endpoint_mode: vip",
                )


def _network_drivers(stack: Stack) -> Iterator[Finding]:
    """A network driver that cannot span a swarm."""
    for key, net in stack.networks.items():
        if net.external or net.driver in (None, "overlay"):
            continue
        yield Finding(
            stack,
            f"networks.{key}.driver",
            f"network {key!r}: driver {net.driver} cannot span a swarm; stackctl creates "
            "overlay networks",
            "remove the driver (overlay is the default on Swarm)",
        )


MOUNT_OPTIONS = {  # Mount field -> how Compose spells it
    "propagation": "bind.propagation",
    "selinux": "bind.selinux (:z, :Z)",
    "subpath": "volume.subpath",
    "tmpfs_mode": "tmpfs.mode",
}


def _mount_options(stack: Stack) -> Iterator[Finding]:
    """Volume options the swarm backend does not apply yet (the docker backend does)."""
    for name, service in stack.services.items():
        for i, m in enumerate(service.volumes):
            for field, spelled in MOUNT_OPTIONS.items():
                if getattr(m, field) is not None:
                    yield Finding(
                        stack,
                        f"services.{name}.volumes.{i}",
                        f"service {name!r}: {spelled} on the mount at {m.target} is not "
                        "supported on Swarm by stackctl",
                        "remove it, or deploy this stack with the docker engine",
                    )


RULES: tuple[Rule, ...] = (
    *(
        Rule(
            f"swarm-unsupported-{f.field.replace('_', '-')}",
            f.severity,
            f"{f.field} on a swarm service",
            each_stack(_unsupported(f)),
            SWARM,
        )
        for f in SERVICE_FIELDS
    ),
    Rule("swarm-unsupported-host-setting", ERROR, "a single-host setting on a swarm service",
         each_stack(_host_settings), SWARM),
    Rule("swarm-unsupported-gpus", ERROR, "GPU (device) requests on a swarm service",
         each_stack(_gpus), SWARM),
    Rule("swarm-unsupported-mount-option", ERROR, "volume option not applied on a swarm",
         each_stack(_mount_options), SWARM),
    Rule("swarm-unsupported-static-address", ERROR, "fixed address on a swarm service",
         each_stack(_static_addresses), SWARM),
    Rule("swarm-unsupported-host-ip", ERROR, "port bound to one host address on a swarm",
         each_stack(_host_ips), SWARM),
    Rule("swarm-bind-mount", WARNING, "bind mount that must exist on every node",
         each_stack(_bind_mounts), SWARM),
    Rule("swarm-global-replicas", ERROR, "replicas with mode: global",
         each_stack(_global_replicas), SWARM),
    Rule("swarm-dnsrr-ingress", ERROR, "ingress port with endpoint_mode: dnsrr",
         each_stack(_dnsrr_ingress), SWARM),
    Rule("swarm-network-driver", ERROR, "network driver that cannot span a swarm",
         each_stack(_network_drivers), SWARM),
)  # fmt: skip
