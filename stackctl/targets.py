"""``--target SERVICE`` and ``--replace SERVICE``: which services a command means.

A name is ``SERVICE`` (that service in every stack that has one) or ``STACK/SERVICE``.
A target brings the services it depends on with it, transitively (as ``docker compose up
SERVICE`` does); :func:`partial` keeps of a full plan the operations on those services and
everything they wait for, so a partial plan is the full plan's own operations, never
different ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from stackctl.core.plan import Operation, Plan
from stackctl.errors import StackctlError
from stackctl.model import Stack

Key = tuple[str, str]  # (stack, service)


def resolve(stacks: Sequence[Stack], names: Iterable[str], option: str) -> frozenset[Key]:
    """The (stack, service) pairs ``names`` mean; an unknown name is an error that lists
    the services there are. ``option``: the option's name, for the message."""
    known = [(stack.name, service) for stack in stacks for service in stack.services]
    out: set[Key] = set()
    for name in names:
        stack, _, service = name.rpartition("/")
        found = [k for k in known if k[1] == service and (not stack or k[0] == stack)]
        if not found:
            listed = ", ".join(s if len(stacks) == 1 else f"{st}/{s}" for st, s in known)
            raise StackctlError(
                f"{option} {name}: no such service in the stacks".lstrip(),
                hint=f"the services are: {listed or '(none)'}",
            )
        out.update(found)
    return frozenset(out)


def with_dependencies(stacks: Sequence[Stack], keys: Iterable[Key]) -> frozenset[Key]:
    """``keys`` and every service they depend on, transitively (within each stack)."""
    by_name = {stack.name: stack for stack in stacks}
    out: set[Key] = set()
    todo = list(keys)
    while todo:
        key = todo.pop()
        if key in out:
            continue
        out.add(key)
        service = by_name[key[0]].services.get(key[1])
        if service is not None:
            todo.extend((key[0], dep) for dep in service.depends_on)
    return frozenset(out)


def partial(plan: Plan, services: frozenset[Key], targets: Sequence[str]) -> Plan:
    """The operations of ``plan`` on ``services``' units and everything those wait for
    (networks, volumes, pulls, waits, the removal of a leftover), in the plan's order.
    ``targets``: the names given, which the partial plan carries to say it is partial."""
    by_id = plan.by_id()
    keep: set[str] = set()
    todo = [op.id for op in plan.operations if _key(op) in services]
    while todo:
        op_id = todo.pop()
        if op_id in keep or op_id not in by_id:
            continue
        keep.add(op_id)
        todo.extend(by_id[op_id].depends_on)
    ops = tuple(op for op in plan.operations if op.id in keep)
    return replace(
        plan,
        operations=ops,
        targets=tuple(targets),
        target_services=tuple(sorted(f"{st}/{sv}" for st, sv in services)),
    )


def _key(op: Operation) -> Key | None:
    if op.unit is None:
        return None
    return (op.unit.stack, op.unit.service)


def one(stacks: Sequence[Stack], name: str) -> Key:
    """The one service ``name`` means (exec, run); a name in several stacks is ambiguous."""
    found = sorted(resolve(stacks, [name], "service"))
    if len(found) > 1:
        choices = ", ".join(f"{st}/{sv}" for st, sv in found)
        raise StackctlError(
            f"service {name!r} is in several stacks", hint=f"name one of: {choices}"
        )
    return found[0]


def services_or_all(stacks: Sequence[Stack], names: Sequence[str]) -> frozenset[Key]:
    """The services ``names`` mean, or every service of the stacks when none is named."""
    if names:
        return resolve(stacks, names, "service")
    return frozenset((stack.name, service) for stack in stacks for service in stack.services)
