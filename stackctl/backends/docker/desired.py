"""From validated stacks to the desired state of every Docker resource, with config hashes.

Pure but for reading ``env_file`` files and secret files beside the stack. Everything that
shapes a container goes into its canonical ``config`` (a plain JSON-able dict) and its
SHA-256 ``config_hash``; nothing that does not (depends_on, stackctl's own labels). Secret
values enter the config only as a hash of the value, so the config can be stored in a
label and shown in a plan without leaking them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from stackctl import units
from stackctl.core.config import finalize
from stackctl.core.labels import (
    LABEL_CONFIG,
    LABEL_HASH,
    LABEL_NUMBER,
    LABEL_ONESHOT,
    LABEL_SERVICE,
    LABEL_STACK,
)
from stackctl.core.redact import Secrets
from stackctl.core.resources import (
    DesiredNetwork,
    DesiredResources,
    desired_network,
    stack_resources,
)
from stackctl.core.service_config import (
    MountBase,
    ProcessConfig,
    host_path,
    process_config,
    secret_target,
    service_env,
    stack_secrets,
    unit_fields,
)
from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.model import Condition, Service, ServiceNetwork, Stack
from stackctl.model.service import shared_service


class PortConfig(TypedDict):
    target: int
    published: int | str | None
    host_ip: str | None
    protocol: str


class MountConfig(MountBase, total=False):
    create_host_path: bool  # present (False) only when a missing source is an error


class AttachmentConfig(TypedDict):
    aliases: list[str]
    ipv4_address: str | None
    ipv6_address: str | None


class ResourcesConfig(TypedDict, total=False):
    nano_cpus: int
    memory: int
    pids_limit: int
    memory_reservation: int
    memory_swap: int
    cpu_shares: int
    cpu_quota: int
    cpu_period: int
    cpuset_cpus: str


class UlimitConfig(TypedDict):
    name: str
    soft: int
    hard: int


class ContainerConfig(ProcessConfig, total=False):
    """A container's canonical config: the shared process fields and a host's own."""

    ports: list[PortConfig]
    expose: list[str]
    mounts: list[MountConfig]
    networks: dict[str, AttachmentConfig]  # Docker network name -> attachment
    restart: str
    resources: ResourcesConfig
    privileged: bool
    devices: list[str]
    security_opt: list[str]
    shm_size: int | None
    network_mode: str | None  # as written: host, none, bridge, container:NAME, service:NAME
    ulimits: list[UlimitConfig]
    runtime: str | None
    platform: str | None
    oom_score_adj: int | None
    group_add: list[str]
    ipc: str | None
    pid: str | None
    userns_mode: str | None
    cgroup_parent: str | None
    storage_opt: dict[str, str]
    domainname: str | None


@dataclass(frozen=True)
class ContainerNetwork:
    name: str  # Docker network name
    aliases: tuple[str, ...]
    ipv4_address: str | None
    ipv6_address: str | None


@dataclass(frozen=True)
class DesiredContainer:
    """One container to run: what to create, and the hash that says whether it changed."""

    stack: str
    service: str
    number: int
    name: str
    image: str  # reference with tag, e.g. "postgres:14"
    config: dict[str, Any]  # canonical, secrets hashed: stored in a label, diffed by the plan
    spec: ContainerConfig = field(repr=False)  # the same with real values: for create only
    config_hash: str
    legacy_hash: str  # see core/config.py
    env: dict[str, str] = field(repr=False)  # real values, secrets included: for create only
    sensitive: frozenset[str]  # env keys whose values are never shown
    networks: tuple[ContainerNetwork, ...]
    depends_on: dict[str, Condition]  # service name -> condition (same stack)
    has_healthcheck: bool
    oneshot: bool  # restart "no": a clean exit means done
    volumes: tuple[str, ...]  # Docker names of named volumes used
    bind_sources: tuple[str, ...]  # absolute host paths to create if missing
    pull_policy: str | None
    labels: dict[str, str]  # every label the container carries, stackctl's included
    # Docker's NetworkMode when not the stack's networks: host, none, bridge or
    # container:NAME (``service:X`` resolved to the name of X's first container).
    network_mode: str | None = None
    # The services whose first container this one shares a namespace with (network_mode,
    # ipc or pid ``service:X``): it is created after them, and replaced when they are.
    namespace_owners: tuple[str, ...] = ()
    # Docker's IpcMode and PidMode, ``service:X`` resolved as for network_mode.
    ipc: str | None = None
    pid: str | None = None

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.name}"


@dataclass(frozen=True)
class DesiredState(DesiredResources):
    """The docker backend's desired state: the stacks' networks, volumes and containers."""

    containers: tuple[DesiredContainer, ...] = ()


# --------------------------------------------------------------------------- containers


def _resources(service: Service) -> ResourcesConfig:
    """``deploy.resources``, or Compose's service-level keys for the same limits
    (``mem_limit``, ``cpus``, ``pids_limit``, ``mem_reservation``; a conflict between the
    two is a validate error), so either spelling gives the same config; and the keys
    only the service level has (swap, CPU shares, quota, period and set)."""
    limits = (
        service.deploy.resources.limits if service.deploy and service.deploy.resources else None
    )
    reservations = (
        service.deploy.resources.reservations
        if service.deploy and service.deploy.resources
        else None
    )
    cpus = limits.cpus if limits is not None and limits.cpus is not None else service.cpus
    memory = limits.memory if limits is not None and limits.memory else service.mem_limit
    pids = limits.pids if limits is not None and limits.pids is not None else service.pids_limit
    reserved = (
        reservations.memory
        if reservations is not None and reservations.memory
        else service.mem_reservation
    )
    out: ResourcesConfig = {}
    if cpus is not None:
        out["nano_cpus"] = int(cpus * 1e9)
    if memory:
        out["memory"] = units.parse_size(memory)
    if pids is not None:
        out["pids_limit"] = pids
    if reserved:
        out["memory_reservation"] = units.parse_size(reserved)
    if service.memswap_limit:
        swap = service.memswap_limit
        out["memory_swap"] = -1 if swap == "-1" else units.parse_size(swap)
    if service.cpu_shares is not None:
        out["cpu_shares"] = service.cpu_shares
    if service.cpu_quota is not None:
        out["cpu_quota"] = service.cpu_quota
    if service.cpu_period is not None:
        out["cpu_period"] = service.cpu_period
    if service.cpuset:
        out["cpuset_cpus"] = service.cpuset
    return out


def _shared_mode(stack: Stack, mode: str | None) -> str | None:
    """A namespace mode for Docker: ``service:X`` becomes ``container:<X's first container>``
    (Compose uses its id; Docker resolves a name to the id at create)."""
    owner = shared_service(mode)
    if owner is None or owner not in stack.services:
        return mode  # an unknown service is reported by validation
    return f"container:{stack.container_names(stack.services[owner])[0]}"


def _link_aliases(stack: Stack) -> dict[tuple[str, str], list[str]]:
    """(service, network key) -> the aliases other services' ``links`` give it there:
    Compose's ``links: [db:database]`` as an alias of db on each network both join."""
    out: dict[tuple[str, str], list[str]] = {}
    for other in stack.services.values():
        for target, alias in other.link_targets:
            if target == other.name:
                continue
            for key in _attachments(other):
                out.setdefault((target, key), []).append(alias)
    return out


def _attachments(service: Service) -> dict[str, ServiceNetwork]:
    """The stack networks the service's containers join (none with a ``network_mode``)."""
    if not service.joins_networks:
        return {}
    return service.networks or {"default": ServiceNetwork()}


def _container(
    stack: Stack,
    service: Service,
    number: int,
    name: str,
    problems: list[Diagnostic],
    secrets: Secrets,
    links: dict[tuple[str, str], list[str]],
) -> DesiredContainer:
    env = service_env(stack, service, problems)
    networks: list[ContainerNetwork] = []
    for key, attach in _attachments(service).items():
        if key not in stack.networks:
            continue  # reported by validation
        linked = links.get((service.name, key), [])
        networks.append(
            ContainerNetwork(
                name=stack.network_name(key),
                aliases=tuple(dict.fromkeys([service.name, *attach.aliases, *linked])),
                ipv4_address=attach.ipv4_address,
                ipv6_address=attach.ipv6_address,
            )
        )

    mounts: list[MountConfig] = []
    volumes: list[str] = []
    binds: list[str] = []
    for m in service.volumes:
        entry: MountConfig = {"type": m.type, "target": m.target, "read_only": m.read_only}
        if m.type == "bind" and m.source:
            entry["source"] = host_path(stack, m.source)
            if m.create_host_path:
                binds.append(host_path(stack, m.source))
            else:
                entry["create_host_path"] = False  # a missing source is an error, not a new dir
        elif m.type == "volume" and m.source:
            entry["source"] = stack.volume_name(m.source) if m.source in stack.volumes else m.source
            volumes.append(entry["source"])
            if m.nocopy:
                entry["nocopy"] = True
        elif m.type == "tmpfs" and m.tmpfs_size:
            entry["tmpfs_size"] = units.parse_size(m.tmpfs_size)
        mounts.append(entry)
    for secret in service.secrets:  # file secrets: bind-mounted read-only, as Compose does
        src = stack.secrets.get(secret.source)
        if src is not None and src.file:
            mounts.append(
                {
                    "type": "bind",
                    "source": host_path(stack, src.file),
                    "target": secret_target(secret.source, secret.target),
                    "read_only": True,
                }
            )

    for config in service.configs:  # file configs: bind-mounted read-only, as Compose does
        cfg = stack.configs.get(config.source)
        if cfg is not None and cfg.file:
            mounts.append(
                {
                    "type": "bind",
                    "source": host_path(stack, cfg.file),
                    "target": config.path,
                    "read_only": True,
                    "create_host_path": False,  # a missing file fails, never becomes a dir
                }
            )

    raw: ContainerConfig = {
        **process_config(service),
        "env": env.canonical(),
        "ports": [
            {
                "target": p.target,
                "published": p.published,
                "host_ip": p.host_ip,
                "protocol": p.protocol,
            }
            for p in service.ports
        ],
        "expose": list(service.expose),
        "mounts": mounts,
        "networks": {
            n.name: {
                "aliases": list(n.aliases),
                "ipv4_address": n.ipv4_address,
                "ipv6_address": n.ipv6_address,
            }
            for n in networks
        },
        "restart": service.restart,
        "resources": _resources(service),
        "privileged": service.privileged,
        "devices": list(service.devices),
        "security_opt": list(service.security_opt),
        "shm_size": units.parse_size(service.shm_size) if service.shm_size else None,
        "network_mode": service.network_mode,
        "ulimits": [
            {"name": name, "soft": u.soft, "hard": u.hard}
            for name, u in sorted(service.ulimits.items())
        ],
        "runtime": service.runtime,
        "platform": service.platform,
        "oom_score_adj": service.oom_score_adj,
        "group_add": list(service.group_add),
        "ipc": service.ipc,
        "pid": service.pid,
        "userns_mode": service.userns_mode,
        "cgroup_parent": service.cgroup_parent,
        "storage_opt": dict(sorted(service.storage_opt.items())),
        "domainname": service.domainname,
    }
    # A secret's value can also sit inside a command, a label or a URL in another variable,
    # of this service or of another one: the stack's whole set is used.
    final = finalize(raw, secrets, env.sensitive)
    oneshot = service.restart == "no"
    labels = {
        **secrets.data(dict(service.labels)),
        LABEL_STACK: stack.name,
        LABEL_SERVICE: service.name,
        LABEL_NUMBER: str(number),
        LABEL_HASH: final.hash,
        LABEL_CONFIG: final.json,
    }
    if oneshot:
        labels[LABEL_ONESHOT] = "true"
    owners = (shared_service(m) for m in (service.network_mode, service.ipc, service.pid))
    fields = unit_fields(stack, service, final, env)
    # As Compose: links and service:X modes start the service after X has started.
    implied = {s: Condition.STARTED for s in service.implied_dependencies if s in stack.services}
    fields["depends_on"] = {**implied, **fields["depends_on"]}
    return DesiredContainer(
        **fields,
        number=number,
        name=name,
        spec=final.real,
        networks=tuple(networks),
        oneshot=oneshot,
        volumes=tuple(dict.fromkeys(volumes)),
        bind_sources=tuple(dict.fromkeys(binds)),
        pull_policy=service.pull_policy,
        labels=labels,
        network_mode=_shared_mode(stack, service.network_mode),
        namespace_owners=tuple(dict.fromkeys(o for o in owners if o and o in stack.services)),
        ipc=_shared_mode(stack, service.ipc),
        pid=_shared_mode(stack, service.pid),
    )


# --------------------------------------------------------------------------- state


def desire(stacks: Sequence[Stack]) -> DesiredState:
    """The desired state of all ``stacks`` together (they are planned as one)."""
    problems: list[Diagnostic] = []
    resources = stack_resources(stacks, bridge_network)
    secrets = {stack.name: stack_secrets(stack) for stack in stacks}
    links = {stack.name: _link_aliases(stack) for stack in stacks}
    containers = [
        _container(stack, service, number, name, problems, secrets[stack.name], links[stack.name])
        for stack in stacks
        for service in stack.services.values()
        for number, name in enumerate(stack.container_names(service), start=1)
    ]
    if problems:
        raise InvalidStackError(problems)
    return DesiredState(
        **resources.fields(c.image for c in containers), containers=tuple(containers)
    )


def bridge_network(stack: Stack, key: str) -> DesiredNetwork:
    """A network on one host: ``bridge`` unless the stack names a driver."""
    return desired_network(stack, key, driver="bridge")
