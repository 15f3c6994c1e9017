"""docker-compose 1.29 accepts every export: ``docker-compose -f FILE config`` on the export
of every case of tests/test_export.py (shipped stacks, test fixtures, valid corpus files,
the field table) and of 150 generated stacks, the variables the export names set, as a
person would.

All files go through one docker-compose process (tests/compose_config_batch.py, run by the
interpreter of docker-compose's shebang): a process per file would cost about a second of
start-up each. ``config`` needs no daemon. docker-compose comes from Debian's package
(scripts/install-test-tools.sh installs it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from stackctl import pipeline
from stackctl.dump import to_stack_yaml
from stackctl.errors import StackctlError
from stackctl.export import stack_variables, to_compose
from stackctl.load import load_paths
from stackctl.model import Stack
from tests.corpus.corpus import environment
from tests.test_export import CASES, EXPORT_NAME, FIELD_CASES, REFUSED, copy_case, write_case
from tests.test_roundtrip import stacks as generated_stacks

pytestmark = pytest.mark.integration

BATCH = Path(__file__).resolve().parents[1] / "compose_config_batch.py"


SOURCE_REFUSED_TOO: dict[str, str] = {
    "corpus:dokploy/blueprints/glitchtip/docker-compose.yml": "`expose: [${GLITCHTIP_PORT}]` "
    "with the variable unset (as the corpus validates it): an empty port, which "
    "docker-compose refuses in the source file as well",
}
"""Exports docker-compose refuses because it refuses their source file the same way."""


def compose_python() -> str:
    """The interpreter docker-compose runs with (its shebang), which has its package."""
    found = shutil.which("docker-compose")
    assert found, "docker-compose is not installed: run scripts/install-test-tools.sh"
    first = Path(found).read_text(encoding="utf-8", errors="replace").splitlines()[0]
    assert first.startswith("#!"), f"{found} is not a script with a shebang: {first!r}"
    return first[2:].strip().split()[0]


def compose_config(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [compose_python(), str(BATCH)],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def test_the_batch_reports_what_compose_refuses(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  app:\n    image: busybox\n    bogus: 1\n", encoding="utf-8")
    (row,) = compose_config([{"file": str(bad), "env": {}}])
    assert not row["ok"]
    assert "bogus" in row["error"]


def test_docker_compose_accepts_every_export(tmp_path: Path) -> None:
    jobs: list[dict[str, Any]] = []
    services: dict[str, list[str]] = {}
    for i, case in enumerate(c for c in CASES if c not in REFUSED):
        path, env = copy_case(case, tmp_path / str(i))
        with environment(env):
            (stack,) = load_paths([path])
            export = to_compose(stack, variables=stack_variables(stack))
        target = stack.base_dir / EXPORT_NAME
        target.write_text(export.text(), encoding="utf-8")
        jobs.append({"file": str(target), "env": {**env, **export.values}, "case": case})
        services[str(target)] = sorted(stack.services)
        if case in SOURCE_REFUSED_TOO:
            jobs.append({"file": str(path), "env": env, "case": f"source of {case}"})
    for name, field_stack, _, _ in FIELD_CASES:  # every field the export writes
        path = write_case(field_stack, tmp_path / "fields" / name)
        (field_stack_loaded,) = load_paths([path])
        export = to_compose(field_stack_loaded, variables=stack_variables(field_stack_loaded))
        target = path.parent / EXPORT_NAME
        target.write_text(export.text(), encoding="utf-8")
        jobs.append({"file": str(target), "env": export.values, "case": f"field {name}"})
        services[str(target)] = sorted(field_stack.services)
    rows = compose_config(jobs)
    assert len(rows) == len(jobs) >= 200
    cases = {job["file"]: job["case"] for job in jobs}
    refused = {cases[r["file"]]: r["error"] for r in rows if not r["ok"]}
    for case in SOURCE_REFUSED_TOO:
        assert refused.pop(f"source of {case}") == refused.pop(case).replace(
            EXPORT_NAME, Path(case).name
        )
    assert refused == {}, "\n".join(f"{k}: {v}" for k, v in refused.items())
    rows = [r for r in rows if r["ok"]]
    unset = [f"{cases[r['file']]}: {w}" for r in rows for w in r["warnings"] if "is not set" in w]
    assert unset == [], "\n".join(unset)
    for row in rows:
        assert row["services"] == services[row["file"]], cases[row["file"]]
    print(f"docker-compose config accepted {len(rows)} exports", file=sys.stderr)


def test_docker_compose_accepts_generated_exports(tmp_path: Path) -> None:
    """tests/test_roundtrip.py's generated stacks (every port and mount form, YAML-special
    words, dollars, secrets): the export of each one that validates."""
    jobs: list[dict[str, Any]] = []

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(generated_stacks())
    def collect(stack: Stack) -> None:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        path = folder / "stack.yaml"
        path.write_text(to_stack_yaml(stack), encoding="utf-8")
        try:
            pipeline.load([path])
            (loaded,) = load_paths([path])
            export = to_compose(loaded, variables=stack_variables(loaded))
        except StackctlError:
            return  # the rules refuse it, or export does on purpose (tests/test_export.py)
        target = folder / EXPORT_NAME
        target.write_text(export.text(), encoding="utf-8")
        jobs.append({"file": str(target), "env": export.values})

    collect()
    rows = compose_config(jobs)
    assert len(rows) >= 50
    refused = [f"{r['file']}: {r['error']}" for r in rows if not r["ok"]]
    assert refused == [], "\n".join(refused)
