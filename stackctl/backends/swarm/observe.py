"""What the swarm holds, as plain data: services, their tasks, nodes, networks, volumes
and secrets.

A constant number of list calls whatever the size of the stacks: services, tasks, nodes,
networks, secrets (names and labels only) and volumes (the volumes of the manager stackctl
talks to: Swarm has no cluster-wide volume list). Every service is listed, not only ours,
so a name clash with a service stackctl does not own is seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from stackctl.core.labels import (
    LABEL_SECRET,
    canonical_json,
    sha256,
)
from stackctl.core.resources import Labelled, ObservedResources, parse_network, parse_volume


@dataclass(frozen=True)
class ObservedTask:
    id: str
    service_id: str
    node_id: str
    slot: int | None
    desired_state: str  # running | shutdown | ...
    state: str  # new ... starting | running | complete | failed | rejected | shutdown ...
    message: str
    error: str
    timestamp: str  # when it reached ``state`` (RFC 3339)
    exit_code: int | None
    container_id: str

    @property
    def wanted(self) -> bool:
        return self.desired_state in ("running", "ready", "accepted")


@dataclass(frozen=True)
class ObservedService(Labelled):
    id: str
    name: str
    version: int
    labels: dict[str, str]
    spec: dict[str, Any]
    update_state: str | None  # updating | paused | completed | rollback_* | None
    update_message: str

    @property
    def replicas(self) -> int | None:
        mode = self.spec.get("Mode") or {}
        if "Replicated" in mode:
            return int((mode["Replicated"] or {}).get("Replicas", 1))
        return None

    @property
    def networks(self) -> tuple[str, ...]:
        """Network ids (or names) its tasks join, as in the spec."""
        nets = (
            (self.spec.get("TaskTemplate") or {}).get("Networks") or self.spec.get("Networks") or []
        )
        return tuple(str(n.get("Target", "")) for n in nets)

    @property
    def secret_refs(self) -> tuple[str, ...]:
        """Names and ids of the swarm secrets its tasks get, as in the spec."""
        container = (self.spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}
        return tuple(
            str(ref)
            for s in container.get("Secrets") or []
            for ref in (s.get("SecretName"), s.get("SecretID"))
            if ref
        )


@dataclass(frozen=True)
class ObservedSecret(Labelled):
    """A swarm secret (its name and labels: the daemon never returns its content)."""

    id: str
    name: str
    labels: dict[str, str]

    @property
    def key(self) -> str | None:
        return self.labels.get(LABEL_SECRET)


@dataclass(frozen=True)
class ObservedNode:
    id: str
    hostname: str
    role: str
    state: str
    availability: str


@dataclass(frozen=True)
class SwarmObservedState(ObservedResources):
    """A swarm: its services, their tasks, the nodes, networks and volumes."""

    services: tuple[ObservedService, ...] = ()
    tasks: tuple[ObservedTask, ...] = ()
    nodes: tuple[ObservedNode, ...] = field(default_factory=tuple)
    secrets: tuple[ObservedSecret, ...] = ()

    def secret(self, name: str) -> ObservedSecret | None:
        for s in self.secrets:
            if s.name == name:
                return s
        return None

    def service(self, name: str) -> ObservedService | None:
        for s in self.services:
            if s.name == name:
                return s
        return None

    def tasks_of(self, service_id: str) -> list[ObservedTask]:
        return [t for t in self.tasks if t.service_id == service_id]

    def node_name(self, node_id: str) -> str:
        for n in self.nodes:
            if n.id == node_id:
                return n.hostname
        return node_id[:12] or "-"

    def network_by_ref(self, ref: str) -> str:
        """A network name for an id or name as found in a service spec."""
        for n in self.networks:
            if ref in (n.id, n.name):
                return n.name
        return ref


class SwarmReader(Protocol):
    def list_services(self) -> list[dict[str, Any]]: ...
    def list_tasks(self) -> list[dict[str, Any]]: ...
    def list_nodes(self) -> list[dict[str, Any]]: ...
    def list_networks(self) -> list[dict[str, Any]]: ...
    def list_volumes(self) -> list[dict[str, Any]]: ...
    def list_secrets(self) -> list[dict[str, Any]]: ...
    def api_version(self) -> str: ...


def parse_service(raw: Mapping[str, Any]) -> ObservedService:
    spec = dict(raw.get("Spec") or {})
    update = raw.get("UpdateStatus") or {}
    return ObservedService(
        id=str(raw.get("ID", "")),
        name=str(spec.get("Name", "")),
        version=int((raw.get("Version") or {}).get("Index", 0)),
        labels=dict(spec.get("Labels") or {}),
        spec=spec,
        update_state=update.get("State") or None,
        update_message=str(update.get("Message") or ""),
    )


def parse_task(raw: Mapping[str, Any]) -> ObservedTask:
    status = raw.get("Status") or {}
    cstatus = status.get("ContainerStatus") or {}
    code = cstatus.get("ExitCode")
    return ObservedTask(
        id=str(raw.get("ID", "")),
        service_id=str(raw.get("ServiceID", "")),
        node_id=str(raw.get("NodeID", "")),
        slot=raw.get("Slot"),
        desired_state=str(raw.get("DesiredState", "")),
        state=str(status.get("State", "")),
        message=str(status.get("Message", "")),
        error=str(status.get("Err", "")),
        timestamp=str(status.get("Timestamp", "")),
        exit_code=int(code) if code is not None else None,
        container_id=str(cstatus.get("ContainerID", "")),
    )


def parse_secret(raw: Mapping[str, Any]) -> ObservedSecret:
    spec = raw.get("Spec") or {}
    return ObservedSecret(
        id=str(raw.get("ID", "")),
        name=str(spec.get("Name", "")),
        labels=dict(spec.get("Labels") or {}),
    )


def parse_node(raw: Mapping[str, Any]) -> ObservedNode:
    desc = raw.get("Description") or {}
    spec = raw.get("Spec") or {}
    return ObservedNode(
        id=str(raw.get("ID", "")),
        hostname=str(desc.get("Hostname", "")),
        role=str(spec.get("Role", "")),
        state=str((raw.get("Status") or {}).get("State", "")),
        availability=str(spec.get("Availability", "")),
    )


def observe_swarm(reader: SwarmReader) -> SwarmObservedState:
    """One snapshot of the swarm: six list calls (plus the version, negotiated once)."""
    return SwarmObservedState(
        networks=tuple(parse_network(n) for n in reader.list_networks()),
        volumes=tuple(parse_volume(v) for v in reader.list_volumes()),
        api_version=reader.api_version(),
        services=tuple(parse_service(s) for s in reader.list_services()),
        tasks=tuple(parse_task(t) for t in reader.list_tasks()),
        nodes=tuple(parse_node(n) for n in reader.list_nodes()),
        secrets=tuple(parse_secret(s) for s in reader.list_secrets()),
    )


def swarm_fingerprint(
    observed: SwarmObservedState, stacks: Sequence[str], names: Sequence[str]
) -> str:
    """A hash of what a swarm plan for ``stacks`` depends on (spec versions included, so a
    concurrent change makes a saved plan stale)."""
    wanted = set(names)
    mine = set(stacks)
    parts: list[Any] = []
    for s in sorted(observed.services, key=lambda s: s.name):
        if s.stack in mine or s.name in wanted:
            parts.append(["s", s.id, s.name, s.version, s.config_hash, s.stack])
    for n in sorted(observed.networks, key=lambda n: n.name):
        if n.stack in mine or n.name in wanted:
            parts.append(["n", n.id, n.name, n.config_hash, n.stack, n.scope])
    for v in sorted(observed.volumes, key=lambda v: v.name):
        if v.stack in mine or v.name in wanted:
            parts.append(["v", v.name, v.stack])
    for x in sorted(observed.secrets, key=lambda x: x.name):
        if x.stack in mine or x.name in wanted:
            parts.append(["x", x.id, x.name, x.stack])
    return sha256(canonical_json(parts))
