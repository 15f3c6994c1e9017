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

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.name}"


@dataclass(frozen=True)
class DesiredState(DesiredResources):
    """The docker backend's desired state: the stacks' networks, volumes and containers."""

    containers: tuple[DesiredContainer, ...] = ()

    @property
    def always_pulled(self) -> tuple[str, ...]:
        return tuple(sorted({c.image for c in self.containers if c.pull_policy == "always"}))


# --------------------------------------------------------------------------- containers


def _resources(service: Service) -> ResourcesConfig:
    limits = (
        service.deploy.resources.limits if service.deploy and service.deploy.resources else None
    )
    reservations = (
        service.deploy.resources.reservations
        if service.deploy and service.deploy.resources
        else None
    )
    out: ResourcesConfig = {}
    if limits is not None:
        if limits.cpus is not None:
            out["nano_cpus"] = int(limits.cpus * 1e9)
        if limits.memory is not None:
            out["memory"] = units.parse_size(limits.memory)
        if limits.pids is not None:
            out["pids_limit"] = limits.pids
    if reservations is not None and reservations.memory is not None:
        out["memory_reservation"] = units.parse_size(reservations.memory)
    return out


def _container(
    stack: Stack,
    service: Service,
    number: int,
    name: str,
    problems: list[Diagnostic],
    secrets: Secrets,
) -> DesiredContainer:
    env = service_env(stack, service, problems)
    networks: list[ContainerNetwork] = []
    attachments = service.networks or {"default": ServiceNetwork()}
    for key, attach in attachments.items():
        if key not in stack.networks:
            continue  # reported by validation
        networks.append(
            ContainerNetwork(
                name=stack.network_name(key),
                aliases=tuple(dict.fromkeys([service.name, *attach.aliases])),
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
    return DesiredContainer(
        **unit_fields(stack, service, final, env),
        number=number,
        name=name,
        spec=final.real,
        networks=tuple(networks),
        oneshot=oneshot,
        volumes=tuple(dict.fromkeys(volumes)),
        bind_sources=tuple(dict.fromkeys(binds)),
        pull_policy=service.pull_policy,
        labels=labels,
    )


# --------------------------------------------------------------------------- state


def desire(stacks: Sequence[Stack]) -> DesiredState:
    """The desired state of all ``stacks`` together (they are planned as one)."""
    problems: list[Diagnostic] = []
    resources = stack_resources(stacks, bridge_network)
    secrets = {stack.name: stack_secrets(stack) for stack in stacks}
    containers = [
        _container(stack, service, number, name, problems, secrets[stack.name])
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
