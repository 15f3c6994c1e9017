"""The plan and how backends build it: typed operations, their edges, their reasons.

A Plan is a graph of operations, each with the operations it waits for and the reason it
exists. Backends build one with :class:`PlanBuilder`, whose id constructors give every
operation of a kind one id shape (``container:NAME``, ``wait:STACK/SERVICE:CONDITION``...)
so that an edge can be added when an operation is made, before its target exists. The
planners themselves are pure functions in each backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from stackctl.core.labels import is_digest
from stackctl.core.resources import DesiredNetwork, DesiredVolume, ObservedNetwork, ObservedVolume
from stackctl.errors import PlanError
from stackctl.model import Condition


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
CHANGES = {Kind.START, Kind.UPDATE_SERVICE}
REPLACES = {Kind.REPLACE, Kind.REPLACE_NETWORK}
DESTROYS = {
    Kind.REMOVE,
    Kind.REMOVE_NETWORK,
    Kind.REMOVE_VOLUME,
    Kind.REMOVE_SERVICE,
    Kind.REMOVE_SECRET,
}

# What a dependency's condition means, in the words of a plan.
CONDITION_VERBS = {
    Condition.STARTED: "running",
    Condition.HEALTHY: "healthy",
    Condition.COMPLETED: "completed successfully",
}


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
    target_id: str | None = None  # the existing resource replaced, started or removed
    service: str | None = None  # wait: the service waited for
    condition: Condition | None = None  # wait: what it waits for
    wait_for: tuple[str, ...] = ()  # wait: container or service names
    reconnect: tuple[tuple[str, Any], ...] = ()  # replace-network: (container, attachment)
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
class PlanBuilder:
    ops: list[Operation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def add(self, op: Operation) -> str:
        self.ops.append(op)
        return op.id

    def after(self, op_id: str, deps: Iterable[str]) -> None:
        """Add edges: ``op_id`` runs only after ``deps``."""
        for i, op in enumerate(self.ops):
            if op.id == op_id:
                self.ops[i] = replace(op, depends_on=(*op.depends_on, *deps))

    def keep_edges_within(self) -> None:
        """Edges to operations that were not planned (a dependency already in its state,
        a wait nobody needs) are dropped."""
        existing = {op.id for op in self.ops}
        self.ops[:] = [
            op
            if all(d in existing for d in op.depends_on)
            else replace(op, depends_on=tuple(d for d in op.depends_on if d in existing))
            for op in self.ops
        ]

    def network_taken(self, name: str, owner: str | None) -> None:
        """A network the stack would create exists and is not its own."""
        who = f"stack {owner!r}" if owner else "nobody (not made by stackctl)"
        self.problems.append(
            f"network {name!r} already exists and belongs to {who}; stackctl "
            f"will not take it over.\n  hint: remove it (docker network rm {name}), "
            "give the stack's network another `name:`, or declare it `external: true` "
            "to use it as it is"
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
        operations that bring that service up (``unit_ops``); then drop the edges to
        waits and operations that were not planned."""
        active = {(op.unit.stack, op.unit.name) for op in self.ops if op.unit is not None}
        needed: dict[str, tuple[str, str, Condition]] = {}
        for u in units:
            if (u.stack, u.name) in active:
                for service, cond in u.depends_on.items():
                    needed[wait_id(u.stack, service, cond)] = (u.stack, service, cond)
        for op_id, (stack, service, cond) in needed.items():
            names = tuple(u.name for u in units if u.stack == stack and u.service == service)
            if not names:
                continue  # reported by validation
            self.add(
                Operation(
                    op_id,
                    Kind.WAIT,
                    service,
                    stack,
                    f"a dependent needs {service} {CONDITION_VERBS[cond]}",
                    depends_on=tuple(unit_ops.get((stack, service), ())),
                    service=service,
                    condition=cond,
                    wait_for=names,
                )
            )
        self.keep_edges_within()

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
            operations=ordered(self.ops),
            stacks=stacks,
            fingerprint=fingerprint(),
            api_version=api_version,
            unchanged=tuple(self.unchanged),
            warnings=tuple(self.warnings),
            destroy=destroy,
        )


# --------------------------------------------------------------------------- ids
# One id shape per kind of operation, so an edge can name its target before it exists.


def network_id(name: str) -> str:
    return f"network:{name}"


def volume_id(name: str) -> str:
    return f"volume:{name}"


def image_id(image: str) -> str:
    return f"image:{image}"


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
    wanted: Iterable[DesiredUnit], existing: Sequence[_Existing], op_prefix: str
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


# --------------------------------------------------------------------------- order


def ordered(ops: Sequence[Operation]) -> tuple[Operation, ...]:
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
