"""Day two on the real engine: logs, exec, run, restart, --target, --replace (issue 20)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import docker
import pytest

from tests.conftest import BUSYBOX

pytestmark = pytest.mark.integration

# Prints "<name> <n>" every 0.1 s, 50 times, then idles; stops at once on TERM.
TALK = (
    "trap 'exit 0' TERM; i=0; while [ $$i -lt 50 ]; do echo {word} $$i; i=$$((i+1)); "
    "sleep 0.1; done; while :; do sleep 0.2; done"
)


def cli(
    *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m stackctl ARGS`` as its own process: piped (no terminal), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "stackctl", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write(folder: Path, name: str, *, other: bool = False, check: str = "test -f /tmp/ok") -> str:
    """db (a health check) <- web (needs db healthy), and with ``other`` an unrelated one."""
    folder.mkdir(parents=True, exist_ok=True)
    extra = (
        f'other = Service("other", image="{BUSYBOX}", networks=[back], '
        f'command=["sh", "-c", {TALK.format(word="o")!r}])\n'
        if other
        else ""
    )
    (folder / "stack.py").write_text(
        textwrap.dedent(
            f"""
            from stackctl import Healthcheck, Network, Service, Stack, healthy

            back = Network("back")
            db = Service("db", image="{BUSYBOX}", networks=[back],
                         command=["sh", "-c", "touch /tmp/ok; " + {TALK.format(word="d")!r}],
                         healthcheck=Healthcheck.shell("{check}", interval="1s", retries=3))
            web = Service("web", image="{BUSYBOX}", networks=[back], depends_on={{db: healthy}},
                          command=["sh", "-c", {TALK.format(word="w")!r}],
                          environment={{"GREETING": "hello"}})
            """
        )
        + extra
        + f'stack = Stack("{name}", services=[db, web{", other" if other else ""}], '
        "networks=[back])\n"
    )
    return str(folder)


def applied(tmp_path: Path, name: str, **kw: bool) -> str:
    path = write(tmp_path / "s", name, **kw)
    proc = cli("apply", "--yes", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return path


def names_of(prefix: str) -> list[str]:
    client = docker.from_env()
    try:
        return sorted(c.name for c in client.containers.list(all=True, filters={"name": prefix}))
    finally:
        client.close()


def test_logs_of_two_services_merged_with_prefixes_and_tail(tmp_path, stack_name) -> None:
    path = applied(tmp_path, stack_name)
    # both have written all 50 lines once this shows the last one of each
    for _ in range(100):
        out = cli("logs", path, "--tail", "1").stdout
        if "w 49" in out and "d 49" in out:
            break
    proc = cli("logs", "--tail", "3", "-t", path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 6
    assert "\x1b[" not in proc.stdout  # piped: plain text
    by_service: dict[str, list[str]] = {}
    stamps = []
    for line in lines:
        m = re.fullmatch(r"(db|web) +\| (\S+) ([dw]) (\d+)", line)
        assert m, line
        by_service.setdefault(m[1], []).append(m[4])
        stamps.append(m[2])
    assert by_service == {"db": ["47", "48", "49"], "web": ["47", "48", "49"]}
    assert stamps == sorted(stamps)  # merged by time
    one = cli("logs", path, "web", "--tail", "2").stdout.splitlines()
    assert one == ["web | w 48", "web | w 49"]


def test_exec_passes_output_and_exit_code(tmp_path, stack_name) -> None:
    path = applied(tmp_path, stack_name)
    proc = cli("exec", path, "web", "--", "sh", "-c", "echo out $GREETING; echo err >&2; exit 7")
    assert proc.returncode == 7
    assert proc.stdout == "out hello\n" and proc.stderr == "err\n"
    proc = cli(
        "exec",
        "-e",
        "X=1",
        "-w",
        "/tmp",
        "-u",
        "1000",
        path,
        "web",
        "sh",
        "-c",
        "echo $X $(pwd) $(id -u)",
    )
    assert (proc.returncode, proc.stdout) == (0, "1 /tmp 1000\n"), proc.stderr
    proc = cli("exec", path, "web", "cat", stdin="piped in\n")
    assert (proc.returncode, proc.stdout) == (0, "piped in\n")
    proc = cli("exec", "--index", "2", path, "web", "true")
    assert proc.returncode == 1 and "no container number 2" in proc.stderr


def test_run_one_off_reaches_a_service_by_name_and_is_removed(tmp_path, stack_name) -> None:
    path = write(tmp_path / "s", stack_name)  # nothing applied: run starts db first
    proc = cli(
        "run",
        path,
        "web",
        "--",
        "sh",
        "-c",
        "ping -c 1 -W 5 db >/dev/null && echo reached $GREETING; exit 3",
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "reached hello\n"
    assert "wait for db healthy" in proc.stderr  # its dependency, started and waited for
    assert names_of(stack_name) == [f"{stack_name}-db-1"]  # the one-off is gone
    # kept with --no-rm, it is no unit of the stack: plan and status do not count it
    proc = cli("run", "--no-rm", "--name", f"{stack_name}-kept", path, "web", "true")
    assert proc.returncode == 0, proc.stderr
    assert f"{stack_name}-kept" in names_of(stack_name)
    status = json.loads(cli("status", "--json", path).stdout)
    assert sorted(r["service"] for r in status["services"]) == ["db", "web"]
    plan = json.loads(cli("plan", "--json", path).stdout)
    assert [op["resource"]["name"] for op in plan["operations"] if op["kind"] == "create"] == [
        f"{stack_name}-web-1"
    ]
    assert plan["warnings"] == []


def test_restart_in_dependency_order_honours_the_healthy_wait(tmp_path, stack_name) -> None:
    path = applied(tmp_path, stack_name)
    before = {n: _started(n) for n in names_of(stack_name)}
    proc = cli("restart", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    db_done = lines.index(f"restart container {stack_name}-db-1: done" + _tail(lines, "db"))
    waited = next(i for i, x in enumerate(lines) if x.startswith("wait for db healthy: done"))
    web_start = lines.index(f"restart container {stack_name}-web-1: started")
    assert db_done < waited < web_start
    after = {n: _started(n) for n in names_of(stack_name)}
    assert all(after[n] != before[n] for n in before)
    assert cli("plan", "--detailed-exitcode", path).returncode == 0
    # one service: only its containers
    proc = cli("restart", path, "web")
    assert proc.returncode == 0 and f"{stack_name}-db-1" not in proc.stdout


def _tail(lines: list[str], service: str) -> str:
    line = next(x for x in lines if f"-{service}-1: done" in x)
    return line[line.index(": done") + len(": done") :]


def _started(name: str) -> str:
    client = docker.from_env()
    try:
        return str(client.api.inspect_container(name)["State"]["StartedAt"])
    finally:
        client.close()


def test_target_plans_and_applies_the_service_and_its_dependencies(tmp_path, stack_name) -> None:
    path = write(tmp_path / "s", stack_name, other=True)
    proc = cli("plan", "--target", "web", path)
    assert proc.returncode == 0, proc.stderr
    assert "Partial plan: --target web" in proc.stdout
    assert f"create container {stack_name}-db-1" in proc.stdout
    assert f"{stack_name}-other-1" not in proc.stdout
    proc = cli("apply", "--yes", "--target", "web", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert names_of(stack_name) == [f"{stack_name}-db-1", f"{stack_name}-web-1"]
    proc = cli("plan", "--json", path)
    creates = [op["resource"]["name"] for op in json.loads(proc.stdout)["operations"]]
    assert creates == [f"{stack_name}-other-1"]
    proc = cli("plan", "--target", "nope", path)
    assert proc.returncode == 1 and "--target nope: no such service" in proc.stderr


def test_replace_recreates_an_unchanged_service(tmp_path, stack_name) -> None:
    path = applied(tmp_path, stack_name)
    client = docker.from_env()
    old = client.api.inspect_container(f"{stack_name}-web-1")["Id"]
    proc = cli("plan", "--detailed-exitcode", "--replace", "web", path)
    assert proc.returncode == 2
    assert f"replace container {stack_name}-web-1  (forced by --replace)" in proc.stdout
    assert f"replace container {stack_name}-db-1" not in proc.stdout
    proc = cli("apply", "--yes", "--replace", "web", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert client.api.inspect_container(f"{stack_name}-web-1")["Id"] != old
    assert cli("plan", "--detailed-exitcode", path).returncode == 0
    client.close()
