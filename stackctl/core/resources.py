"""Networks and volumes: what both backends desire and observe the same way.

A network's canonical config (driver, options, IPAM, labels) and its hash are built here
for a bridge network on one host and an overlay network on a swarm alike; volumes and the
external networks/volumes a stack only uses are plain data. The parse functions read the
Engine API's list results, which are the same on both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from stackctl.core.labels import (
    LABEL_CONFIG,
    LABEL_HASH,
    LABEL_NETWORK,
    LABEL_SERVICE,
    LABEL_STACK,
    LABEL_VOLUME,
    canonical_json,
    config_from_labels,
    sha256,
)
from stackctl.core.service_config import stack_secrets
from stackctl.model import Stack

# --------------------------------------------------------------------------- desired


@dataclass(frozen=True)
class DesiredNetwork:
    stack: str
    key: str
    name: str
    driver: str
    options: dict[str, str]
    internal: bool
    attachable: bool
    enable_ipv6: bool
    ipam: list[dict[str, str]]  # [{"Subnet":..., "Gateway":..., "IPRange":...}]
    ipam_driver: str
    labels: dict[str, str]
    config: dict[str, Any]
    config_hash: str


@dataclass(frozen=True)
class DesiredVolume:
    stack: str
    key: str
    name: str
    driver: str
    driver_opts: dict[str, str]
    labels: dict[str, str]


@dataclass(frozen=True)
class ExternalNetwork:
    """A network a stack uses but does not create."""

    name: str
    used_by: tuple[str, ...]  # stack names
    provided_by: str | None  # a loaded stack that defines it, if any


@dataclass(frozen=True)
class DesiredResources:
    """What every backend's desired state has: the stacks' networks and volumes."""

    stacks: tuple[str, ...]
    networks: tuple[DesiredNetwork, ...]
    volumes: tuple[DesiredVolume, ...]
    external_networks: tuple[ExternalNetwork, ...]
    external_volumes: tuple[str, ...]
    images: tuple[str, ...]

    @property
    def always_pulled(self) -> tuple[str, ...]:
        """Images whose registry digest every plan asks for (``pull_policy: always``)."""
        return ()


def desired_network(
    stack: Stack, key: str, *, driver: str, attachable: bool | None = None, scope: str | None = None
) -> DesiredNetwork:
    """The network ``key`` of ``stack`` as stackctl creates it: ``driver`` when the stack
    names none; ``attachable`` forced when given (overlay networks are always attachable);
    ``scope`` recorded in the config when given (swarm)."""
    net = stack.networks[key]
    ipam: list[dict[str, str]] = []
    for pool in net.ipam.config if net.ipam else []:
        entry = {}
        if pool.subnet:
            entry["Subnet"] = pool.subnet
        if pool.gateway:
            entry["Gateway"] = pool.gateway
        if pool.ip_range:
            entry["IPRange"] = pool.ip_range
        if entry:
            ipam.append(entry)
    config: dict[str, Any] = {
        "driver": net.driver or driver,
        "options": dict(net.driver_opts),
        "internal": net.internal,
        "attachable": net.attachable if attachable is None else attachable,
        "enable_ipv6": net.enable_ipv6,
        "ipam": ipam,
        "ipam_driver": (net.ipam.driver if net.ipam and net.ipam.driver else "default"),
        "labels": dict(net.labels),
    }
    if scope is not None:
        config["scope"] = scope
    # Labels and driver options may hold a secret value too: the stored and shown config,
    # and the labels the network carries, hold digests (the daemon gets the real options).
    # Only these two: a driver or an IPAM field equal to some env_file value stays as it is
    # (and the hash of a network without a secret in them is what it was).
    secrets = stack_secrets(stack)
    shown = {
        **config,
        "options": secrets.data(config["options"]),
        "labels": secrets.data(config["labels"]),
    }
    config_json = canonical_json(shown)
    digest = sha256(config_json)
    labels = {
        **secrets.data(dict(net.labels)),
        LABEL_STACK: stack.name,
        LABEL_NETWORK: key,
        LABEL_HASH: digest,
        LABEL_CONFIG: config_json,
    }
    return DesiredNetwork(
        stack=stack.name,
        key=key,
        name=stack.network_name(key),
        driver=config["driver"],
        options=config["options"],
        internal=net.internal,
        attachable=config["attachable"],
        enable_ipv6=net.enable_ipv6,
        ipam=ipam,
        ipam_driver=config["ipam_driver"],
        labels=labels,
        config=shown,
        config_hash=digest,
    )


def desired_volume(stack: Stack, key: str) -> DesiredVolume:
    """A named volume of ``stack`` as stackctl creates it (labelled as the stack's)."""
    vol = stack.volumes[key]
    return DesiredVolume(
        stack=stack.name,
        key=key,
        name=stack.volume_name(key),
        driver=vol.driver or "local",
        driver_opts=dict(vol.driver_opts),
        labels=volume_labels(stack, key),
    )


def volume_labels(stack: Stack, key: str) -> dict[str, str]:
    return {**stack.volumes[key].labels, LABEL_STACK: stack.name, LABEL_VOLUME: key}


def network_used(stack: Stack, key: str) -> bool:
    """Compose creates only the networks some service uses (and ``default`` only if used)."""
    if key != "default":
        return True
    return any(s.joins_default for s in stack.services.values())


class ResourceFields(TypedDict):
    """The fields of :class:`DesiredResources`, for a backend's desired state to extend."""

    stacks: tuple[str, ...]
    networks: tuple[DesiredNetwork, ...]
    volumes: tuple[DesiredVolume, ...]
    external_networks: tuple[ExternalNetwork, ...]
    external_volumes: tuple[str, ...]
    images: tuple[str, ...]


@dataclass
class StackResources:
    """The networks and volumes of a set of stacks, gathered the same way by each backend."""

    stacks: tuple[str, ...]
    networks: list[DesiredNetwork]
    volumes: list[DesiredVolume]
    external_networks: tuple[ExternalNetwork, ...]
    external_volumes: tuple[str, ...]

    def fields(self, images: Iterable[str]) -> ResourceFields:
        """The desired state's common fields; ``images``: those its units run (in order)."""
        return ResourceFields(
            stacks=self.stacks,
            networks=tuple(self.networks),
            volumes=tuple(self.volumes),
            external_networks=self.external_networks,
            external_volumes=self.external_volumes,
            images=tuple(dict.fromkeys(images)),
        )


def stack_resources(
    stacks: Sequence[Stack], network: Callable[[Stack, str], DesiredNetwork]
) -> StackResources:
    """``network`` builds the backend's flavour of a network (bridge or overlay)."""
    networks: list[DesiredNetwork] = []
    volumes: list[DesiredVolume] = []
    external: dict[str, set[str]] = {}
    external_volumes: set[str] = set()
    for stack in stacks:
        for key, net in stack.networks.items():
            if net.external:
                external.setdefault(stack.network_name(key), set()).add(stack.name)
            elif network_used(stack, key):
                networks.append(network(stack, key))
        for key, vol in stack.volumes.items():
            if vol.external:
                external_volumes.add(stack.volume_name(key))
            else:
                volumes.append(desired_volume(stack, key))
    providers = {n.name: n.stack for n in networks}
    externals = tuple(
        ExternalNetwork(name=name, used_by=tuple(sorted(users)), provided_by=providers.get(name))
        for name, users in sorted(external.items())
    )
    return StackResources(
        tuple(s.name for s in stacks),
        networks,
        volumes,
        externals,
        tuple(sorted(external_volumes)),
    )


# --------------------------------------------------------------------------- observed


class Labelled:
    """What stackctl's labels say of an observed resource (container, service, network,
    volume, secret): its stack, service, and the config it was made with."""

    labels: dict[str, str]

    @property
    def stack(self) -> str | None:
        return self.labels.get(LABEL_STACK)

    @property
    def service(self) -> str | None:
        return self.labels.get(LABEL_SERVICE)

    @property
    def config_hash(self) -> str | None:
        return self.labels.get(LABEL_HASH)

    @property
    def config(self) -> dict[str, Any] | None:
        return config_from_labels(self.labels)


@dataclass(frozen=True)
class ObservedNetwork(Labelled):
    id: str
    name: str
    labels: dict[str, str]
    driver: str
    scope: str
    # Its settings as the list gives them, in the desired config's terms (driver, options,
    # internal, attachable, enable_ipv6, ipam, ipam_driver): compared when a network made
    # by docker compose is adopted, since it has no config label.
    settings: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ObservedVolume(Labelled):
    name: str
    labels: dict[str, str]
    driver: str
    options: dict[str, str] = field(default_factory=dict)  # its driver options


@dataclass(frozen=True)
class ObservedResources:
    """What every backend observes: networks and volumes, and the API version spoken."""

    networks: tuple[ObservedNetwork, ...] = ()
    volumes: tuple[ObservedVolume, ...] = ()
    api_version: str = "1.41"

    def network(self, name: str) -> ObservedNetwork | None:
        for n in self.networks:
            if n.name == name:
                return n
        return None

    def volume(self, name: str) -> ObservedVolume | None:
        for v in self.volumes:
            if v.name == name:
                return v
        return None


def parse_network(raw: Mapping[str, Any]) -> ObservedNetwork:
    ipam = raw.get("IPAM") or {}
    pools = [
        {k: str(v) for k, v in pool.items() if k in ("Subnet", "Gateway", "IPRange") and v}
        for pool in ipam.get("Config") or []
    ]
    return ObservedNetwork(
        id=str(raw.get("Id", "")),
        name=str(raw.get("Name", "")),
        labels=dict(raw.get("Labels") or {}),
        driver=str(raw.get("Driver") or ""),
        scope=str(raw.get("Scope") or "local"),
        settings={
            "driver": str(raw.get("Driver") or ""),
            "options": dict(raw.get("Options") or {}),
            "internal": bool(raw.get("Internal")),
            "attachable": bool(raw.get("Attachable")),
            "enable_ipv6": bool(raw.get("EnableIPv6")),
            "ipam": [p for p in pools if p],
            "ipam_driver": str(ipam.get("Driver") or "default"),
        },
    )


def parse_volume(raw: Mapping[str, Any]) -> ObservedVolume:
    return ObservedVolume(
        name=str(raw.get("Name", "")),
        labels=dict(raw.get("Labels") or {}),
        driver=str(raw.get("Driver") or "local"),
        options=dict(raw.get("Options") or {}),
    )
