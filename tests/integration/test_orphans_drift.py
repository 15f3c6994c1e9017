"""Orphans shown by plain plan and status; drift in what `docker update` changes, planned
as an in-place update (no recreate). Against the real engine."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from stackctl.cli import main
from tests.conftest import BUSYBOX

pytestmark = pytest.mark.integration

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


def write(folder: Path, name: str, services: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stack.py").write_text(
        textwrap.dedent(
            f"""
            from stackctl import Service, Stack

            LOOP = {LOOP!r}
            services = [{services}]
            stack = Stack("{name}", services=services)
            """
        )
    )
    return str(folder)


def test_orphan_is_shown_by_plan_and_status_and_is_not_a_change(
    tmp_path, stack_name, capsys
) -> None:
    app = f'Service("app", image="{BUSYBOX}", command=LOOP)'
    whoami = f'Service("whoami", image="{BUSYBOX}", command=LOOP)'
    path = write(tmp_path / "s", stack_name, f"{app}, {whoami}")
    assert main(["apply", "--yes", path]) == 0
    capsys.readouterr()
    write(tmp_path / "s", stack_name, app)
    assert main(["plan", "--detailed-exitcode", path]) == 0
    out = capsys.readouterr().out
    assert f"orphan: whoami  (container {stack_name}-whoami-1, kept; --prune removes it)" in out
    assert "No changes. The daemon matches the stack. 1 orphan kept (--prune removes)." in out
    assert main(["status", "--json", path]) == 0
    rows = json.loads(capsys.readouterr().out)["services"]
    assert [(r["service"], r["sync"].split(" ")[0]) for r in rows] == [
        ("app", "in"),
        ("whoami", "orphan"),
    ]
    assert main(["plan", "--detailed-exitcode", "--prune", path]) == 2
    assert f"remove container {stack_name}-whoami-1" in capsys.readouterr().out


LIMITED = (
    'Service("app", image="{image}", command=LOOP, restart="always", '
    'deploy={{"resources": {{"limits": {{"memory": "128m", "cpus": 0.5, "pids": 100}}}}}})'
)


def test_docker_update_drift_is_planned_and_fixed_in_place(
    tmp_path, stack_name, capsys, docker_client
) -> None:
    path = write(tmp_path / "s", stack_name, LIMITED.format(image=BUSYBOX))
    assert main(["apply", "--yes", path]) == 0
    capsys.readouterr()
    name = f"{stack_name}-app-1"
    before = docker_client.containers.get(name)
    before.update(restart_policy={"Name": "no"}, mem_limit="64m", memswap_limit="256m")
    assert main(["plan", "--detailed-exitcode", path]) == 2
    out = capsys.readouterr().out
    assert f"~ update in place container {name}  (drift: resources.memory, restart" in out
    assert "resources.memory: 67108864 → 134217728" in out
    assert 'restart: "no" → "always"' in out
    assert main(["apply", "--yes", path]) == 0
    capsys.readouterr()
    after = docker_client.containers.get(name)
    assert after.id == before.id  # updated, not recreated
    assert after.attrs["HostConfig"]["RestartPolicy"]["Name"] == "always"
    assert after.attrs["HostConfig"]["Memory"] == 128 * 2**20
    assert main(["plan", "--detailed-exitcode", path]) == 0
    capsys.readouterr()
    # a limit the stack does not set, added by hand: the Engine API cannot lift it (it reads
    # 0 as "unchanged"), so the plan replaces the container
    after.update(mem_reservation="32m")
    assert main(["plan", "--detailed-exitcode", path]) == 2
    assert "-/+ replace container" in capsys.readouterr().out
