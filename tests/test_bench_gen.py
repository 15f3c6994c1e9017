"""The benchmark's three contenders get the same stack: bench/gen.py writes it as a stackctl
stack file and as a compose.yaml, and bench/floor.py builds its create bodies from the same
description. Loaded by stackctl, the two files must describe the same services; the floor's
bodies must carry the same health checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import floor, gen
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
