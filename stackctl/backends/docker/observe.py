"""What the daemon holds, as plain data: the planner's other input.

Reading costs a constant number of API calls whatever the number of services: one list
each of containers (all, so name clashes and foreign attachments are seen), networks,
volumes and images. No per-container inspect: list results carry labels, state, health
(in the status text) and attached networks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from stackctl.core.labels import (
    LABEL_NUMBER,
    canonical_json,
    sha256,
)
from stackctl.core.resources import Labelled, ObservedResources, parse_network, parse_volume


@dataclass(frozen=True)
class ObservedContainer(Labelled):
    id: str
    name: str
    labels: dict[str, str]
    state: str  # created | running | paused | restarting | removing | exited | dead
    health: str | None  # healthy | unhealthy | starting | None (no health check)
    exit_code: int | None
    image_id: str
    image: str
    networks: dict[str, str | None]  # network name -> IPv4 address (or None)
    ports: tuple[str, ...] = ()  # "127.0.0.1:8080->80/tcp"
    network_mode: str = ""  # HostConfig.NetworkMode: a network, host, none, container:<id>

    @property
    def number(self) -> int:
        try:
            return int(self.labels.get(LABEL_NUMBER, "1"))
        except ValueError:
            return 1

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting")


@dataclass(frozen=True)
class ObservedState(ObservedResources):
    """One host: its containers (all of them), networks, volumes and image tags."""

    containers: tuple[ObservedContainer, ...] = ()
    images: dict[str, str] = field(default_factory=dict)  # "repo:tag" -> image id

    def container(self, name: str) -> ObservedContainer | None:
        for c in self.containers:
            if c.name == name:
                return c
        return None

    def of_stacks(self, stacks: Sequence[str]) -> ObservedState:
        """Only what belongs to ``stacks`` plus what could clash with them (for fingerprints)."""
        wanted = set(stacks)
        return ObservedState(
            containers=tuple(c for c in self.containers if c.stack in wanted),
            networks=tuple(n for n in self.networks if n.stack in wanted),
            volumes=tuple(v for v in self.volumes if v.stack in wanted),
            images=self.images,
            api_version=self.api_version,
        )


class Reader(Protocol):
    """The read side of an engine: raw list results of the Engine API."""

    def list_containers(self) -> list[dict[str, Any]]: ...
    def list_networks(self) -> list[dict[str, Any]]: ...
    def list_volumes(self) -> list[dict[str, Any]]: ...
    def list_images(self) -> list[dict[str, Any]]: ...
    def api_version(self) -> str: ...


_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXIT = re.compile(r"Exited \((-?\d+)\)")


def parse_container(raw: Mapping[str, Any]) -> ObservedContainer:
    status = str(raw.get("Status") or "")
    health_match = _HEALTH.search(status)
    health = None
    if health_match:
        health = (
            "starting" if health_match.group(1) == "health: starting" else health_match.group(1)
        )
    exit_match = _EXIT.search(status)
    names = raw.get("Names") or ["/" + str(raw.get("Id", ""))[:12]]
    nets_raw = (raw.get("NetworkSettings") or {}).get("Networks") or {}
    networks = {name: (info or {}).get("IPAddress") or None for name, info in nets_raw.items()}
    return ObservedContainer(
        id=str(raw.get("Id", "")),
        name=str(names[0]).lstrip("/"),
        labels=dict(raw.get("Labels") or {}),
        state=str(raw.get("State") or ""),
        health=health,
        exit_code=int(exit_match.group(1)) if exit_match else None,
        image_id=str(raw.get("ImageID") or ""),
        image=str(raw.get("Image") or ""),
        networks=networks,
        ports=tuple(_port_text(p) for p in raw.get("Ports") or []),
        network_mode=str((raw.get("HostConfig") or {}).get("NetworkMode") or ""),
    )


def _port_text(port: Mapping[str, Any]) -> str:
    inner = f"{port.get('PrivatePort')}/{port.get('Type', 'tcp')}"
    if port.get("PublicPort"):
        return f"{port.get('IP') or '0.0.0.0'}:{port['PublicPort']}->{inner}"
    return inner


def parse_images(raws: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in raws:
        for tag in raw.get("RepoTags") or []:
            if tag and tag != "<none>:<none>":
                out[tag] = str(raw.get("Id", ""))
                if tag.startswith("docker.io/library/"):
                    out[tag.removeprefix("docker.io/library/")] = str(raw.get("Id", ""))
        for digest in raw.get("RepoDigests") or []:
            if digest and not digest.startswith("<none>"):
                out[digest] = str(raw.get("Id", ""))
    return out


def observe(reader: Reader) -> ObservedState:
    """One snapshot of the daemon: four list calls (plus the version, negotiated once)."""
    return ObservedState(
        containers=tuple(parse_container(c) for c in reader.list_containers()),
        networks=tuple(parse_network(n) for n in reader.list_networks()),
        volumes=tuple(parse_volume(v) for v in reader.list_volumes()),
        images=parse_images(reader.list_images()),
        api_version=reader.api_version(),
    )


def fingerprint(observed: ObservedState, stacks: Sequence[str], names: Sequence[str]) -> str:
    """A hash of everything in ``observed`` that a plan for ``stacks`` depends on.

    ``names`` are the container, network and volume names the stacks want (clash checks).
    """
    wanted = set(names)
    mine = set(stacks)
    parts: list[Any] = []
    for c in sorted(observed.containers, key=lambda c: c.name):
        if c.stack in mine or c.name in wanted:
            parts.append(
                [
                    "c",
                    c.id,
                    c.name,
                    c.state,
                    c.exit_code,
                    c.image_id,
                    c.config_hash,
                    c.stack,
                    sorted(c.networks),
                ]
            )
    for n in sorted(observed.networks, key=lambda n: n.name):
        if n.stack in mine or n.name in wanted:
            parts.append(["n", n.id, n.name, n.config_hash, n.stack])
    for v in sorted(observed.volumes, key=lambda v: v.name):
        if v.stack in mine or v.name in wanted:
            parts.append(["v", v.name, v.stack])
    for ref in sorted(wanted & set(observed.images)):
        parts.append(["i", ref, observed.images[ref]])
    return sha256(canonical_json(parts))
