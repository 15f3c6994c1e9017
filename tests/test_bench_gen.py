"""The benchmark's three contenders get the same stack: bench/gen.py writes it as a stackctl
stack file and as a compose.yaml, and bench/floor.py builds its create bodies from the same
description. Loaded by stackctl, the two files must describe the same services; the floor's
bodies must carry the same health checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import floor, gen, load
from stackctl import Stack
from stackctl.load import load_paths

SUBNETS = ("172.16.210.0/24", "172.16.211.0/24")


def nanos(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


@pytest.mark.parametrize("unwaited", ["30s", "2s"])
def test_stack_file_and_compose_file_describe_the_same_services(
    tmp_path: Path, unwaited: str
) -> None:
    d = gen.describe("benchgen", 10, SUBNETS, unwaited)
    stack_py, compose = gen.write(d, tmp_path)
    [from_py] = load_paths([stack_py])
    [from_compose] = load_paths([compose])

    def services(stack: Stack) -> dict[str, object]:
        return {k: v.model_dump() for k, v in stack.services.items()}

    assert services(from_py) == services(from_compose)
    assert list(from_py.services) == [f"s{i:02d}" for i in range(1, 11)]
    assert {k: [p.subnet for p in n.ipam.config] for k, n in from_py.networks.items()} == {
        "front": [SUBNETS[0]],
        "back": [SUBNETS[1]],
    }


def test_neighbours_are_checked_often_and_the_rest_at_the_unwaited_interval(
    tmp_path: Path,
) -> None:
    d = gen.describe("benchgen", 10, SUBNETS)
    [stack] = load_paths([gen.write(d, tmp_path)[0]])
    intervals = {k: str(s.healthcheck.interval) for k, s in stack.services.items()}
    depends = {k: sorted(s.depends_on) for k, s in stack.services.items() if s.depends_on}

    assert depends == {"s05": ["s04"], "s10": ["s09"]}
    assert d.waited == {"s04", "s09"}
    assert intervals == {k: "2s" if k in ("s04", "s09") else "30s" for k in intervals}
    assert all(s.healthcheck.test == ["CMD", "true"] for s in stack.services.values())


@pytest.mark.parametrize("unwaited, expected", [("30s", 30.0), ("2.5s", 2.5)])
def test_the_floor_creates_the_same_health_checks(unwaited: str, expected: float) -> None:
    d = gen.describe("benchgen", 10, SUBNETS, unwaited)
    bodies = {s.name: floor._create_body(d, s) for s in d.services}

    assert bodies["s04"]["Healthcheck"]["Interval"] == nanos(2.0)
    assert bodies["s05"]["Healthcheck"]["Interval"] == nanos(expected)
    assert bodies["s04"]["Healthcheck"]["Timeout"] == nanos(30.0)
    assert {b["Healthcheck"]["Retries"] for b in bodies.values()} == {gen.HEALTH_RETRIES}


def test_a_changed_stack_changes_one_services_environment_in_every_form(tmp_path: Path) -> None:
    d = gen.describe("benchgen", 10, SUBNETS)
    assert gen.changed_service(d) == "s04"  # a neighbour: checked every 2 s
    c = gen.changed(d, "7")
    stack_py, compose = gen.write(c, tmp_path)
    [from_py] = load_paths([stack_py])
    [from_compose] = load_paths([compose])
    assert from_py.services == from_compose.services
    changed = {k for k, s in from_py.services.items() if s.environment}
    assert changed == {"s04"}
    assert from_py.services["s04"].environment == {"BENCH_CHANGE": "7"}
    bodies = {s.name: floor._create_body(c, s) for s in c.services}
    assert bodies["s04"]["Env"] == ["BENCH_CHANGE=7"]
    assert all("Env" not in b for k, b in bodies.items() if k != "s04")
    with pytest.raises(ValueError, match="no service 's99'"):
        gen.changed(d, "7", "s99")


@pytest.mark.parametrize(
    ("operation", "n", "wall", "floor_s", "verdict"),
    [
        ("validate", 1000, 0.55, None, "ok (< 0.6 s)"),
        ("validate", 1000, 0.61, None, "MISSED (< 0.6 s)"),
        ("validate", 10, 0.3, None, "ok (< 0.6 s)"),
        ("validate", 3000, 0.3, None, "-"),  # no target beyond 1000 services
        ("plan from nothing", 1000, 1.2, None, "MISSED (< 1 s)"),
        ("plan, nothing to do", 100, 0.28, 0.2, "ok (< 0.3 s, <= 1.5x floor)"),
        ("plan, nothing to do", 100, 0.28, 0.1, "MISSED (< 0.3 s, <= 1.5x floor)"),
        ("plan, nothing to do", 100, 0.35, 0.3, "MISSED (< 0.3 s, <= 1.5x floor)"),
        ("one service changed", 100, 2.9, 2.7, "ok (floor + 0.3 s)"),
        ("one service changed", 100, 3.1, 2.7, "MISSED (floor + 0.3 s)"),
        ("floor change", 100, 2.7, None, "-"),
    ],
)
def test_rows_are_marked_against_the_issues_targets(
    operation: str, n: int, wall: float, floor_s: float | None, verdict: str
) -> None:
    assert load.mark(operation, n, wall, floor_s) == verdict


def test_a_target_against_the_floor_needs_the_floors_time() -> None:
    with pytest.raises(ValueError, match="floor"):
        load.mark("one service changed", 100, 2.9)
