"""Which ready operation the executor starts first, which it holds back, and which events
end a wait: pure functions, checked as data tables without a daemon."""

from __future__ import annotations

import pytest

from stackctl.backends.docker.wait import met_by
from stackctl.core.plan import Kind, Operation
from stackctl.execute import WAIT_WEIGHT, held_back, priorities, wait_feeders
from stackctl.model import Condition


def op(op_id: str, *deps: str, kind: Kind = Kind.CREATE) -> Operation:
    return Operation(op_id, kind, op_id, "s", "test", tuple(deps))


def started_first(ops: list[Operation]) -> list[str]:
    """The order a one-slot executor starts them in: each finishes at once, and a wait goes
    the moment it is ready (waits run beside the pool)."""
    rank = priorities(ops)
    kinds = {o.id: o.kind for o in ops}
    left = {o.id: {d for d in o.depends_on if d in kinds} for o in ops}
    order: list[str] = []
    while left:
        ready = [i for i, deps in left.items() if not deps]
        pick = min(ready, key=lambda i: (kinds[i] != Kind.WAIT, rank[i]))
        order.append(pick)
        del left[pick]
        for deps in left.values():
            deps.discard(pick)
    return order


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        # Nothing depends on anything: the plan's order.
        ([op("a"), op("b"), op("c")], ["a", "b", "c"]),
        # b has a dependent, so it goes before a (which has none), whatever the plan order;
        # then c, which has a longer path behind it than a.
        ([op("a"), op("b"), op("c", "b")], ["b", "c", "a"]),
        # A longer chain behind c than behind a: c first, and its chain stays ahead.
        ([op("a"), op("b", "a"), op("c"), op("d", "c"), op("e", "d")], ["c", "d", "a", "e", "b"]),
        # A wait weighs like WAIT_WEIGHT operations: the database behind a health wait goes
        # before a chain of three plain operations, and app (behind the wait) before the
        # chain's last step once both are ready.
        (
            [
                op("x"),
                op("x2", "x"),
                op("x3", "x2"),
                op("db"),
                op("wait:db", "db", kind=Kind.WAIT),
                op("app", "wait:db"),
            ],
            ["db", "wait:db", "x", "x2", "app", "x3"],
        ),
        # Dependencies outside the plan (done earlier) are ignored.
        ([op("a", "gone"), op("b")], ["a", "b"]),
    ],
    ids=["plan-order", "dependents-first", "longest-chain", "wait-weight", "outside-deps"],
)
def test_priorities(ops: list[Operation], expected: list[str]) -> None:
    assert started_first(ops) == expected


def test_priority_heights_and_depths() -> None:
    ops = [op("db"), op("wait:db", "db", kind=Kind.WAIT), op("app", "wait:db")]
    rank = priorities(ops)
    # (-height, -depth, plan index). db: the wait above it (WAIT_WEIGHT) plus app above that
    # (1); app: db (1) and the wait (WAIT_WEIGHT) behind it.
    assert rank["db"] == (-(WAIT_WEIGHT + 1), 0, 0)
    assert rank["wait:db"] == (-1, -1, 1)
    assert rank["app"] == (0, -(WAIT_WEIGHT + 1), 2)


def test_priorities_of_a_cycle_keep_the_plan_order() -> None:
    ops = [op("a", "b"), op("b", "a"), op("c")]
    rank = priorities(ops)
    assert sorted((o.id for o in ops), key=rank.__getitem__) == ["a", "b", "c"]


# db behind a health wait that app needs; x and y need nothing; net comes before db and x.
STACK = [
    op("net", kind=Kind.CREATE_NETWORK),
    op("db", "net"),
    op("wait:db", "db", kind=Kind.WAIT),
    op("app", "wait:db"),
    op("x", "net"),
    op("y"),
]


def test_wait_feeders_are_the_container_starts_a_wait_needs() -> None:
    # net feeds the wait too, but it starts no container: only db counts.
    assert wait_feeders(STACK) == {"db"}
    chain = [
        op("a"),
        op("wait:a", "a", kind=Kind.WAIT),
        op("b", "wait:a"),
        op("wait:b", "b", kind=Kind.WAIT),
        op("c", "wait:b"),
        op("d", kind=Kind.START),
        op("wait:d", "d", kind=Kind.WAIT),
    ]
    assert wait_feeders(chain) == {"a", "b", "d"}
    assert wait_feeders([op("a"), op("b", "a")]) == set()


def held(stack: list[Operation], done: set[str], in_flight: set[str]) -> set[str]:
    """held_back as the executor calls it, after ``done`` finished and with ``in_flight``
    running: every other operation waits for its dependencies that are not done."""
    ops = {o.id: o for o in stack}
    waiting = {
        o.id: {d for d in o.depends_on if d not in done}
        for o in stack
        if o.id not in done | in_flight
    }
    return held_back(waiting, in_flight, ops, wait_feeders(stack))


@pytest.mark.parametrize(
    ("done", "in_flight", "expected"),
    [
        # Nothing started yet: y (which needs nothing) waits, since db only waits for net.
        (set(), set(), {"y"}),
        # net in flight: db is about to go, so y is held; x still waits for net anyway.
        (set(), {"net"}, {"y"}),
        # net done: db, x and y ready at once; x and y wait until db has started.
        ({"net"}, set(), {"x", "y"}),
        # db in flight: still held.
        ({"net"}, {"db"}, {"x", "y"}),
        # db started; its wait is in flight, which holds nothing back.
        ({"net", "db"}, {"wait:db"}, set()),
        # The wait is over: app (no feeder) is free too.
        ({"net", "db", "wait:db"}, set(), set()),
    ],
    ids=[
        "nothing-done",
        "network-in-flight",
        "ready-together",
        "feeder-in-flight",
        "feeder-started",
        "wait-over",
    ],
)
def test_held_back(done: set[str], in_flight: set[str], expected: set[str]) -> None:
    assert held(STACK, done, in_flight) == expected


def test_a_feeder_behind_a_pull_or_another_wait_holds_nothing_back() -> None:
    pulling = [
        op("pull", kind=Kind.PULL),
        op("db", "pull"),
        op("wait:db", "db", kind=Kind.WAIT),
        op("x"),
    ]
    assert held(pulling, set(), {"pull"}) == set()
    assert held(pulling, {"pull"}, set()) == {"x"}
    chain = [
        op("a"),
        op("wait:a", "a", kind=Kind.WAIT),
        op("b", "wait:a"),
        op("wait:b", "b", kind=Kind.WAIT),
        op("x"),
    ]
    # a has started and wait:a runs; b (a feeder) waits for it: x goes meanwhile.
    assert held(chain, {"a"}, {"wait:a"}) == set()
    # Once b is ready, x (had it not gone yet) waits for b's start.
    assert held(chain, {"a", "wait:a"}, set()) == {"x"}


def test_operations_that_start_no_container_are_never_held() -> None:
    stack = [op("db"), op("wait:db", "db", kind=Kind.WAIT), op("vol", kind=Kind.CREATE_VOLUME)]
    assert held(stack, set(), set()) == set()


@pytest.mark.parametrize(
    ("condition", "event", "met"),
    [
        (Condition.HEALTHY, {"Action": "health_status: healthy"}, True),
        (Condition.HEALTHY, {"Action": "health_status: unhealthy"}, False),
        (Condition.HEALTHY, {"Action": "start"}, False),
        (Condition.STARTED, {"Action": "start"}, True),
        (Condition.STARTED, {"status": "start"}, True),  # older daemons: "status" only
        (Condition.STARTED, {"Action": "die"}, False),
        # Completion needs the exit code: no event alone settles it.
        (Condition.COMPLETED, {"Action": "die"}, False),
        (Condition.HEALTHY, {}, False),
    ],
)
def test_met_by(condition: Condition, event: dict[str, str], met: bool) -> None:
    assert met_by(condition, event) is met
