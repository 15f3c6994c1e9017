"""The plan builder owns the edges: ops are added once, edges by id, joined at finish()."""

from __future__ import annotations

import pytest

from stackctl.core.plan import Kind, Operation, Plan, PlanBuilder, container_id, network_id


def op(op_id: str, kind: Kind = Kind.CREATE) -> Operation:
    return Operation(op_id, kind, op_id, "s", "missing")


def finish(b: PlanBuilder) -> Plan:
    return b.finish(("s",), lambda: "fp", "1.41")


def test_an_edge_may_name_an_operation_added_later() -> None:
    b = PlanBuilder()
    b.add(op(container_id("web")), after=[network_id("net")])
    b.add(op(network_id("net"), Kind.CREATE_NETWORK))
    p = finish(b)
    assert [o.id for o in p.operations] == ["network:net", "container:web"]
    assert p.by_id()["container:web"].depends_on == ("network:net",)


def test_edges_added_after_the_operation_keep_their_order_once() -> None:
    b = PlanBuilder()
    for name in ("a", "b", "c"):
        b.add(op(name))
    b.after("c", ["b", "a", "b"])
    assert finish(b).by_id()["c"].depends_on == ("b", "a")


def test_an_edge_to_an_operation_never_planned_is_a_planner_bug() -> None:
    b = PlanBuilder()
    b.add(op("a"), after=["ghost"])
    with pytest.raises(AssertionError, match="ghost"):
        finish(b)


def test_an_edge_from_an_operation_never_planned_is_a_planner_bug() -> None:
    b = PlanBuilder()
    b.add(op("a"))
    b.after("ghost", ["a"])
    with pytest.raises(AssertionError, match="ghost"):
        finish(b)


def test_an_edge_to_an_operation_declared_not_planned_is_dropped() -> None:
    b = PlanBuilder()
    b.add(op("a"), after=["maybe"])
    b.not_planned("maybe")
    assert finish(b).by_id()["a"].depends_on == ()


def test_an_operation_is_added_once_and_without_edges_of_its_own() -> None:
    b = PlanBuilder()
    b.add(op("a"))
    with pytest.raises(AssertionError, match="twice"):
        b.add(op("a"))
    with pytest.raises(AssertionError, match="after="):
        b.add(Operation("b", Kind.CREATE, "b", "s", "missing", depends_on=("a",)))


def _reference_order(ops: list[Operation]) -> list[str]:
    """The earliest operation whose dependencies are placed, one step at a time (the
    quadratic form of ``ordered``, kept here as its specification)."""
    index = {op.id: i for i, op in enumerate(ops)}
    pending = {op.id: {d for d in op.depends_on if d in index} for op in ops}
    out: list[str] = []
    while pending:
        ready = sorted((i for i, deps in pending.items() if not deps), key=index.__getitem__)
        first = ready[0] if ready else min(pending, key=index.__getitem__)
        out.append(first)
        del pending[first]
        for deps in pending.values():
            deps.discard(first)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_order_keeps_insertion_order_wherever_the_graph_allows(seed: int) -> None:
    import random

    from stackctl.core.plan import ordered

    rnd = random.Random(seed)
    n = rnd.randint(1, 60)
    names = [f"op{i}" for i in range(n)]
    rnd.shuffle(names)
    cyclic = seed % 5 == 0  # a few graphs with cycles: the order still holds every op once
    ops = [
        Operation(
            name,
            Kind.CREATE,
            name,
            "s",
            "test",
            depends_on=tuple(
                rnd.sample(
                    names if cyclic else names[:i], k=min(i if not cyclic else n, rnd.randint(0, 3))
                )
            )
            + (("missing",) if rnd.random() < 0.1 else ()),
        )
        for i, name in enumerate(names)
    ]
    got = [op.id for op in ordered(ops)]
    assert got == _reference_order(ops)
    assert sorted(got) == sorted(names)
