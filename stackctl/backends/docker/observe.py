"""What the daemon holds, as plain data: the planner's other input.

Reading costs a constant number of API calls whatever the number of services: one list
each of containers (all, so name clashes and foreign attachments are seen), networks,
volumes and images. List results carry labels, state, health (in the status text) and
attached networks, but not what ``docker update`` changes (restart policy, resource
limits): for those, the containers of the stacks being planned (and only those) are
inspected, in parallel (``inspect``; one ``GET /containers/{id}/json`` each).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from stackctl.backends.docker.readback import read_container, read_image
from stackctl.core.build import parts_from_labels
from stackctl.core.labels import (
    COMPOSE_PROJECT,
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
    volume_mounts: tuple[tuple[str, str], ...] = ()  # (target, volume name) of volume mounts

    @property
    def anonymous_volumes(self) -> dict[str, str]:
        """Target -> name of the anonymous volumes it mounts (``- /data``, or an image's
        ``VOLUME``): those the daemon named with 64 hex digits."""
        return {t: n for t, n in self.volume_mounts if is_anonymous_volume(n)}

    # What `docker update` changes, as the desired config spells it ({"restart": "always",
    # "resources": {"memory": 134217728}}); None when the container was not inspected.
    settings: dict[str, Any] | None = None
    network_mode: str = ""  # HostConfig.NetworkMode: a network, host, none, container:<id>
    # A container docker compose made for a planned stack's project: its running config in
    # the desired config's terms (backends/docker/readback.py), to compare for adoption.
    readback: dict[str, Any] | None = None
    # Set once it counts as a stack's (backends/docker/adopt.py): compose's name for it
    # (``proj_web_1`` for compose v1, which ``name`` gives as stackctl's ``proj-web-1``).
    adopted_from: str | None = None

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
    # "repo:tag" -> the digests of its parts, for images stackctl built (core/build.py)
    built: dict[str, dict[str, str]] = field(default_factory=dict)
    # plan --pull (and pull_policy: always): image ref -> the digest its registry has now,
    # or why it could not be asked (registry_errors)
    registry: dict[str, str] = field(default_factory=dict)
    registry_errors: dict[str, str] = field(default_factory=dict)
    # image id -> what it gives a container by default (readback.read_image), for the
    # images of the compose-made containers read back
    image_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)

    def local_digests(self, image: str) -> set[str]:
        """The registry digests of the image the tag ``image`` names here (RepoDigests)."""
        image_id = self.images.get(image)
        return {
            ref.partition("@")[2]
            for ref, iid in self.images.items()
            if "@" in ref and iid == image_id
        }

    def image_update(self, image: str) -> tuple[str, str] | None:
        """(what is here, what the registry has) when the registry has another image for
        the tag ``image`` than the one here; None when up to date, absent or not asked."""
        remote = self.registry.get(image)
        if remote is None or image not in self.images:
            return None
        here = self.local_digests(image)
        if remote in here:
            return None
        return (min(here) if here else self.images[image]), remote

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
            built=self.built,
            api_version=self.api_version,
            registry=self.registry,
            registry_errors=self.registry_errors,
        )


class Reader(Protocol):
    """The read side of an engine: raw list results of the Engine API."""

    def list_containers(self) -> list[dict[str, Any]]: ...
    def list_networks(self) -> list[dict[str, Any]]: ...
    def list_volumes(self) -> list[dict[str, Any]]: ...
    def list_images(self) -> list[dict[str, Any]]: ...
    def api_version(self) -> str: ...
    def inspect_containers(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...
    def inspect_images(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...
    def registry_digests(self, images: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]: ...


_ANONYMOUS = re.compile(r"[0-9a-f]{64}")


def is_anonymous_volume(name: str) -> bool:
    """A volume the daemon named itself (no name was given when it was made)."""
    return _ANONYMOUS.fullmatch(name) is not None


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
        volume_mounts=tuple(
            (str(m.get("Destination") or ""), str(m.get("Name") or ""))
            for m in raw.get("Mounts") or []
            if m.get("Type") == "volume" and m.get("Name")
        ),
        network_mode=str((raw.get("HostConfig") or {}).get("NetworkMode") or ""),
    )


def _port_text(port: Mapping[str, Any]) -> str:
    inner = f"{port.get('PrivatePort')}/{port.get('Type', 'tcp')}"
    if port.get("PublicPort"):
        return f"{port.get('IP') or '0.0.0.0'}:{port['PublicPort']}->{inner}"
    return inner


# HostConfig field -> the key of the desired config's "resources" (0 or less: no limit)
RESOURCE_FIELDS = (
    ("NanoCpus", "nano_cpus"),
    ("Memory", "memory"),
    ("MemoryReservation", "memory_reservation"),
    ("PidsLimit", "pids_limit"),
)


def parse_settings(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What ``docker update`` can change, from an inspect, in the desired config's terms."""
    host = raw.get("HostConfig") or {}
    policy = host.get("RestartPolicy") or {}
    restart = str(policy.get("Name") or "no")
    if restart == "on-failure" and policy.get("MaximumRetryCount"):
        restart = f"on-failure:{policy['MaximumRetryCount']}"
    resources = {
        key: int(host[field])
        for field, key in RESOURCE_FIELDS
        if isinstance(host.get(field), int) and host[field] > 0
    }
    return {"restart": restart, "resources": resources}


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


def parse_built(raws: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The build digests of the images stackctl built, by each of their tags."""
    out: dict[str, dict[str, str]] = {}
    for raw in raws:
        parts = parts_from_labels(raw.get("Labels") or {})
        if parts is None:
            continue
        for tag in raw.get("RepoTags") or []:
            if tag and tag != "<none>:<none>":
                out[tag] = parts
    return out


def observe(
    reader: Reader, inspect: Collection[str] = (), registry: Sequence[str] = ()
) -> ObservedState:
    """One snapshot of the daemon: four list calls (plus the version, negotiated once),
    an inspect of each container of the stacks ``inspect`` (their settings) and of each
    container docker compose made for a project of that name (read back for adoption, with
    an inspect of each of their images), and for each image of ``registry`` the digest its
    registry has now (``plan --pull``)."""
    digests, errors = reader.registry_digests(registry) if registry else ({}, {})
    containers = [parse_container(c) for c in reader.list_containers()]
    ids = [c.id for c in containers if c.stack is not None and c.stack in inspect]
    composed = [c.id for c in containers if c.stack is None and _composed(c, inspect)]
    image_defaults: dict[str, dict[str, Any]] = {}
    if ids or composed:
        found = reader.inspect_containers([*ids, *composed])  # one gone since is left out
        containers = [_inspected(c, found.get(c.id)) for c in containers]
        image_ids = sorted({c.image_id for c in containers if c.readback is not None})
        if image_ids:
            image_defaults = {
                iid: read_image(raw) for iid, raw in reader.inspect_images(image_ids).items()
            }
    images = reader.list_images()
    return ObservedState(
        containers=tuple(containers),
        networks=tuple(parse_network(n) for n in reader.list_networks()),
        volumes=tuple(parse_volume(v) for v in reader.list_volumes()),
        images=parse_images(images),
        built=parse_built(images),
        api_version=reader.api_version(),
        registry=digests,
        registry_errors=errors,
        image_defaults=image_defaults,
    )


def _composed(c: ObservedContainer, stacks: Collection[str]) -> bool:
    """Made by docker compose for a project named as one of ``stacks``."""
    project = c.labels.get(COMPOSE_PROJECT)
    return project is not None and project in stacks


def _inspected(c: ObservedContainer, raw: Mapping[str, Any] | None) -> ObservedContainer:
    if raw is None:
        return c
    if c.stack is None:
        return replace(c, readback=read_container(raw))
    return replace(c, settings=parse_settings(raw))


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
                    c.settings,
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
    for ref in sorted(wanted & set(observed.registry)):
        parts.append(["r", ref, observed.registry[ref]])
    return sha256(canonical_json(parts))
