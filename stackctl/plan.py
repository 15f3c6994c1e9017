"""The planner: a pure function from desired and observed state to a Plan.

No I/O and no clock: ``plan(desired, observed)`` and ``plan_destroy(...)`` only compare
data, so they are tested with data tables. A Plan is a graph of typed operations, each
with the operations it waits for and the reason it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from stackctl.desired import (
    TEMP_SUFFIX,
    ContainerNetwork,
    DesiredContainer,
    DesiredNetwork,
    DesiredState,
    DesiredVolume,
)
from stackctl.errors import PlanError
from stackctl.model import Condition
from stackctl.observe import (
    ObservedContainer,
    ObservedNetwork,
    ObservedState,
    ObservedVolume,
    fingerprint,
)

if TYPE_CHECKING:
    from stackctl.swarm.desired import SwarmService

COMPOSE_PROJECT = "com.docker.compose.project"


class Kind(StrEnum):
    PULL = "pull"
    CREATE_NETWORK = "create-network"
    REPLACE_NETWORK = "replace-network"
    REMOVE_NETWORK = "remove-network"
    CREATE_VOLUME = "create-volume"
    REMOVE_VOLUME = "remove-volume"
    CREATE = "create"
    REPLACE = "replace"
    START = "start"
    REMOVE = "remove"
    WAIT = "wait"
    # swarm services (--engine swarm): see stackctl/swarm/plan.py
    CREATE_SERVICE = "create-service"
    UPDATE_SERVICE = "update-service"
    REMOVE_SERVICE = "remove-service"


ADDS = {Kind.CREATE, Kind.CREATE_NETWORK, Kind.CREATE_VOLUME, Kind.CREATE_SERVICE}
CHANGES = {Kind.START, Kind.UPDATE_SERVICE}
REPLACES = {Kind.REPLACE, Kind.REPLACE_NETWORK}
DESTROYS = {Kind.REMOVE, Kind.REMOVE_NETWORK, Kind.REMOVE_VOLUME, Kind.REMOVE_SERVICE}


@dataclass(frozen=True)
class Change:
    """One field that differs: ``env.FOO: "a" -> "b"``."""

    path: str
    old: Any
    new: Any
    sensitive: bool = False


@dataclass(frozen=True)
class Operation:
    id: str
    kind: Kind
    resource: str  # the Docker name of what it acts on (container, network, volume, image)
    stack: str | None
    reason: str
    depends_on: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    container: DesiredContainer | None = None
    network: DesiredNetwork | None = None
    volume: DesiredVolume | None = None
    target_id: str | None = None  # the existing resource replaced, started or removed
    service: str | None = None  # wait: the service waited for
    condition: Condition | None = None  # wait: what it waits for
    wait_for: tuple[str, ...] = ()  # wait: container names
    reconnect: tuple[tuple[str, ContainerNetwork], ...] = ()  # replace-network
    swarm: SwarmService | None = None  # create-/update-service: the desired service
    version: int | None = None  # update-service: the spec version it was planned against


@dataclass(frozen=True)
class Plan:
    operations: tuple[Operation, ...]
    stacks: tuple[str, ...]
    fingerprint: str
    api_version: str
    unchanged: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    destroy: bool = False

    @property
    def has_changes(self) -> bool:
        return any(op.kind != Kind.WAIT for op in self.operations)

    def count(self, kinds: Iterable[Kind]) -> int:
        wanted = set(kinds)
        return sum(1 for op in self.operations if op.kind in wanted)

    def by_id(self) -> dict[str, Operation]:
        return {op.id: op for op in self.operations}


@dataclass
class _Builder:
    ops: list[Operation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def add(self, op: Operation) -> str:
        self.ops.append(op)
        return op.id

    def remove_network(self, net: ObservedNetwork, reason: str, after: tuple[str, ...]) -> None:
        """Remove the stack's network ``net`` once ``after`` (what is attached) are gone."""
        self.add(
            Operation(
                f"remove-network:{net.name}",
                Kind.REMOVE_NETWORK,
                net.name,
                net.stack,
                reason,
                after,
                target_id=net.id,
            )
        )

    def remove_volumes(
        self,
        observed: Iterable[ObservedVolume],
        ours: set[str],
        *,
        remove: bool,
        after: tuple[str, ...],
        reason: str,
    ) -> None:
        """Destroy: the stacks' volumes are removed (after ``after``) only when asked."""
        for vol in observed:
            if vol.stack not in ours:
                continue
            if not remove:
                self.unchanged.append(f"volume {vol.name} (kept; --volumes removes it)")
                continue
            self.add(
                Operation(
                    f"remove-volume:{vol.name}",
                    Kind.REMOVE_VOLUME,
                    vol.name,
                    vol.stack,
                    reason,
                    after,
                )
            )

    def finish(
        self,
        stacks: tuple[str, ...],
        fingerprint: Callable[[], str],
        api_version: str,
        *,
        destroy: bool = False,
    ) -> Plan:
        """The Plan, or PlanError with every problem found."""
        if self.problems:
            raise PlanError(self.problems)
        return Plan(
            operations=_ordered(self.ops),
            stacks=stacks,
            fingerprint=fingerprint(),
            api_version=api_version,
            unchanged=tuple(self.unchanged),
            warnings=tuple(self.warnings),
            destroy=destroy,
        )


# --------------------------------------------------------------------------- diffs


def diff_config(
    old: Mapping[str, Any] | None, new: Mapping[str, Any], sensitive: Iterable[str] = ()
) -> tuple[Change, ...]:
    """Field-level differences between two canonical configs (``env.FOO``, ``ports[0]``)."""
    if old is None:
        return (Change("config", "(unknown: made by an older stackctl)", "(this stack)"),)
    secret_env = set(sensitive)
    changes: list[Change] = []

    def walk(path: str, a: Any, b: Any) -> None:
        if a == b:
            return
        if isinstance(a, dict) or isinstance(b, dict):
            a, b = (a or {}), (b or {})
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                walk(f"{path}.{key}" if path else str(key), a.get(key), b.get(key))
            return
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and path != "command":
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(f"{path}[{i}]", x, y)
            return
        is_secret = path.startswith("env.") and (
            path[4:] in secret_env or _is_digest(a) or _is_digest(b)
        )
        changes.append(Change(path, a, b, sensitive=is_secret))

    walk("", dict(old), dict(new))
    return tuple(changes)


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("sha256:") and len(value) == 23


def _reason(changes: Sequence[Change]) -> str:
    names = [c.path for c in changes]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return f"config changed: {shown}"


# --------------------------------------------------------------------------- plan


def plan(desired: DesiredState, observed: ObservedState, *, prune: bool = False) -> Plan:
    """Operations that take ``observed`` to ``desired``; raises PlanError when it cannot."""
    from stackctl.swarm.desired import SwarmDesiredState

    if isinstance(desired, SwarmDesiredState):  # --engine swarm: services, not containers
        from stackctl.swarm.plan import plan_swarm

        return plan_swarm(desired, observed, prune=prune)
    b = _Builder()
    ours = set(desired.stacks)

    net_ops = _plan_networks(b, desired, observed, ours)
    vol_ops = _plan_volumes(b, desired, observed)
    pull_ops = _plan_images(b, desired, observed)
    container_ops = _plan_containers(b, desired, observed, ours, net_ops, vol_ops, pull_ops)
    _plan_waits(b, desired, observed, container_ops)
    _plan_orphans(b, desired, observed, ours, prune)
    _fix_network_replacements(b, observed)
    _check_addresses(b, desired, observed)

    names = [
        *(c.name for c in desired.containers),
        *(n.name for n in desired.networks),
        *(e.name for e in desired.external_networks),
        *(v.name for v in desired.volumes),
        *desired.images,
    ]
    return b.finish(
        desired.stacks, lambda: fingerprint(observed, desired.stacks, names), observed.api_version
    )


def _plan_networks(
    b: _Builder, desired: DesiredState, observed: ObservedState, ours: set[str]
) -> dict[str, str]:
    """Docker network name -> id of the operation that makes it ready."""
    ready: dict[str, str] = {}
    for net in desired.networks:
        obs = observed.network(net.name)
        op_id = f"network:{net.name}"
        if obs is None:
            ready[net.name] = b.add(
                Operation(op_id, Kind.CREATE_NETWORK, net.name, net.stack, "missing", network=net)
            )
        elif obs.stack != net.stack:
            owner = f"stack {obs.stack!r}" if obs.stack else "nobody (not made by stackctl)"
            b.problems.append(
                f"network {net.name!r} already exists and belongs to {owner}; stackctl "
                f"will not take it over.\n  hint: remove it (docker network rm {net.name}), "
                "give the stack's network another `name:`, or declare it `external: true` "
                "to use it as it is"
            )
        elif obs.config_hash != net.config_hash:
            changes = diff_config(_network_config(obs.labels), net.config)
            ready[net.name] = b.add(
                Operation(
                    op_id,
                    Kind.REPLACE_NETWORK,
                    net.name,
                    net.stack,
                    "network changed: " + ", ".join(c.path for c in changes),
                    changes=changes,
                    network=net,
                    target_id=obs.id,
                )
            )
        else:
            b.unchanged.append(f"network {net.name}")
    for ext in desired.external_networks:
        if observed.network(ext.name) is not None:
            continue
        provider = next((n for n in desired.networks if n.name == ext.name), None)
        if provider is not None:
            continue  # created by a stack of this plan, before its users
        users = ", ".join(ext.used_by)
        b.problems.append(
            f"external network {ext.name!r} (used by {users}) does not exist.\n  hint: "
            f"apply the stack that defines it first, or create it: docker network create "
            f"{ext.name}"
        )
    return ready


def _network_config(labels: Mapping[str, str]) -> dict[str, Any] | None:
    from stackctl.desired import config_from_labels

    return config_from_labels(labels)


def _plan_volumes(b: _Builder, desired: DesiredState, observed: ObservedState) -> dict[str, str]:
    ready: dict[str, str] = {}
    for vol in desired.volumes:
        obs = observed.volume(vol.name)
        if obs is None:
            ready[vol.name] = b.add(
                Operation(
                    f"volume:{vol.name}",
                    Kind.CREATE_VOLUME,
                    vol.name,
                    vol.stack,
                    "missing",
                    volume=vol,
                )
            )
        elif obs.stack != vol.stack:
            b.warnings.append(
                f"volume {vol.name!r} exists and is not managed by stack {vol.stack!r}; it will "
                "be used as it is and never removed by stackctl"
            )
        else:
            b.unchanged.append(f"volume {vol.name}")
    for name in desired.external_volumes:
        if observed.volume(name) is None:
            b.problems.append(
                f"external volume {name!r} does not exist.\n  hint: create it: "
                f"docker volume create {name}"
            )
    return ready


def _plan_images(b: _Builder, desired: DesiredState, observed: ObservedState) -> dict[str, str]:
    ready: dict[str, str] = {}
    policies: dict[str, set[str | None]] = {}
    for c in desired.containers:
        policies.setdefault(c.image, set()).add(c.pull_policy)
    for image in desired.images:
        present = image in observed.images
        always = "always" in policies.get(image, set())
        if present and not always:
            continue
        if not present and "never" in policies.get(image, set()):
            b.problems.append(
                f"image {image!r} is not on the daemon and pull_policy is never.\n  hint: "
                f"load or build it first (docker load / docker build -t {image} .)"
            )
            continue
        reason = "pull_policy: always" if present else "not on the daemon; will be pulled"
        ready[image] = b.add(Operation(f"image:{image}", Kind.PULL, image, None, reason))
    return ready


def _clash_message(name: str, obs: ObservedContainer, wanted_stack: str) -> str:
    project = obs.labels.get(COMPOSE_PROJECT)
    if obs.stack:
        owner = f"stack {obs.stack!r} (service {obs.service!r})"
        hint = "rename one of them (container_name) or destroy the other stack first"
    elif project:
        owner = f"docker compose project {project!r}, not stackctl"
        hint = (
            f"stop it with `docker compose -p {project} down` (named volumes are kept), "
            "then apply again"
        )
    else:
        owner = "nobody (it has no stackctl labels)"
        hint = f"remove or rename it (docker rm -f {name}), or set another container_name"
    return (
        f"container {name!r} wanted by stack {wanted_stack!r} already exists and belongs to "
        f"{owner}; stackctl will not take it over.\n  hint: {hint}"
    )


def _plan_containers(
    b: _Builder,
    desired: DesiredState,
    observed: ObservedState,
    ours: set[str],
    net_ops: Mapping[str, str],
    vol_ops: Mapping[str, str],
    pull_ops: Mapping[str, str],
) -> dict[tuple[str, str], list[str]]:
    """(stack, service) -> ids of the operations that bring its containers up."""
    by_service: dict[tuple[str, str], list[str]] = {}
    for dc in desired.containers:
        obs = observed.container(dc.name)
        deps = [net_ops[n.name] for n in dc.networks if n.name in net_ops]
        deps += [vol_ops[v] for v in dc.volumes if v in vol_ops]
        if dc.image in pull_ops:
            deps.append(pull_ops[dc.image])
        deps += [
            f"wait:{dc.stack}/{service}:{cond.value}" for service, cond in dc.depends_on.items()
        ]
        op: Operation | None = None
        if obs is None:
            op = _container_op(dc, deps, Kind.CREATE, "missing")
        elif obs.stack != dc.stack or obs.service != dc.service:
            b.problems.append(_clash_message(dc.name, obs, dc.stack))
            continue
        else:
            op = _existing(dc, obs, observed, deps)
        if op is None:
            b.unchanged.append(f"container {dc.name}")
            continue
        by_service.setdefault((dc.stack, dc.service), []).append(b.add(op))
    return by_service


def _container_op(
    dc: DesiredContainer,
    deps: Sequence[str],
    kind: Kind,
    reason: str,
    changes: tuple[Change, ...] = (),
    target_id: str | None = None,
) -> Operation:
    return Operation(
        f"container:{dc.name}",
        kind,
        dc.name,
        dc.stack,
        reason,
        depends_on=tuple(deps),
        changes=changes,
        container=dc,
        target_id=target_id,
    )


def _existing(
    dc: DesiredContainer,
    obs: ObservedContainer,
    observed: ObservedState,
    deps: Sequence[str],
) -> Operation | None:
    if obs.config_hash != dc.config_hash:
        changes = diff_config(obs.config, dc.config, dc.sensitive)
        return _container_op(dc, deps, Kind.REPLACE, _reason(changes), changes, obs.id)
    current = observed.images.get(dc.image)
    if current and obs.image_id and current != obs.image_id:
        change = Change("image_id", obs.image_id[:19], current[:19])
        return _container_op(dc, deps, Kind.REPLACE, "image updated", (change,), obs.id)
    wanted_nets = {n.name for n in dc.networks}
    # Created but never started counts too: an apply killed between the create and the
    # connects (below API 1.44) leaves a container on its first network only.
    if set(obs.networks) != wanted_nets:
        missing = sorted(wanted_nets - set(obs.networks))
        extra = sorted(set(obs.networks) - wanted_nets)
        detail = "; ".join(
            [*(f"not on network {n}" for n in missing), *(f"also on network {n}" for n in extra)]
        )
        change = Change("networks", sorted(obs.networks), sorted(wanted_nets))
        return _container_op(dc, deps, Kind.REPLACE, f"drift: {detail}", (change,), obs.id)
    if obs.state in ("dead", "removing"):
        return _container_op(dc, deps, Kind.REPLACE, f"container is {obs.state}", (), obs.id)
    if obs.running:
        return None
    if obs.state == "paused":
        return _container_op(dc, deps, Kind.START, "paused", (), obs.id)
    if dc.oneshot and obs.state == "exited" and obs.exit_code == 0:
        return None  # a one-shot that finished cleanly has done its job
    if obs.state == "exited" and obs.exit_code not in (None, 0):
        reason = f"exited with code {obs.exit_code}"
    else:
        reason = "stopped" if obs.state == "exited" else f"not running ({obs.state})"
    return _container_op(dc, deps, Kind.START, reason, (), obs.id)


def _plan_waits(
    b: _Builder,
    desired: DesiredState,
    observed: ObservedState,
    container_ops: Mapping[tuple[str, str], list[str]],
) -> None:
    active = {op.container.key for op in b.ops if op.container is not None}
    needed: dict[str, tuple[str, str, Condition]] = {}
    for dc in desired.containers:
        if dc.key not in active:
            continue
        for service, cond in dc.depends_on.items():
            needed[f"wait:{dc.stack}/{service}:{cond.value}"] = (dc.stack, service, cond)
    # Dependents of something not being planned at all wait on nothing; drop their edges.
    for wait_id, (stack, service, cond) in needed.items():
        names = tuple(
            c.name for c in desired.containers if c.stack == stack and c.service == service
        )
        verb = {
            Condition.STARTED: "running",
            Condition.HEALTHY: "healthy",
            Condition.COMPLETED: "completed successfully",
        }[cond]
        b.add(
            Operation(
                wait_id,
                Kind.WAIT,
                service,
                stack,
                f"a dependent needs {service} {verb}",
                depends_on=tuple(container_ops.get((stack, service), [])),
                service=service,
                condition=cond,
                wait_for=names,
            )
        )
    existing = {op.id for op in b.ops}
    b.ops[:] = [_replace_deps(op, tuple(d for d in op.depends_on if d in existing)) for op in b.ops]


def _replace_deps(op: Operation, deps: tuple[str, ...]) -> Operation:
    if deps == op.depends_on:
        return op
    from dataclasses import replace

    return replace(op, depends_on=deps)


def _plan_orphans(
    b: _Builder, desired: DesiredState, observed: ObservedState, ours: set[str], prune: bool
) -> None:
    wanted_containers = {c.name for c in desired.containers}
    removed: list[str] = []
    for obs in observed.containers:
        if obs.stack not in ours or obs.name in wanted_containers:
            continue
        if obs.name.endswith(TEMP_SUFFIX):
            leftover = b.add(
                Operation(
                    f"remove:{obs.name}",
                    Kind.REMOVE,
                    obs.name,
                    obs.stack,
                    "leftover of an interrupted replace",
                    target_id=obs.id,
                )
            )
            removed.append(leftover)
            # A replace of the same container makes a new one under this name: not before
            # the leftover is gone (run side by side, its create lost the race for the name).
            base = f"container:{obs.name.removesuffix(TEMP_SUFFIX)}"
            b.ops[:] = [
                _replace_deps(op, (*op.depends_on, leftover)) if op.id == base else op
                for op in b.ops
            ]
            continue
        if prune:
            removed.append(
                b.add(
                    Operation(
                        f"remove:{obs.name}",
                        Kind.REMOVE,
                        obs.name,
                        obs.stack,
                        f"orphan: service {obs.service!r} is no longer in the stack",
                        target_id=obs.id,
                    )
                )
            )
        else:
            b.warnings.append(
                f"container {obs.name} (service {obs.service!r} of stack {obs.stack!r}) is no "
                "longer in the stack; run with --prune to remove it"
            )
    wanted_nets = {n.name for n in desired.networks}
    for net in observed.networks:
        if net.stack not in ours or net.name in wanted_nets:
            continue
        if prune:
            attached = [f"remove:{c.name}" for c in observed.containers if net.name in c.networks]
            foreign = [
                c.name
                for c in observed.containers
                if net.name in c.networks and c.stack not in ours
            ]
            if foreign:
                b.warnings.append(
                    f"network {net.name} is no longer in the stack but containers of others are "
                    f"attached ({', '.join(foreign)}); it is kept"
                )
                continue
            b.remove_network(
                net,
                "orphan: network is no longer in the stack",
                tuple(a for a in attached if a in removed),
            )
        else:
            b.warnings.append(
                f"network {net.name} of stack {net.stack!r} is no longer in the stack; run with "
                "--prune to remove it"
            )


def _check_addresses(b: _Builder, desired: DesiredState, observed: ObservedState) -> None:
    """A fixed address that a container outside the plan holds: the daemon would refuse
    the start only after a replaced container's old one is gone. Say so now instead."""
    wanted = {c.name for c in desired.containers}
    leaving = {op.resource for op in b.ops if op.kind == Kind.REMOVE}
    held = {
        (net, ip): c
        for c in observed.containers
        if c.name not in wanted and c.name not in leaving
        for net, ip in c.networks.items()
        if ip
    }
    for op in b.ops:
        if op.kind not in (Kind.CREATE, Kind.REPLACE) or op.container is None:
            continue
        for n in op.container.networks:
            holder = held.get((n.name, n.ipv4_address or ""))
            if holder is None:
                continue
            owner = f"of stack {holder.stack!r}" if holder.stack else "not made by stackctl"
            b.problems.append(
                f"container {op.resource!r} needs the address {n.ipv4_address} on network "
                f"{n.name!r}, which container {holder.name!r} ({owner}) holds.\n  hint: "
                f"free it (docker network disconnect {n.name} {holder.name}) or give the "
                "service another ipv4_address"
            )


def _fix_network_replacements(b: _Builder, observed: ObservedState) -> None:
    """A replaced network: foreign containers make it an error; ours get reconnected."""
    replacing = [op for op in b.ops if op.kind == Kind.REPLACE_NETWORK]
    if not replacing:
        return
    gone = {op.resource for op in b.ops if op.kind in (Kind.REPLACE, Kind.REMOVE)}
    for i, op in enumerate(b.ops):
        if op.kind != Kind.REPLACE_NETWORK or op.network is None:
            continue
        net = op.network
        attached = [c for c in observed.containers if net.name in c.networks]
        foreign = [c.name for c in attached if c.stack != net.stack]
        if foreign:
            b.problems.append(
                f"network {net.name!r} must be replaced ({op.reason}) but containers that "
                f"stack {net.stack!r} does not own are attached: {', '.join(sorted(foreign))}."
                "\n  hint: disconnect them (docker network disconnect "
                f"{net.name} NAME) or revert the network change"
            )
            continue
        reconnect: list[tuple[str, ContainerNetwork]] = []
        for c in attached:
            if c.name in gone:
                continue
            want = next(
                (n for dc in _desired_named(b, c.name) for n in dc.networks if n.name == net.name),
                ContainerNetwork(net.name, (c.service or c.name,), None, None),
            )
            reconnect.append((c.name, want))
        from dataclasses import replace

        b.ops[i] = replace(op, reconnect=tuple(reconnect))


def _desired_named(b: _Builder, name: str) -> list[DesiredContainer]:
    return [op.container for op in b.ops if op.container is not None and op.container.name == name]


# --------------------------------------------------------------------------- destroy


class _Wanted(Protocol):
    """A desired container or swarm service, as far as removal order goes."""

    @property
    def stack(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def depends_on(self) -> Mapping[str, Condition]: ...


class _Existing(Protocol):
    """An observed container or swarm service about to be removed."""

    @property
    def name(self) -> str: ...
    @property
    def stack(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...


def dependents_first(
    wanted: Iterable[_Wanted], existing: Sequence[_Existing], op_prefix: str
) -> dict[str, tuple[str, ...]]:
    """Destroy order: for each existing unit, the removal operations (``op_prefix`` + name)
    of the units of its stack that depend on it, which must go first."""
    dependents: dict[tuple[str, str], set[str]] = {}
    for w in wanted:
        for service in w.depends_on:
            dependents.setdefault((w.stack, service), set()).add(w.service)
    return {
        e.name: tuple(
            f"{op_prefix}{other.name}"
            for other in existing
            if other.stack == e.stack
            and other.service in dependents.get((e.stack or "", e.service or ""), set())
        )
        for e in existing
    }


def plan_destroy(desired: DesiredState, observed: ObservedState, *, volumes: bool = False) -> Plan:
    """Remove what the stacks made: containers (dependents first), networks, and volumes
    only when asked. External networks and anything not ours are never touched."""
    from stackctl.swarm.desired import SwarmDesiredState

    if isinstance(desired, SwarmDesiredState):  # --engine swarm
        from stackctl.swarm.plan import plan_swarm_destroy

        return plan_swarm_destroy(desired, observed, volumes=volumes)
    b = _Builder()
    ours = set(desired.stacks)
    mine = [c for c in observed.containers if c.stack in ours]
    first = dependents_first(desired.containers, mine, "remove:")
    for c in mine:
        b.add(
            Operation(
                f"remove:{c.name}",
                Kind.REMOVE,
                c.name,
                c.stack,
                "destroy",
                first[c.name],
                target_id=c.id,
            )
        )
    for net in observed.networks:
        if net.stack not in ours:
            continue
        foreign = [
            c.name for c in observed.containers if net.name in c.networks and c.stack not in ours
        ]
        if foreign:
            b.problems.append(
                f"network {net.name!r} of stack {net.stack!r} has containers of others "
                f"attached: {', '.join(sorted(foreign))}.\n  hint: disconnect them first "
                f"(docker network disconnect {net.name} NAME)"
            )
            continue
        attached = tuple(f"remove:{c.name}" for c in mine if net.name in c.networks)
        b.remove_network(net, "destroy", attached)
    b.remove_volumes(
        observed.volumes,
        ours,
        remove=volumes,
        after=tuple(f"remove:{c.name}" for c in mine),
        reason="destroy --volumes",
    )
    names = [c.name for c in mine] + [n.name for n in observed.networks if n.stack in ours]
    return b.finish(
        desired.stacks,
        lambda: fingerprint(observed, desired.stacks, names),
        observed.api_version,
        destroy=True,
    )


# --------------------------------------------------------------------------- order


def _ordered(ops: Sequence[Operation]) -> tuple[Operation, ...]:
    """A topological order that keeps the insertion order wherever the graph allows."""
    index = {op.id: i for i, op in enumerate(ops)}
    pending = {op.id: {d for d in op.depends_on if d in index} for op in ops}
    by_id = {op.id: op for op in ops}
    out: list[Operation] = []
    while pending:
        ready = sorted((i for i, deps in pending.items() if not deps), key=index.__getitem__)
        if not ready:  # a cycle: cannot happen for validated stacks; keep what remains
            ready = sorted(pending, key=index.__getitem__)[:1]
        first = ready[0]
        out.append(by_id[first])
        del pending[first]
        for deps in pending.values():
            deps.discard(first)
    return tuple(out)
