"""Saved plans: they round-trip, carry their format version, and an old one is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stackctl import planfile
from stackctl.backends.docker.desired import desire
from stackctl.backends.docker.plan import plan
from stackctl.core.plan import Plan
from stackctl.errors import LoadError, StalePlanError
from tests.test_plan import applied, homelab, with_container


def paused_plan() -> Plan:
    desired = desire([homelab()])
    return plan(desired, with_container(applied(desired), "lab-web-1", state="paused"))


def test_a_saved_plan_round_trips_and_is_fresh(tmp_path: Path) -> None:
    p = paused_plan()
    path = tmp_path / "plan.json"
    planfile.save(path, p, [tmp_path / "stack.yaml"], {"prune": False})
    assert planfile.is_plan_file(path)
    saved = planfile.read_plan(path)
    assert saved["version"] == planfile.VERSION
    ops = {op["id"]: op for op in saved["plan"]["operations"]}
    assert ops["container:lab-web-1"]["kind"] == "unpause"
    assert ops["container:lab-web-1"]["steps"] == ["unpause"]
    planfile.check_fresh(saved, p)  # the same plan: not stale


def test_a_plan_whose_steps_differ_is_stale(tmp_path: Path) -> None:
    p = paused_plan()
    path = tmp_path / "plan.json"
    planfile.save(path, p, [], {})
    saved = planfile.read_plan(path)
    saved["plan"]["operations"][-1]["steps"] = ["start"]
    with pytest.raises(StalePlanError):
        planfile.check_fresh(saved, p)


def test_a_plan_file_of_the_old_format_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    planfile.save(path, paused_plan(), [], {})
    data = json.loads(path.read_text())
    del data["version"]  # format 1 files had none
    path.write_text(json.dumps(data))
    with pytest.raises(LoadError, match="format 1; this stackctl reads format 2") as e:
        planfile.read_plan(path)
    assert e.value.hint and "stackctl plan -o" in e.value.hint
