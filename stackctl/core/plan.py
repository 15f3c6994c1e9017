"""The plan and how backends build it: typed operations, their edges, their reasons.

A Plan is a graph of operations, each with the operations it waits for and the reason it
exists. Backends build one with :class:`PlanBuilder`, whose id constructors give every
operation of a kind one id shape (``container:NAME``, ``wait:STACK/SERVICE:CONDITION``...)
so that an edge can be added when an operation is made, before its target exists; the
builder joins operations and edges once, in ``finish()`` (no pass rewrites the list). An
operation on a unit also names its ``steps``, which the executor runs as they are. The
planners themselves are pure functions in each backend.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from stackctl.core.build import DesiredBuild
from stackctl.core.labels import COMPOSE_PROJECT, LABEL_VOLUME, config_from_labels, is_digest
from stackctl.core.resources import DesiredNetwork, DesiredVolume, ObservedNetwork, ObservedVolume
from stackctl.errors import PlanError
from stackctl.model import Condition


class Kind(StrEnum):
    PULL = "pull"
    BUILD = "build"  # an image from a build context (docker backend)
    CREATE_NETWORK = "create-network"
    REPLACE_NETWORK = "replace-network"
    REMOVE_NETWORK = "remove-network"
    CREATE_VOLUME = "create-volume"
    REMOVE_VOLUME = "remove-volume"
    CREATE = "create"
    REPLACE = "replace"
    START = "start"
    UNPAUSE = "unpause"
    RESTART = "restart"  # stackctl restart: stop and start an existing container
    UPDATE = "update"  # a container's restart policy / resource limits, in place
    REMOVE = "remove"
    WAIT = "wait"
    # taken over as they run (made by docker compose; see backends/docker/adopt.py)
    ADOPT = "adopt"
    ADOPT_NETWORK = "adopt-network"
    ADOPT_VOLUME = "adopt-volume"
    # swarm services (--engine swarm): see stackctl/backends/swarm/plan.py
    CREATE_SERVICE = "create-service"
    UPDATE_SERVICE = "update-service"
    REMOVE_SERVICE = "remove-service"
    CREATE_SECRET = "create-secret"
    REMOVE_SECRET = "remove-secret"


ADDS = {
    Kind.CREATE,
    Kind.CREATE_NETWORK,
    Kind.CREATE_VOLUME,
    Kind.CREATE_SERVICE,
    Kind.CREATE_SECRET,
}
CHANGES = {Kind.START, Kind.UNPAUSE, Kind.RESTART, Kind.UPDATE, Kind.UPDATE_SERVICE}
REPLACES = {Kind.REPLACE, Kind.REPLACE_NETWORK}
ADOPTS = {Kind.ADOPT, Kind.ADOPT_NETWORK, Kind.ADOPT_VOLUME}
DESTROYS = {
    Kind.REMOVE,
    Kind.REMOVE_NETWORK,
    Kind.REMOVE_VOLUME,
    Kind.REMOVE_SERVICE,
    Kind.REMOVE_SECRET,
}


class Step(StrEnum):
    """One daemon action of an operation on a unit, in the order the plan lists them: the
    executor runs an operation's ``steps`` as named and decides nothing itself."""

    CREATE = "create"
    START = "start"
    UNPAUSE = "unpause"
    UPDATE = "update"  # POST /containers/{id}/update: restart policy and resource limits
    STOP = "stop"
    REMOVE = "remove"
    # a replace: the new container under a temporary name first, so that a failed create
    # leaves the old one running
    REMOVE_TEMP = "remove-temp"  # the temporary (new) container, if any: a leftover, or undo
    CREATE_TEMP = "create-temp"
    STOP_OLD = "stop-old"
    START_NEW = "start-new"  # the new container, still under its temporary name
    WAIT_READY = "wait-ready"  # healthy where it has a health check, else running
    REMOVE_OLD = "remove-old"  # only once the new one is ready: until then it can come back
    RENAME = "rename"  # the new container takes the old one's name
    START_OLD = "start-old"  # rollback: the old container again, as it ran before
    ADOPT = "adopt"  # nothing to run: the container is the stack's from now on, as it runs


# What a dependency's condition means, in the words of a plan.


class DesiredUnit(Protocol):
    """A desired container or swarm service: what operations carry and removal orders."""

    @property
    def stack(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def config_hash(self) -> str: ...
    @property
    def depends_on(self) -> Mapping[str, Condition]: ...


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
    resource: str  # the Docker name of what it acts on (container, service, network, volume, image)
    stack: str | None
    reason: str
    depends_on: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    unit: DesiredUnit | None = None  # create/replace/update: a desired container or service
    network: DesiredNetwork | None = None
    volume: DesiredVolume | None = None
    build: DesiredBuild | None = None  # build: what to build
    target_id: str | None = None  # the existing resource replaced, started or removed
    service: str | None = None  # wait: the service waited for
    condition: Condition | None = None  # wait: what it waits for
    wait_for: tuple[str, ...] = ()  # wait: container or service names
    reconnect: tuple[tuple[str, Any], ...] = ()  # replace-network: (container, attachment)
    version: int | None = None  # update-service: the spec version it was planned against
    steps: tuple[Step, ...] = ()  # create, replace, start, unpause, remove: what to run, in order
    rollback: tuple[Step, ...] = ()  # replace: what undoes it if a step before remove-old fails
    notes: tuple[str, ...] = ()  # what else a person should know ("keeps anonymous volume /data")


@dataclass(frozen=True)
class Orphan:
    """Something of the stacks that is no longer in them, kept (``--prune`` removes it).

    Shown by every plan, never counted as a change: a plain apply leaves it as it is, so
    ``plan --detailed-exitcode`` exits 0 (as ``docker compose up`` only warns about orphan
    containers and Terraform's exit code counts only what apply would do)."""

    noun: str  # container | service | network | secret
    name: str  # its Docker name
    stack: str | None
    service: str | None = None  # containers and swarm services: the service it ran

    @property
    def label(self) -> str:
        """``whoami`` (a service) or ``network lab_old``."""
        if self.service and self.noun in ("container", "service"):
            return self.service
        return f"{self.noun} {self.name}"


@dataclass(frozen=True)
class Plan:
    operations: tuple[Operation, ...]
    stacks: tuple[str, ...]
    fingerprint: str
    api_version: str
    unchanged: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    destroy: bool = False
    targets: tuple[str, ...] = ()  # --target: the names given (a partial plan)
    target_services: tuple[str, ...] = ()  # --target: STACK/SERVICE planned, dependencies too
    orphans: tuple[Orphan, ...] = ()  # kept: not changes (see Orphan)

    @property
    def has_changes(self) -> bool:
        return any(op.kind != Kind.WAIT for op in self.operations)

    def count(self, kinds: Iterable[Kind]) -> int:
        wanted = set(kinds)
        return sum(1 for op in self.operations if op.kind in wanted)

    def by_id(self) -> dict[str, Operation]:
        return {op.id: op for op in self.operations}


@dataclass
class PlanBuilder:
    """Builds a Plan: each operation is added once, edges are added by id.

    ``add(op, after=...)`` and ``after(op_id, deps)`` record that ``op_id`` runs after each
    of ``deps``; either end may be added later (ids come from the id constructors below,
    so an edge can name an operation before it is made). Operations are added without
    ``depends_on``: :meth:`finish` builds the final operations with theirs.

    Every edge must join two operations that are planned by the time of :meth:`finish`,
    which asserts it (an edge to nothing is a planner bug, not something to drop
    silently). The one exception is an id declared with :meth:`not_planned`: an operation
    that edges may name but that turned out not to be needed; edges to it are dropped.
    """

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    _ops: dict[str, Operation] = field(default_factory=dict)
    _edges: dict[str, dict[str, None]] = field(default_factory=dict)  # op -> what it waits for
    _unplanned: set[str] = field(default_factory=set)

    def add(self, op: Operation, after: Iterable[str] = ()) -> str:
        """Plan ``op`` (once), to run after ``after``; its id."""
        assert op.id not in self._ops, f"operation {op.id} planned twice"
        assert not op.depends_on, f"{op.id}: edges go through the builder (after=)"
        self._ops[op.id] = op
        self.after(op.id, after)
        return op.id

    def create_missing(
        self,
        op_id: str,
        kind: Kind,
        name: str,
        stack: str | None,
        *,
        volume: DesiredVolume | None = None,
        unit: DesiredUnit | None = None,
    ) -> str:
        """Plan the creation of what the daemon does not have (the reason: ``missing``)."""
        return self.add(Operation(op_id, kind, name, stack, "missing", volume=volume, unit=unit))

    def after(self, op_id: str, deps: Iterable[str]) -> None:
        """Add edges: ``op_id`` runs only after each of ``deps``."""
        edges = self._edges.setdefault(op_id, {})
        for dep in deps:
            edges[dep] = None

    def not_planned(self, op_id: str) -> None:
        """``op_id`` will not be planned after all: edges to it are dropped by finish()."""
        self._unplanned.add(op_id)

    def has(self, op_id: str) -> bool:
        return op_id in self._ops

    @property
    def ops(self) -> tuple[Operation, ...]:
        """The operations planned so far, in the order they were added (no edges yet)."""
        return tuple(self._ops.values())

    def networks(
        self,
        nets: Sequence[DesiredNetwork],
        found: Callable[[str], ObservedNetwork | None],
        *,
        scope: str | None = None,
        reconnect: Callable[[DesiredNetwork], Callable[[str], tuple[tuple[str, Any], ...]]]
        | None = None,
    ) -> dict[str, str]:
        """Each of the stacks' networks (see :meth:`network`); two that claim one Docker
        name are a problem. Docker network name -> the operation that makes it ready."""
        ready: dict[str, str] = {}
        twice = self.claimed_twice("network", nets)
        for net in nets:
            if net.name in twice:
                continue
            again = reconnect(net) if reconnect else (lambda _reason: ())
            op_id = self.network(net, found(net.name), scope=scope, reconnect=again)
            if op_id is not None:
                ready[net.name] = op_id
        return ready

    def network(
        self,
        net: DesiredNetwork,
        found: ObservedNetwork | None,
        *,
        scope: str | None = None,
        reconnect: Callable[[str], tuple[tuple[str, Any], ...]] = lambda _reason: (),
    ) -> str | None:
        """A stack's network: created when missing, replaced when its settings (or its
        ``scope``, when one is required) changed, else unchanged. The id of the operation
        that makes it ready, if one is planned. ``reconnect(reason)``, asked only for a
        replacement: the containers to attach again (it reports those it cannot)."""
        op_id = network_id(net.name)
        if found is None:
            return self.add(
                Operation(op_id, Kind.CREATE_NETWORK, net.name, net.stack, "missing", network=net)
            )
        if found.stack != net.stack:
            self.network_taken(net.name, found.stack)
            return None
        wrong_scope = scope is not None and found.scope != scope
        if found.config_hash == net.config_hash and not wrong_scope:
            self.unchanged.append(f"network {net.name}")
            return None
        changes = diff_config(config_from_labels(found.labels), net.config)
        if wrong_scope and not any(c.path == "scope" for c in changes):
            changes = (*changes, Change("scope", found.scope, scope))
        reason = "network changed: " + ", ".join(c.path for c in changes)
        return self.add(
            Operation(
                op_id,
                Kind.REPLACE_NETWORK,
                net.name,
                net.stack,
                reason,
                changes=changes,
                network=net,
                target_id=found.id,
                reconnect=reconnect(reason),
            )
        )

    def network_taken(self, name: str, owner: str | None) -> None:
        """A network the stack would create exists and is not its own."""
        who = f"stack {owner!r}" if owner else "nobody (not made by stackctl)"
        self.problems.append(
            f"network {name!r} already exists and belongs to {who}; stackctl "
            f"will not take it over.\n  hint: remove it (docker network rm {name}), "
            "give the stack's network another `name:`, or declare it `external: true` "
            "to use it as it is"
        )

    def claimed_twice(
        self, what: str, resources: Iterable[DesiredNetwork | DesiredVolume]
    ) -> set[str]:
        """Docker names that two declarations (``what``: network or volume) of the stacks map
        to (volume ``a_b`` of stack ``x`` and ``b`` of stack ``x_a`` are both ``x_a_b``):
        one problem each, and the set of those names, which the planner then leaves alone."""
        owners: dict[str, list[DesiredNetwork | DesiredVolume]] = {}
        for r in resources:
            owners.setdefault(r.name, []).append(r)
        twice = {name: rs for name, rs in owners.items() if len(rs) > 1}
        for name, rs in twice.items():
            who = " and ".join(f"{what} {r.key!r} of stack {r.stack!r}" for r in rs)
            self.problems.append(
                f"{what} {name!r} is claimed by {who}: they would share one Docker {what}.\n"
                f"  hint: give one of them another `name:`, or let one stack define it and "
                f"declare it `external: true` (name: {name}) in the other"
            )
        return set(twice)

    def volume_taken(self, vol: DesiredVolume, found: ObservedVolume) -> None:
        """A volume the stack would create exists and is not its own: mounting it would
        let the stack write into data it does not own."""
        project = found.labels.get(COMPOSE_PROJECT)
        if found.stack:
            key = found.labels.get(LABEL_VOLUME)
            owner = f"stack {found.stack!r}" + (f" (its volume {key!r})" if key else "")
        elif project:
            owner = f"docker compose project {project!r}, not stackctl"
        else:
            owner = "nobody (it has no stackctl labels)"
        self.problems.append(
            f"volume {vol.name!r} (volume {vol.key!r} of stack {vol.stack!r}) already exists "
            f"and belongs to {owner}; stackctl will not mount it as the stack's own.\n"
            f"  hint: to use that volume and its data on purpose, declare it `external: true` "
            f"(name: {vol.name}); otherwise give the stack's volume another `name:`"
        )

    def external_network_missing(self, used_by: Iterable[str], name: str, create: str) -> None:
        """``create``: the command that makes it (``docker network create ...``)."""
        self.problems.append(
            f"external network {name!r} (used by {', '.join(used_by)}) does not exist.\n  "
            f"hint: apply the stack that defines it first, or create it: {create}"
        )

    def waits(
        self, units: Sequence[DesiredUnit], unit_ops: Mapping[tuple[str, str], Sequence[str]]
    ) -> None:
        """One wait per (service, condition) that a planned unit depends on, after the
        operations that bring that service up (``unit_ops``). Units name their waits with
        :func:`wait_id` when they are added; a wait for a service without units (reported
        by validation) is not planned."""
        active = {(op.unit.stack, op.unit.name) for op in self._ops.values() if op.unit is not None}
        needed: dict[str, tuple[str, str, Condition]] = {}
        for u in units:
            if (u.stack, u.name) in active:
                for service, cond in u.depends_on.items():
                    needed[wait_id(u.stack, service, cond)] = (u.stack, service, cond)
        by_service: dict[tuple[str, str], list[str]] = {}
        for u in units:
            by_service.setdefault((u.stack, u.service), []).append(u.name)
        for op_id, (stack, service, cond) in needed.items():
            names = tuple(by_service.get((stack, service), ()))
            if not names:
                self.not_planned(op_id)
                continue
            self.add(
                Operation(
                    op_id,
                    Kind.WAIT,
                    service,
                    stack,
                    f"a dependent needs {service} {cond.verb}",
                    service=service,
                    condition=cond,
                    wait_for=names,
                ),
                after=unit_ops.get((stack, service), ()),
            )

    def orphan(
        self, unit: _Existing, noun: str, *, prune: bool, remove: Callable[[str], str]
    ) -> str | None:
        """A unit of the stacks that is no longer in them: removed with --prune (by
        ``remove(reason)``, which returns the operation's id), else kept and listed."""
        if prune:
            return remove(f"orphan: service {unit.service!r} is no longer in the stack")
        self.orphans.append(Orphan(noun, unit.name, unit.stack, unit.service))
        return None

    def orphan_network(
        self, net: ObservedNetwork, *, prune: bool, kept_by: str, after: tuple[str, ...]
    ) -> None:
        """A network of the stacks that is no longer in them: removed with --prune after
        ``after`` (the removals of what uses it), unless ``kept_by`` says what keeps it."""
        if not prune:
            self.orphans.append(Orphan("network", net.name, net.stack))
        elif kept_by:
            self.warnings.append(
                f"network {net.name} is no longer in the stack but {kept_by}; it is kept"
            )
        else:
            self.remove_network(net, "orphan: network is no longer in the stack", after)

    def remove_network(self, net: ObservedNetwork, reason: str, after: tuple[str, ...]) -> None:
        """Remove the stack's network ``net`` once ``after`` (what is attached) are gone."""
        self.add(
            Operation(
                remove_network_id(net.name),
                Kind.REMOVE_NETWORK,
                net.name,
                net.stack,
                reason,
                target_id=net.id,
            ),
            after=after,
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
                    remove_volume_id(vol.name),
                    Kind.REMOVE_VOLUME,
                    vol.name,
                    vol.stack,
                    reason,
                ),
                after=after,
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
            operations=ordered(self._linked()),
            stacks=stacks,
            fingerprint=fingerprint(),
            api_version=api_version,
            unchanged=tuple(self.unchanged),
            warnings=tuple(self.warnings),
            destroy=destroy,
            orphans=tuple(self.orphans),
        )

    def _linked(self) -> list[Operation]:
        """The operations with their edges; asserts that every edge joins planned ones."""
        for op_id in self._edges:
            assert op_id in self._ops, f"an edge from {op_id}, which was never planned"
        out: list[Operation] = []
        for op in self._ops.values():
            deps: list[str] = []
            for dep in self._edges.get(op.id, {}):
                if dep in self._ops:
                    deps.append(dep)
                else:
                    assert dep in self._unplanned, f"{op.id} waits for {dep}: never planned"
            out.append(replace(op, depends_on=tuple(deps)) if deps else op)
        return out


# --------------------------------------------------------------------------- ids
# One id shape per kind of operation, so an edge can name its target before it exists.


def network_id(name: str) -> str:
    """Create or replace the network ``name``."""
    return f"network:{name}"


def remove_network_id(name: str) -> str:
    return f"remove-network:{name}"


def adopt_id(noun: str, name: str) -> str:
    """Adopt the container, network or volume (``noun``) ``name`` made by docker compose."""
    return f"adopt-{noun}:{name}"


def remove_volume_id(name: str) -> str:
    return f"remove-volume:{name}"


def container_id(name: str) -> str:
    """Create, replace, start or unpause the container ``name``."""
    return f"container:{name}"


def remove_id(name: str) -> str:
    """Remove the container ``name``."""
    return f"remove:{name}"


def service_id(name: str) -> str:
    """Create or update the swarm service ``name``."""
    return f"service:{name}"


def remove_service_id(name: str) -> str:
    return f"remove-service:{name}"


def volume_id(name: str) -> str:
    return f"volume:{name}"


def image_id(image: str) -> str:
    return f"image:{image}"


def build_id(image: str) -> str:
    """Build the image ``image`` (a tag)."""
    return f"build:{image}"


def wait_id(stack: str, service: str, condition: Condition) -> str:
    return f"wait:{stack}/{service}:{condition.value}"


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
            path[4:] in secret_env or is_digest(a) or is_digest(b)
        )
        changes.append(Change(path, a, b, sensitive=is_secret))

    walk("", dict(old), dict(new))
    return tuple(changes)


def change_reason(changes: Sequence[Change]) -> str:
    names = [c.path for c in changes]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return f"config changed: {shown}"


# --------------------------------------------------------------------------- destroy


class _Existing(Protocol):
    """An observed container or swarm service about to be removed."""

    @property
    def name(self) -> str: ...
    @property
    def stack(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...


def dependents_first(
    wanted: Iterable[DesiredUnit], existing: Sequence[_Existing], remove: Callable[[str], str]
) -> dict[str, tuple[str, ...]]:
    """Destroy order: for each existing unit, the removal operations (ids by ``remove``)
    of the units of its stack that depend on it, which must go first."""
    dependents: dict[tuple[str, str], set[str]] = {}
    for w in wanted:
        for service in w.depends_on:
            dependents.setdefault((w.stack, service), set()).add(w.service)
    return {
        e.name: tuple(
            remove(other.name)
            for other in existing
            if other.stack == e.stack
            and other.service in dependents.get((e.stack or "", e.service or ""), set())
        )
        for e in existing
    }


E = TypeVar("E", bound=_Existing)


def destroy_units(
    b: PlanBuilder,
    wanted: Iterable[DesiredUnit],
    existing: Sequence[E],
    stacks: Iterable[str],
    remove_id: Callable[[str], str],
    remove: Callable[[PlanBuilder, E, str, Sequence[str]], str],
) -> list[E]:
    """Destroy: remove the ``stacks``' units, each after the units that depend on it (by
    ``remove``, whose operation ids are ``remove_id``); the units removed."""
    ours = set(stacks)
    mine = [e for e in existing if e.stack in ours]
    first = dependents_first(wanted, mine, remove_id)
    for e in mine:
        remove(b, e, "destroy", first[e.name])
    return mine


# --------------------------------------------------------------------------- order


def ordered(ops: Sequence[Operation]) -> tuple[Operation, ...]:
    """A topological order that keeps the insertion order wherever the graph allows: each
    step takes the earliest operation whose dependencies are all placed (Kahn's algorithm
    with a heap: linear in the edges, not quadratic in the operations)."""
    index = {op.id: i for i, op in enumerate(ops)}
    waiting = [len({d for d in op.depends_on if d in index}) for op in ops]
    dependents: list[list[int]] = [[] for _ in ops]
    for i, op in enumerate(ops):
        for d in {d for d in op.depends_on if d in index}:
            dependents[index[d]].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    placed = [False] * len(ops)
    out: list[Operation] = []
    while len(out) < len(ops):
        if not ready:  # a cycle: cannot happen for validated stacks; keep what remains
            ready = [min(i for i, done in enumerate(placed) if not done)]
        i = heapq.heappop(ready)
        if placed[i]:
            continue
        placed[i] = True
        out.append(ops[i])
        for j in dependents[i]:
            waiting[j] -= 1
            if waiting[j] == 0 and not placed[j]:
                heapq.heappush(ready, j)
    return tuple(out)
