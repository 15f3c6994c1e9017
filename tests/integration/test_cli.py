"""The commands as a person or a CI job runs them, against the real engine."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import docker
import pytest

from stackctl.cli import main
from tests.conftest import BUSYBOX
from tests.engines import wait_listed_state

pytestmark = pytest.mark.integration


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m stackctl ARGS`` as its own process: no terminal on stdin, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "stackctl", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def write_stack(folder: Path, name: str, mode: str = "1", sick: bool = False) -> Path:
    check = "exit 1" if sick else "test -f /tmp/ok"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stack.py").write_text(
        textwrap.dedent(
            f"""
            from stackctl import Healthcheck, Network, Service, Stack, healthy

            LOOP = ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ok; while :; do sleep 0.2; done"]
            back = Network("back")
            db = Service("db", image="{BUSYBOX}", command=LOOP, networks=[back],
                         restart="unless-stopped",
                         healthcheck=Healthcheck.shell("{check}", interval="1s", retries=2))
            web = Service("web", image="{BUSYBOX}", command=LOOP, networks=[back],
                          restart="unless-stopped", depends_on={{db: healthy}},
                          environment={{"MODE": "{mode}"}})
            stack = Stack("{name}", services=[db, web], networks=[back])
            """
        )
    )
    return folder


def test_plan_exit_codes_and_json(tmp_path, stack_name, capsys) -> None:
    path = str(write_stack(tmp_path / "s", stack_name))
    assert main(["plan", "--detailed-exitcode", path]) == 2
    out = capsys.readouterr().out
    assert "Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy." in out
    assert main(["plan", "--json", path]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format_version"] == 1 and data["summary"]["add"] == 3
    kinds = [op["kind"] for op in data["operations"]]
    assert kinds == ["create-network", "create", "wait", "create"]
    assert data["operations"][3]["depends_on"] == [
        f"network:{stack_name}_back",
        f"wait:{stack_name}/db:service_healthy",
    ]
    assert main(["apply", "--yes", path]) == 0
    capsys.readouterr()
    assert main(["plan", "--detailed-exitcode", path]) == 0
    assert "No changes." in capsys.readouterr().out


def test_apply_without_terminal_or_yes_refuses(tmp_path, stack_name) -> None:
    path = str(write_stack(tmp_path / "s", stack_name))
    proc = run_cli("apply", path)
    assert proc.returncode == 1
    assert "--yes was not given; nothing was changed" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not docker.from_env().containers.list(all=True, filters={"name": stack_name})


def test_saved_plan_applies_exactly_and_a_stale_one_is_refused(
    tmp_path, stack_name, capsys
) -> None:
    path = str(write_stack(tmp_path / "s", stack_name))
    planfile = tmp_path / "plan.json"
    assert main(["plan", "-o", str(planfile), path]) == 0
    assert stat.S_IMODE(os.stat(planfile).st_mode) == 0o600
    assert main(["apply", str(planfile)]) == 0  # a saved plan was reviewed: no prompt
    capsys.readouterr()
    assert main(["plan", "--detailed-exitcode", path]) == 0
    # a plan made before a change of the daemon is stale
    stale = tmp_path / "stale.json"
    write_stack(tmp_path / "s", stack_name, mode="2")
    assert main(["plan", "-o", str(stale), path]) == 0
    docker.from_env().containers.get(f"{stack_name}-web-1").stop(timeout=1)
    wait_listed_state(docker.from_env(), f"{stack_name}-web-1")
    capsys.readouterr()
    assert main(["apply", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err


def test_failed_wait_exits_1_and_names_service_and_output(tmp_path, stack_name, capsys) -> None:
    path = str(write_stack(tmp_path / "s", stack_name, sick=True))
    assert main(["apply", "--yes", "--wait-timeout", "20", path]) == 1
    out = capsys.readouterr().out
    assert "Apply failed" in out and f"{stack_name}-db-1" in out
    assert f"never started (1): create container {stack_name}-web-1" in out


def test_json_progress_is_an_event_stream(tmp_path, stack_name, capsys) -> None:
    path = str(write_stack(tmp_path / "s", stack_name))
    assert main(["apply", "--yes", "--json", path]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["event"] == "plan"
    assert events[-1]["event"] == "finished" and events[-1]["ok"] is True
    assert {e["event"] for e in events} >= {"started", "done"}


def test_status_shows_sync_state(tmp_path, stack_name, capsys) -> None:
    path = str(write_stack(tmp_path / "s", stack_name))
    assert main(["apply", "--yes", path]) == 0
    docker.from_env().containers.get(f"{stack_name}-web-1").stop(timeout=1)
    wait_listed_state(docker.from_env(), f"{stack_name}-web-1")
    capsys.readouterr()
    assert main(["status", "--json", path]) == 0
    rows = {r["service"]: r for r in json.loads(capsys.readouterr().out)["services"]}
    assert rows["db"]["sync"] == "in sync" and rows["db"]["health"] == "healthy"
    assert rows["web"]["state"] == "exited" and rows["web"]["sync"].startswith("drifted")


def test_wait_flag_and_destroy(tmp_path, stack_name, capsys) -> None:
    path = str(write_stack(tmp_path / "s", stack_name))
    assert main(["apply", "--yes", "--wait", path]) == 0
    assert "healthy" in capsys.readouterr().out
    assert main(["destroy", "--yes", path]) == 0
    assert "Destroy complete in" in capsys.readouterr().out
    client = docker.from_env()
    assert not client.containers.list(
        all=True, filters={"label": f"io.stackctl.stack={stack_name}"}
    )
    capsys.readouterr()
    assert main(["destroy", "--yes", path]) == 0
    assert "No changes." in capsys.readouterr().out


def test_second_apply_of_a_locked_stack_names_the_holder(tmp_path, stack_name, capsys) -> None:
    from stackctl import lock

    path = str(write_stack(tmp_path / "s", stack_name))
    from stackctl.engine import DockerEngine

    with lock.hold(DockerEngine().identity(), [stack_name]):
        assert main(["apply", "--yes", path]) == 1
    err = capsys.readouterr().err
    assert f"stack '{stack_name}' is being changed by another stackctl: pid {os.getpid()}" in err


def test_no_daemon_names_what_was_tried(tmp_path, stack_name) -> None:
    path = str(write_stack(tmp_path / "s", stack_name))
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    proc = run_cli("plan", path, env=env)
    assert proc.returncode == 1
    assert "DOCKER_HOST=unix:///nonexistent/docker.sock" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_command_process_flushes_everything_and_keeps_its_exit_code(
    tmp_path, stack_name
) -> None:
    """The CLI process ends without the interpreter's teardown (``stackctl.cli.leave``):
    what it printed to a pipe arrives whole, the atexit hooks still run (the call
    count), and the exit code is the command's."""
    path = str(write_stack(tmp_path / "s", stack_name))
    env = {**os.environ, "STACKCTL_COUNT_CALLS": "1"}
    proc = run_cli("plan", "--detailed-exitcode", "--json", path, env=env)
    assert proc.returncode == 2, proc.stderr  # changes pending
    data = json.loads(proc.stdout)  # the whole document, up to its last brace
    assert [op["kind"] for op in data["operations"]] == [
        "create-network",
        "create",
        "wait",
        "create",
    ]
    assert proc.stderr.startswith("api-calls: GET=5 POST=0 DELETE=0 total=5")

    proc = run_cli("plan", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 1
    assert "missing.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_piped_plan_prints_plain_text_without_loading_rich(tmp_path, stack_name) -> None:
    """Piped output (CI logs, scripts) is plain text written without rich: start-up time of
    every command. ``-X importtime`` lists each module the process imported."""
    path = str(write_stack(tmp_path / "s", stack_name))
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "stackctl", "plan", path],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "+ create network" in proc.stdout and "\x1b[" not in proc.stdout
    assert proc.stdout.rstrip().endswith("Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy.")
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert "stackctl.pipeline" in imported and "http.client" in imported  # the listing works
    assert not [m for m in imported if m == "rich" or m.startswith("rich.")]

    # With FORCE_COLOR (as rich honours it) the same plan comes in colour, through rich.
    proc = run_cli("plan", path, env={**os.environ, "FORCE_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" in proc.stdout and "create network" in proc.stdout
