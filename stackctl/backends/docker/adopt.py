"""Adopting what docker compose made: a project of the stack's name becomes the stack's.

Containers, networks and volumes that docker compose made (its labels
``com.docker.compose.project``, ``.service``, ``.container-number``, ``.network``,
``.volume``: v1 and v2 write the same ones) for a project named as a stack are that
stack's once it has adopted them: ``--adopt`` on the first plan, after which a record says
so. A container's labels cannot change, so the record is a small volume,
``STACK_stackctl-adoption``, labelled with stackctl's stack label and
``io.stackctl.adopted=PROJECT``; while it exists, compose's labels of that project count
as the stack's (:func:`owned_by`), with no ``--adopt``.

Everything here is pure. :func:`owned` is the view of an observed state where adopted
objects carry the stack's labels (so the planner, destroy, status and the day-two commands
treat them as they treat their own); :func:`claim` is the planner's step: it refuses a
compose project that was not adopted (one problem per project, with the hint), or adopts
it, checking that its networks and volumes match the stack (they are never recreated).
Whether an adopted container matches is :func:`changes` (``readback.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from stackctl.backends.docker.desired import DesiredContainer, DesiredState
from stackctl.backends.docker.observe import ObservedContainer, ObservedState
from stackctl.backends.docker.readback import differences, wanted
from stackctl.core.labels import (
    COMPOSE_NETWORK,
    COMPOSE_NUMBER,
    COMPOSE_ONEOFF,
    COMPOSE_PROJECT,
    COMPOSE_SERVICE,
    COMPOSE_VOLUME,
    LABEL_ADOPTED,
    LABEL_HASH,
    LABEL_NETWORK,
    LABEL_NUMBER,
    LABEL_SERVICE,
    LABEL_STACK,
    LABEL_VOLUME,
)
from stackctl.core.plan import Change
from stackctl.core.resources import DesiredNetwork, DesiredVolume, ObservedNetwork, ObservedVolume
from stackctl.secrets import looks_secret

RECORD_KEY = "stackctl-adoption"


def record_name(stack: str) -> str:
    """The volume that records that ``stack`` adopted its compose project."""
    return f"{stack}_{RECORD_KEY}"


def record_volume(stack: str) -> DesiredVolume:
    return DesiredVolume(
        stack=stack,
        key=RECORD_KEY,
        name=record_name(stack),
        driver="local",
        driver_opts={},
        labels={LABEL_STACK: stack, LABEL_ADOPTED: stack},
    )


def is_record(vol: ObservedVolume) -> bool:
    project = vol.labels.get(LABEL_ADOPTED)
    return project is not None and vol.stack == project and vol.name == record_name(project)


def adopted_projects(observed: ObservedState) -> set[str]:
    """The compose projects a stack of the same name has adopted (their records exist)."""
    return {v.labels[LABEL_ADOPTED] for v in observed.volumes if is_record(v)}


def recorded(observed: ObservedState, stack: str) -> bool:
    """Whether ``stack`` adopted its compose project before (its record exists)."""
    return stack in adopted_projects(observed)


def compose_project(labels: Mapping[str, str]) -> str | None:
    """The compose project that made an object (not stackctl's, not a ``compose run``)."""
    if labels.get(LABEL_STACK) is not None or labels.get(COMPOSE_ONEOFF) == "True":
        return None
    return labels.get(COMPOSE_PROJECT)


def owned_by(labels: Mapping[str, str], stack: str, adopted: Collection[str]) -> bool:
    """Whether an object with ``labels`` belongs to ``stack``: stackctl's label says so,
    or docker compose's project label does and ``stack`` adopted that project."""
    if labels.get(LABEL_STACK) is not None:
        return labels[LABEL_STACK] == stack
    return stack in adopted and compose_project(labels) == stack


def stackctl_name(name: str, project: str, service: str, number: str) -> str:
    """Compose v1 names a container ``proj_web_1``, v2 and stackctl ``proj-web-1``."""
    if name == f"{project}_{service}_{number}":
        return f"{project}-{service}-{number}"
    return name


def _container(c: ObservedContainer, adopted: Collection[str]) -> ObservedContainer:
    project = compose_project(c.labels)
    if project is None or project not in adopted or COMPOSE_SERVICE not in c.labels:
        return c
    service = c.labels[COMPOSE_SERVICE]
    number = c.labels.get(COMPOSE_NUMBER, "1")
    labels = {**c.labels, LABEL_STACK: project, LABEL_SERVICE: service, LABEL_NUMBER: number}
    name = stackctl_name(c.name, project, service, number)
    return replace(c, labels=labels, name=name, adopted_from=c.name)


def _network(n: ObservedNetwork, adopted: Collection[str]) -> ObservedNetwork:
    project = compose_project(n.labels)
    if project is None or project not in adopted:
        return n
    key = n.labels.get(COMPOSE_NETWORK, n.name.removeprefix(f"{project}_"))
    return replace(n, labels={**n.labels, LABEL_STACK: project, LABEL_NETWORK: key})


def _volume(v: ObservedVolume, adopted: Collection[str]) -> ObservedVolume:
    project = compose_project(v.labels)
    if project is None or project not in adopted:
        return v
    key = v.labels.get(COMPOSE_VOLUME, v.name.removeprefix(f"{project}_"))
    return replace(v, labels={**v.labels, LABEL_STACK: project, LABEL_VOLUME: key})


def owned(observed: ObservedState, projects: Collection[str] | None = None) -> ObservedState:
    """``observed`` with what docker compose made for ``projects`` (by default: those
    adopted, whose record exists) labelled as the stack of the same name's: stack,
    service, number, network and volume keys; a compose v1 container under stackctl's
    name (``adopted_from`` keeps compose's). What carries stackctl's labels is unchanged."""
    adopted = adopted_projects(observed) if projects is None else set(projects)
    if not adopted:
        return observed
    return replace(
        observed,
        containers=tuple(_container(c, adopted) for c in observed.containers),
        networks=tuple(_network(n, adopted) for n in observed.networks),
        volumes=tuple(_volume(v, adopted) for v in observed.volumes),
    )


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Adopted:
    """A network or volume adopted in place by this plan (``noun``: network | volume)."""

    noun: str
    name: str
    stack: str


@dataclass(frozen=True)
class Claim:
    """The planner's view after adoption: ``observed`` with adopted objects as the stacks'
    (adopted networks whose settings match carry the desired config hash, so they are
    unchanged); ``problems``: compose projects not adopted, networks and volumes that
    differ; ``fresh``: the stacks that adopt their compose project in this plan (their
    record is made); ``resources``: the networks and volumes they adopt."""

    observed: ObservedState
    problems: tuple[str, ...] = ()
    fresh: tuple[str, ...] = ()
    resources: tuple[Adopted, ...] = field(default=())


@dataclass(frozen=True)
class Found:
    """What docker compose made for one project (names)."""

    containers: tuple[str, ...]
    networks: tuple[str, ...]
    volumes: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.containers or self.networks or self.volumes)

    def text(self) -> str:
        parts = [
            f"{noun}: {', '.join(names)}"
            for noun, names in (
                ("containers", self.containers),
                ("networks", self.networks),
                ("volumes", self.volumes),
            )
            if names
        ]
        return "; ".join(parts)


def found(observed: ObservedState, project: str) -> Found:
    """What docker compose made for ``project`` that no stack owns yet."""
    return Found(
        tuple(sorted(c.name for c in observed.containers if compose_project(c.labels) == project)),
        tuple(sorted(n.name for n in observed.networks if compose_project(n.labels) == project)),
        tuple(sorted(v.name for v in observed.volumes if compose_project(v.labels) == project)),
    )


def refusal(stack: str, made: Found) -> str:
    """The one problem a compose project of the stack's name is without ``--adopt``."""
    return (
        f"stack {stack!r}: docker compose project {stack!r} already runs here "
        f"({made.text()}); stackctl will not take it over unless asked.\n  hint: rerun "
        "with --adopt to adopt it: containers whose config matches the stack keep running "
        "untouched, the others are replaced; networks and volumes are kept as they are "
        f"(or remove it first: docker compose -p {stack} down)"
    )


def claim(desired: DesiredState, observed: ObservedState, *, adopt: bool) -> Claim:
    """Adopt (``adopt``) or refuse each compose project named as a planned stack; the
    projects adopted before (records) are the stacks' already."""
    recorded = adopted_projects(observed)
    problems: list[str] = []
    fresh: list[str] = []
    refused: set[str] = set()
    for stack in desired.stacks:
        made = found(observed, stack)
        if not made or stack in recorded:
            continue
        if adopt:
            fresh.append(stack)
        else:
            problems.append(refusal(stack, made))
            refused.add(stack)
    view = owned(_without(observed, refused), recorded | set(fresh))
    adopting = (recorded & set(desired.stacks)) | set(fresh)
    resources: list[Adopted] = []
    hashes: dict[str, str] = {}
    for net in desired.networks:
        obs = view.network(net.name)
        if net.stack not in adopting or obs is None or not _composed(obs.labels, net.stack):
            continue
        diff = network_differences(net, obs)
        if diff:
            problems.append(_network_differs(net, diff))
            continue
        hashes[net.name] = net.config_hash
        if net.stack in fresh:
            resources.append(Adopted("network", net.name, net.stack))
    for vol in desired.volumes:
        found_vol = view.volume(vol.name)
        if vol.stack not in adopting or found_vol is None:
            continue
        if not _composed(found_vol.labels, vol.stack):
            continue
        diff = volume_differences(vol, found_vol)
        if diff:
            problems.append(_volume_differs(vol, diff))
        elif vol.stack in fresh:
            resources.append(Adopted("volume", vol.name, vol.stack))
    if hashes:
        view = replace(
            view,
            networks=tuple(
                replace(n, labels={**n.labels, LABEL_HASH: hashes[n.name]})
                if n.name in hashes
                else n
                for n in view.networks
            ),
        )
    return Claim(view, tuple(problems), tuple(fresh), tuple(resources))


def _composed(labels: Mapping[str, str], stack: str) -> bool:
    """Made by compose for ``stack``'s project (and labelled as the stack's in the view)."""
    return labels.get(COMPOSE_PROJECT) == stack and LABEL_HASH not in labels


def _without(observed: ObservedState, projects: Collection[str]) -> ObservedState:
    """``observed`` without what compose made for ``projects`` (refused as one problem
    each, not once per object)."""
    if not projects:
        return observed

    def keep(labels: Mapping[str, str]) -> bool:
        return compose_project(labels) not in projects

    return replace(
        observed,
        containers=tuple(c for c in observed.containers if keep(c.labels)),
        networks=tuple(n for n in observed.networks if keep(n.labels)),
        volumes=tuple(v for v in observed.volumes if keep(v.labels)),
    )


def network_differences(net: DesiredNetwork, obs: ObservedNetwork) -> tuple[Change, ...]:
    """The settings where a network compose made differs from the stack's: the driver,
    its options, internal, IPv6, and the IPAM pools and driver the stack sets (a pool the
    daemon picked itself is not a difference), attachable (overlay networks only: compose
    v1 makes its bridge networks attachable, which changes nothing on one host); and the
    network's labels."""
    have = obs.settings
    own = ("com.docker.compose.", "io.stackctl.")
    pairs: list[tuple[str, Any, Any]] = [
        ("driver", have.get("driver"), net.driver),
        ("options", have.get("options") or {}, dict(net.options)),
        ("internal", bool(have.get("internal")), net.internal),
        ("enable_ipv6", bool(have.get("enable_ipv6")), net.enable_ipv6),
        ("ipam_driver", have.get("ipam_driver") or "default", net.ipam_driver),
        (
            "labels",
            {k: v for k, v in obs.labels.items() if not k.startswith(own)},
            {k: v for k, v in net.config.get("labels", {}).items() if not k.startswith(own)},
        ),
    ]
    if net.driver == "overlay":
        pairs.append(("attachable", bool(have.get("attachable")), net.attachable))
    if net.ipam:
        pairs.append(("ipam", have.get("ipam") or [], list(net.ipam)))
    return tuple(Change(path, old, new) for path, old, new in pairs if old != new)


def volume_differences(vol: DesiredVolume, obs: ObservedVolume) -> tuple[Change, ...]:
    pairs = [("driver", obs.driver, vol.driver), ("driver_opts", obs.options, vol.driver_opts)]
    return tuple(Change(path, old, new) for path, old, new in pairs if old != new)


def _fields(changes: Iterable[Change]) -> str:
    return ", ".join(f"{c.path} ({c.old!r} here, {c.new!r} in the stack)" for c in changes)


def _network_differs(net: DesiredNetwork, changes: tuple[Change, ...]) -> str:
    return (
        f"network {net.name!r} (made by docker compose, adopted by stack {net.stack!r}) "
        f"differs from the stack's network {net.key!r}: {_fields(changes)}; an adopted "
        "network is never recreated.\n  hint: make the stack's network say what the "
        "network has, or recreate it yourself: stop the stack's containers, "
        f"docker network rm {net.name}, then apply"
    )


def _volume_differs(vol: DesiredVolume, changes: tuple[Change, ...]) -> str:
    return (
        f"volume {vol.name!r} (made by docker compose, adopted by stack {vol.stack!r}) "
        f"differs from the stack's volume {vol.key!r}: {_fields(changes)}; a volume holds "
        "data and is never recreated.\n  hint: make the stack's volume say what the "
        "volume has (driver, driver_opts)"
    )


# --------------------------------------------------------------------------- containers


def changes(
    dc: DesiredContainer, obs: ObservedContainer, observed: ObservedState
) -> tuple[Change, ...]:
    """Where a container compose made differs from ``dc``: its running config, field by
    field (``readback.py``), and the image its tag names now. A container whose config
    could not be read back differs as a whole."""
    if obs.readback is None:
        return (Change("config", "(not read back from the daemon)", "(this stack)"),)
    # a variable only the running container has is shown unless its name looks secret
    # (its value is known to no redaction: the stack does not have it)
    running_env = obs.readback.get("env") or {}
    hidden = {*dc.sensitive, *(k for k in running_env if looks_secret(k))}
    out = differences(
        obs.readback,
        wanted(dc.spec, dc.env, dc.image),
        observed.image_defaults.get(obs.image_id),
        anonymous=sorted(dc.anonymous_targets()),
        sensitive=sorted(hidden),
    )
    current = observed.images.get(dc.image)
    if current and obs.image_id and current != obs.image_id:
        out = (*out, Change("image_id", obs.image_id[:19], current[:19]))
    return out
