"""Which ready operation the executor starts first, and which events end a wait: pure
functions, checked as data tables without a daemon."""

from __future__ import annotations

import pytest

from stackctl.apply import WAIT_WEIGHT, priorities
from stackctl.model import Condition
from stackctl.plan import Kind, Operation
from stackctl.wait import met_by


def op(op_id: str, *deps: str, kind: Kind = Kind.CREATE) -> Operation:
    return Operation(op_id, kind, op_id, "s", "test", tuple(deps))


def started_first(ops: list[Operation]) -> list[str]:
    """The order a one-slot executor would start them in, among those ready at once."""
    rank = priorities(ops)
    return sorted((o.id for o in ops), key=rank.__getitem__)


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        # Nothing depends on anything: the plan's order.
        ([op("a"), op("b"), op("c")], ["a", "b", "c"]),
        # b has a dependent, so it goes before a (which has none), whatever the plan order.
        ([op("a"), op("b"), op("c", "b")], ["b", "a", "c"]),
        # A longer chain behind c than behind a: c first.
        ([op("a"), op("b", "a"), op("c"), op("d", "c"), op("e", "d")], ["c", "a", "d", "b", "e"]),
        # A wait weighs like WAIT_WEIGHT operations: the database behind a health wait goes
        # before a chain of three plain operations.
        (
            [
                op("x"),
                op("x2", "x"),
                op("x3", "x2"),
                op("db"),
                op("wait:db", "db", kind=Kind.WAIT),
                op("app", "wait:db"),
            ],
            ["db", "x", "x2", "wait:db", "x3", "app"],
        ),
        # Dependencies outside the plan (done earlier) are ignored.
        ([op("a", "gone"), op("b")], ["a", "b"]),
    ],
    ids=["plan-order", "dependents-first", "longest-chain", "wait-weight", "outside-deps"],
)
def test_priorities(ops: list[Operation], expected: list[str]) -> None:
    assert started_first(ops) == expected


def test_priority_heights() -> None:
    ops = [op("db"), op("wait:db", "db", kind=Kind.WAIT), op("app", "wait:db")]
    rank = priorities(ops)
    # db: the wait above it (WAIT_WEIGHT) plus app above that (1).
    assert rank["db"] == (-(WAIT_WEIGHT + 1), 0)
    assert rank["wait:db"] == (-1, 1)
    assert rank["app"] == (0, 2)


def test_priorities_of_a_cycle_keep_the_plan_order() -> None:
    ops = [op("a", "b"), op("b", "a"), op("c")]
    assert started_first(ops) == ["a", "b", "c"]


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
