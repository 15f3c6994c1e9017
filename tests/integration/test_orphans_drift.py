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
