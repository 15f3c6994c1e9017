"""Saved plans: they round-trip, carry their format version, and an old one is refused; the
file's shape is the committed JSON Schema's, and a plan is known by its content."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from stackctl import planfile
from stackctl.backends.docker.desired import desire
from stackctl.backends.docker.observe import ObservedState
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
    planfile.save(path, p, [tmp_path / "stack.yaml"], {})
    saved = planfile.read_plan(path)
    saved["plan"]["operations"][-1]["steps"] = ["start"]
    with pytest.raises(StalePlanError):
        planfile.check_fresh(saved, p)


def test_a_plan_file_of_the_old_format_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    planfile.save(path, paused_plan(), [tmp_path / "stack.yaml"], {})
    data = json.loads(path.read_text())
    del data["version"]  # format 1 files had none
    path.write_text(json.dumps(data))
    with pytest.raises(LoadError, match="format 1; this stackctl reads format 2") as e:
        planfile.read_plan(path)
    assert e.value.hint and "stackctl plan -o" in e.value.hint


def _plans() -> list[Plan]:
    desired = desire([homelab()])
    fresh = plan(desired, ObservedState())
    changed = plan(desire([homelab(command=["postgres", "-N", "50"])]), applied(desired))
    return [paused_plan(), fresh, changed, plan(desired, applied(desired))]


def test_the_committed_schema_is_the_code_s() -> None:
    committed = json.loads(planfile.SCHEMA_PATH.read_text())
    assert committed == planfile.schema(), "run `python -m stackctl.planfile`"
    jsonschema.Draft202012Validator.check_schema(committed)


def test_what_save_writes_matches_the_committed_schema(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(planfile.SCHEMA_PATH.read_text()))
    kinds: set[str] = set()
    for i, p in enumerate(_plans()):
        path = tmp_path / f"p{i}.plan"
        planfile.save(path, p, [tmp_path / "stack.yaml"], {"prune": bool(i % 2)})
        data = json.loads(path.read_text())
        assert list(validator.iter_errors(data)) == []
        assert planfile.read_plan(path) == data
        kinds |= {op["kind"] for op in data["plan"]["operations"]}
    assert {"create", "create-network", "wait", "unpause", "replace"} <= kinds, kinds


@pytest.mark.parametrize("name", ["plan.bin", "saved.plan", "plan", "plan.json", "p.yaml"])
def test_a_plan_is_known_by_its_content_whatever_its_name(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    planfile.save(path, paused_plan(), [tmp_path / "stack.yaml"], {})
    assert planfile.is_plan_file(path)
    assert planfile.read_plan(path)["kind"] == planfile.MAGIC


def test_a_stack_mentioning_the_marker_is_not_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text(
        '{"name": "stackctl-plan", "services": {"web": {"image": "nginx:1",'
        ' "labels": {"kind": "stackctl-plan"}}}}'
    )
    assert not planfile.is_plan_file(path)
    marked_only = tmp_path / "other.json"
    marked_only.write_text('{"kind": "stackctl-plan", "name": "x"}')
    assert not planfile.is_plan_file(marked_only)  # the marker without a plan's keys


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "expected a JSON object, got an array at $"),
        (b'{"kind": "x"}', 'no "kind"'),
        (b"[" * 100_000, "not JSON"),
        (b'{"kind": "stackctl-plan", "version": 2}', "missing"),
    ],
)
def test_anything_else_is_not_a_valid_plan_file(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "plan.bin"
    path.write_bytes(content)
    assert planfile.is_plan_file(path)
    with pytest.raises(LoadError, match="not a valid plan file") as e:
        planfile.read_plan(path)
    assert says in str(e.value)


def test_a_plan_made_with_files_and_profiles_keeps_them(tmp_path: Path) -> None:
    from stackctl.load import LoadOptions

    validator = jsonschema.Draft202012Validator(json.loads(planfile.SCHEMA_PATH.read_text()))
    path = tmp_path / "p.plan"
    files = (tmp_path / "compose.yaml", tmp_path / "prod.yaml")
    load = LoadOptions(files, ("debug",))
    planfile.save(path, _plans()[0], [], {"prune": False}, load)
    data = json.loads(path.read_text())
    assert list(validator.iter_errors(data)) == []
    assert planfile.load_options_of(data) == LoadOptions(
        tuple(f.resolve() for f in files), ("debug",)
    )
    assert planfile.sources_of(data) == []
    planfile.save(path, _plans()[0], [tmp_path / "other"], {"prune": False}, load)
    assert planfile.sources_of(json.loads(path.read_text())) == [(tmp_path / "other").resolve()]
