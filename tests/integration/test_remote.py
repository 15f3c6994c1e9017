"""Remote daemons for real: the host's daemon reached through an sshd on 127.0.0.1
(tests/sshd.py) as DOCKER_HOST=ssh://, as a docker context, and two "machines" (separate
lock folders) applying one stack through it, serialized by the lock on the daemon."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import docker
import pytest

from stackctl.lock import HOLDER_LABEL, LOCK_LABEL, daemon_lock_name
from tests.conftest import BUSYBOX
from tests.sshd import Sshd

# the sshd forwards to the host engine's socket: the remote daemon is the host engine
pytestmark = [pytest.mark.integration, pytest.mark.engines("host")]

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


def stackctl(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stackctl", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def write(folder: Path, name: str, mode: str = "1", slow: bool = False) -> str:
    """db (healthy after a few health checks when ``slow``) and web, which waits for it."""
    folder.mkdir(parents=True, exist_ok=True)
    check = "test -f /tmp/ok"
    touch = "touch /tmp/ok;" if not slow else "(sleep 6; touch /tmp/ok) &"
    forever = "trap 'exit 0' TERM; while :; do sleep 0.2; done"
    (folder / "stack.py").write_text(
        textwrap.dedent(
            f"""
            from stackctl import Healthcheck, Service, Stack, healthy
            db = Service("db", image="{BUSYBOX}",
                         command=["sh", "-c", "{touch} {forever}"],
                         healthcheck=Healthcheck.shell("{check}", interval="1s", retries=30))
            web = Service("web", image="{BUSYBOX}", command={LOOP!r}, depends_on={{db: healthy}},
                          environment={{"MODE": "{mode}"}})
            stack = Stack("{name}", services=[db, web])
            """
        )
    )
    return str(folder)


def test_plan_and_apply_through_ssh(sshd: Sshd, tmp_path, stack_name, docker_client) -> None:
    env = sshd.env(DOCKER_HOST=sshd.url, STACKCTL_LOCK_DIR=str(tmp_path / "locks"))
    path = write(tmp_path / "s", stack_name)
    proc = stackctl(env, "plan", "--detailed-exitcode", path)
    assert proc.returncode == 2, proc.stderr
    assert "Plan: 3 to add" in proc.stdout
    proc = stackctl(env, "apply", "--yes", path)
    assert proc.returncode == 0, proc.stderr
    assert docker_client.containers.get(f"{stack_name}-web-1").status == "running"
    proc = stackctl(env, "plan", "--detailed-exitcode", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the lock on the daemon was released
    assert (
        docker_client.containers.list(all=True, filters={"name": daemon_lock_name(stack_name)})
        == []
    )


def test_docker_context_is_read_as_the_cli_reads_it(sshd: Sshd, tmp_path, stack_name) -> None:
    config = tmp_path / "docker"
    meta = config / "contexts" / "meta" / hashlib.sha256(b"lab").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": "lab", "Metadata": {}, "Endpoints": {"docker": {"Host": sshd.url}}})
    )
    path = write(tmp_path / "s", stack_name)
    # `docker context use lab` writes currentContext; DOCKER_CONTEXT and --context name it
    (config / "config.json").write_text(json.dumps({"currentContext": "lab"}))
    env = sshd.env(DOCKER_CONFIG=str(config))
    for extra, args in (({}, ()), ({"DOCKER_CONTEXT": "lab"}, ()), ({}, ("--context", "lab"))):
        if extra:
            (config / "config.json").write_text("{}")
        proc = stackctl({**env, **extra}, *args, "plan", "--detailed-exitcode", path)
        assert proc.returncode == 2, proc.stderr
    # a DOCKER_HOST that answers nothing shows it was not used when --context is given
    proc = stackctl({**env, "DOCKER_HOST": "tcp://127.0.0.1:1"}, "--context", "lab", "plan", path)
    assert proc.returncode == 0, proc.stderr
    proc = stackctl({**env, "DOCKER_CONTEXT": "missing"}, "plan", path)
    assert proc.returncode == 1 and "docker context 'missing'" in proc.stderr
    assert "docker context ls" in proc.stderr


def test_unreachable_ssh_host_says_what_to_check(sshd: Sshd, tmp_path, stack_name) -> None:
    env = sshd.env(DOCKER_HOST="ssh://root@127.0.0.1:1")
    proc = stackctl(env, "plan", write(tmp_path / "s", stack_name), timeout=60)
    assert proc.returncode == 1
    assert "paramiko" not in proc.stderr and "systemctl start docker" not in proc.stderr
    assert "ssh USER@HOST docker version" in proc.stderr


def _wait_for_lock(client: docker.DockerClient, stack: str) -> dict[str, str]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        name = f"^/{daemon_lock_name(stack)}$"
        found = client.api.containers(all=True, filters={"name": name})
        if found:
            return dict(found[0]["Labels"])
        time.sleep(0.1)
    raise AssertionError("the first apply never took the daemon lock")


def test_two_machines_are_serialized_by_the_lock_on_the_daemon(
    sshd: Sshd, tmp_path, stack_name, docker_client
) -> None:
    """Machine A applies (a slow health check keeps it busy); machine B, with a lock folder
    of its own, is refused naming A, then waits for A with --lock-timeout."""
    machine_a = sshd.env(DOCKER_HOST=sshd.url, STACKCTL_LOCK_DIR=str(tmp_path / "a"))
    machine_b = sshd.env(DOCKER_HOST=sshd.url, STACKCTL_LOCK_DIR=str(tmp_path / "b"))
    path_a = write(tmp_path / "sa", stack_name, mode="a", slow=True)
    path_b = write(tmp_path / "sb", stack_name, mode="b")
    first = subprocess.Popen(
        [sys.executable, "-m", "stackctl", "apply", "--yes", path_a],
        env=machine_a,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        labels = _wait_for_lock(docker_client, stack_name)
        assert labels[LOCK_LABEL] == stack_name
        holder = json.loads(labels[HOLDER_LABEL])
        assert holder["pid"] == first.pid
        refused = stackctl(machine_b, "apply", "--yes", path_b)
        if first.poll() is None:  # A still held it while B tried (the usual case)
            assert refused.returncode == 1
            assert f"pid {first.pid}" in refused.stderr
            assert f"docker rm {daemon_lock_name(stack_name)}" in refused.stderr
        waited = stackctl(machine_b, "apply", "--yes", "--lock-timeout", "170", path_b)
        assert waited.returncode == 0, waited.stderr
        _out, err = first.communicate(timeout=170)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        for c in docker_client.containers.list(
            all=True, filters={"name": daemon_lock_name(stack_name)}
        ):
            c.remove(force=True)
    # B ran after A finished: its config is the one left
    web = docker_client.containers.get(f"{stack_name}-web-1")
    assert "MODE=b" in web.attrs["Config"]["Env"]


def test_stale_lock_of_a_dead_process_here_is_broken(
    sshd: Sshd, tmp_path, stack_name, docker_client
) -> None:
    env = sshd.env(DOCKER_HOST=sshd.url, STACKCTL_LOCK_DIR=str(tmp_path / "locks"))
    gone = subprocess.Popen(["true"])  # a process of this host that has ended
    gone.wait()
    holder = {
        "pid": gone.pid,
        "host": socket.gethostname(),
        "user": "x",
        "command": "c",
        "since": "s",
    }
    docker_client.containers.create(
        BUSYBOX,
        name=daemon_lock_name(stack_name),
        labels={LOCK_LABEL: stack_name, HOLDER_LABEL: json.dumps(holder)},
    )
    proc = stackctl(env, "apply", "--yes", write(tmp_path / "s", stack_name))
    assert proc.returncode == 0, proc.stderr
    # a holder on another host is never broken
    holder["host"] = "elsewhere"
    docker_client.containers.create(
        BUSYBOX,
        name=daemon_lock_name(stack_name),
        labels={LOCK_LABEL: stack_name, HOLDER_LABEL: json.dumps(holder)},
    )
    proc = stackctl(env, "apply", "--yes", write(tmp_path / "s", stack_name, mode="2"))
    assert proc.returncode == 1 and "on elsewhere" in proc.stderr
    docker_client.containers.get(daemon_lock_name(stack_name)).remove()
