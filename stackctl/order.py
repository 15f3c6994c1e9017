"""The order in which stacks loaded together are applied.

Stacks depend on each other through external networks: a stack that declares
``traefik_default`` as external comes after the stack that defines it (Docker names are
compared, so ``name:`` overrides count). An external network no stack of the set defines
must already exist on the daemon, made by hand or by something else.

    order = order_stacks(stacks)      # raises InvalidStackError on a cycle
    print(" -> ".join(order.names))   # traefik -> matrix
"""

from __future__ import annotations

import graphlib
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.model import Stack


@dataclass(frozen=True)
class UnprovidedNetwork:
    """An external network that no stack of the set defines: it must exist already."""

    name: str  # Docker network name
    used_by: tuple[str, ...]  # names of the stacks that declare it external


@dataclass(frozen=True)
class StackOrder:
    """Stacks in apply order, what each waits for, and the networks expected to exist."""

    stacks: tuple[Stack, ...]
    needs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # stack -> stacks before it
    unprovided: tuple[UnprovidedNetwork, ...] = ()

    @property
    def names(self) -> list[str]:
        """Stack names in apply order."""
        return [s.name for s in self.stacks]


@dataclass(frozen=True)
class _Use:
    """Stack ``user`` declares network ``key`` external; stack ``provider`` creates it."""

    user: int
    provider: int
    key: str
    name: str


def providers(stacks: Sequence[Stack]) -> dict[str, str]:
    """Docker network name -> name of the (first) stack of the set that creates it."""
    out: dict[str, str] = {}
    for stack in stacks:
        for key, net in stack.networks.items():
            if not net.external:
                out.setdefault(stack.network_name(key), stack.name)
    return out


def _provider_index(stacks: Sequence[Stack]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, stack in enumerate(stacks):
        for key, net in stack.networks.items():
            if not net.external:
                out.setdefault(stack.network_name(key), i)
    return out


def _uses(stacks: Sequence[Stack]) -> list[_Use]:
    """Every external network declaration that another stack of the set satisfies."""
    index = _provider_index(stacks)
    out: list[_Use] = []
    for i, stack in enumerate(stacks):
        for key, net in stack.networks.items():
            if not net.external:
                continue
            name = stack.network_name(key)
            j = index.get(name)
            if j is not None and j != i:
                out.append(_Use(i, j, key, name))
    return out


def _graph(stacks: Sequence[Stack], uses: Sequence[_Use]) -> dict[int, set[int]]:
    graph: dict[int, set[int]] = {i: set() for i in range(len(stacks))}
    for use in uses:
        graph[use.user].add(use.provider)
    return graph


def _cycle_diagnostic(
    stacks: Sequence[Stack], cycle: list[int], uses: Sequence[_Use]
) -> Diagnostic:
    """``a -> b -> a``: a uses b's network, b uses a's."""
    links = [
        next(u for u in uses if (u.user, u.provider) == pair) for pair in itertools.pairwise(cycle)
    ]
    first = stacks[cycle[0]]
    path = f"networks.{links[0].key}"
    because = "; ".join(
        f"{stacks[u.user].name} uses network '{u.name}' that {stacks[u.provider].name} defines"
        for u in links
    )
    return Diagnostic(
        severity="error",
        message="stacks depend on each other through external networks: "
        f"{' -> '.join(stacks[i].name for i in cycle)} ({because})",
        file=str(first.origin) if first.origin else None,
        line=first.line_of(path),
        path=path,
        hint="let one stack define every network the others share, or break one of the links",
        code="stack-cycle",
    )


def find_stack_cycles(stacks: Sequence[Stack]) -> list[Diagnostic]:
    """A ``stack-cycle`` error for each cycle of stacks through external networks."""
    uses = _uses(stacks)
    graph = _graph(stacks, uses)
    found: list[Diagnostic] = []
    for _ in range(len(stacks)):  # each round breaks one cycle to look for more
        try:
            graphlib.TopologicalSorter(graph).prepare()
            break
        except graphlib.CycleError as e:
            cycle: list[int] = list(reversed(e.args[1]))  # graphlib lists providers first
        found.append(_cycle_diagnostic(stacks, cycle, uses))
        graph[cycle[0]].discard(cycle[1])
    return found


def _unprovided(stacks: Sequence[Stack]) -> tuple[UnprovidedNetwork, ...]:
    defined = providers(stacks)
    users: dict[str, list[str]] = {}
    for stack in stacks:
        for key, net in stack.networks.items():
            name = stack.network_name(key)
            if net.external and name not in defined:
                users.setdefault(name, []).append(stack.name)
    return tuple(UnprovidedNetwork(name, tuple(names)) for name, names in users.items())


def order_stacks(stacks: Sequence[Stack]) -> StackOrder:
    """Stacks in apply order: each after the stacks whose networks it uses as external.

    Independent stacks keep the order they were given in. Raises InvalidStackError with a
    ``stack-cycle`` diagnostic when stacks depend on each other in a circle.
    """
    cycles = find_stack_cycles(stacks)
    if cycles:
        raise InvalidStackError(cycles)
    graph = _graph(stacks, _uses(stacks))
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    ready = list(sorter.get_ready())
    heapq.heapify(ready)
    ordered: list[Stack] = []
    while ready:  # always the earliest given stack that may go next
        i = heapq.heappop(ready)
        ordered.append(stacks[i])
        sorter.done(i)
        for j in sorter.get_ready():
            heapq.heappush(ready, j)
    needs = {
        stacks[i].name: tuple(stacks[j].name for j in sorted(deps)) for i, deps in graph.items()
    }
    return StackOrder(tuple(ordered), needs, _unprovided(stacks))
