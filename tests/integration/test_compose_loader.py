"""Compose's loader semantics on the real engine: a profile switched on and off, and an
override file whose value is what runs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import docker
import pytest

from stackctl.cli import main
from tests.conftest import BUSYBOX

pytestmark = pytest.mark.integration

LOOP = "[sh, -c, \"trap 'exit 0' TERM; while :; do sleep 0.2; done\"]"


def write_project(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compose.yaml").write_text(
        textwrap.dedent(
            f"""
            name: {name}
            services:
              web:
                image: {BUSYBOX}
                command: {LOOP}
                restart: unless-stopped
                environment:
                  MODE: base
              debug:
                image: {BUSYBOX}
                command: {LOOP}
                restart: unless-stopped
                profiles: [debug]
            """
        ).lstrip()
    )
    (folder / "compose.override.yaml").write_text(
        "services:\n  web:\n    environment:\n      MODE: override\n"
    )
    return folder


def planned(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, str]]:
    assert main(["plan", "--json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    return [{"kind": op["kind"], "target": op["resource"]["name"]} for op in data["operations"]]


def test_override_merged_and_a_profile_switched_on_then_off(
    tmp_path: Path,
    stack_name: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    folder = str(write_project(tmp_path / "app", stack_name))
    client = docker.from_env()
    web, debug = f"{stack_name}-web-1", f"{stack_name}-debug-1"

    # the override's value is what runs; the debug profile is off
    ops = planned(capsys, folder)
    assert {"kind": "create", "target": web} in ops
    assert not any(debug in op["target"] for op in ops)
    assert main(["apply", "--yes", folder]) == 0
    capsys.readouterr()
    env = client.containers.get(web).attrs["Config"]["Env"]
    assert "MODE=override" in env

    # switched on: the profile's service appears in the plan, then runs
    ops = planned(capsys, "--profile", "debug", folder)
    assert ops == [{"kind": "create", "target": debug}]
    assert main(["apply", "--yes", "--profile", "debug", folder]) == 0
    capsys.readouterr()
    assert client.containers.get(debug).status == "running"

    # switched off: not planned, left alone without --prune, removed with it
    ops = planned(capsys, folder)
    assert not any(op["kind"] == "create" for op in ops)
    pruned = planned(capsys, "--prune", folder)
    assert {"kind": "remove", "target": debug} in pruned
    assert main(["apply", "--yes", "--prune", folder]) == 0
    capsys.readouterr()
    names = [c.name for c in client.containers.list(all=True, filters={"name": stack_name})]
    assert names == [web]
