"""Safe updates on the real engine (issue 19): anonymous volumes kept across replacements
and removed by destroy --volumes."""

from __future__ import annotations

import socket

import pytest

from stackctl import Deploy, Healthcheck, Service, Stack, UpdateConfig
from stackctl.core.labels import temp_name
from stackctl.core.plan import Kind
from tests.conftest import BUSYBOX
from tests.support import converge, destroy, make_plan, run

pytestmark = pytest.mark.integration

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


def anon(name: str, version: int) -> Stack:
    app = Service("app", image=BUSYBOX, command=LOOP, volumes=["/data"], labels={"v": str(version)})
    return Stack(name, services=[app])


def _volumes_of(docker_client, container: str) -> dict[str, str]:
    info = docker_client.api.inspect_container(container)
    return {m["Destination"]: m["Name"] for m in info["Mounts"] if m["Type"] == "volume"}


def test_anonymous_volume_survives_three_replacements_and_destroy_volumes_removes_it(
    engine, stack_name, docker_client
) -> None:
    name = f"{stack_name}-app-1"
    converge(engine, [anon(stack_name, 0)])
    first = _volumes_of(docker_client, name)["/data"]
    docker_client.containers.get(name).exec_run(["sh", "-c", "echo kept > /data/f"])
    for version in (1, 2, 3):
        p = make_plan(engine, [anon(stack_name, version)])
        (op,) = p.operations
        assert op.kind == Kind.REPLACE and op.notes[0] == "keeps anonymous volume /data"
        converge(engine, [anon(stack_name, version)])
        assert _volumes_of(docker_client, name) == {"/data": first}
    out = docker_client.containers.get(name).exec_run(["cat", "/data/f"])
    assert out.output.strip() == b"kept"
    # nothing left dangling: the only volume the replacements used is the first one
    destroy(engine, [anon(stack_name, 3)], volumes=True)
    assert not docker_client.containers.list(all=True, filters={"name": name})
    assert first not in {v.name for v in docker_client.volumes.list()}


@pytest.mark.engines("host")  # a bind source is a path on the daemon's machine
def test_an_edited_config_file_is_planned_and_applied(
    engine, stack_name, docker_client, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the stack's folder
    conf = tmp_path / "app.conf"
    conf.write_text("one\n")
    app = Service("app", image=BUSYBOX, command=LOOP, volumes=["./app.conf:/etc/app.conf:ro"])
    stack = Stack(stack_name, services=[app])
    converge(engine, [stack])
    assert not make_plan(engine, [stack]).has_changes
    conf.write_text("two\n")
    (op,) = make_plan(engine, [stack]).operations
    assert (op.kind, op.reason) == (Kind.REPLACE, "config file changed: app.conf")
    converge(engine, [stack])
    out = docker_client.containers.get(f"{stack_name}-app-1").exec_run(["cat", "/etc/app.conf"])
    assert out.output.strip() == b"two"
    assert not make_plan(engine, [stack]).has_changes


# --------------------------------------------------------------------------- rollback


def checked(name: str, check: str, version: int, **kw: object) -> Stack:
    app = Service(
        "app",
        image=BUSYBOX,
        command=LOOP,
        labels={"v": str(version)},
        healthcheck=Healthcheck.shell(check, interval="1s", retries=1),
        **kw,  # type: ignore[arg-type]
    )
    return Stack(name, services=[app])


def _names(docker_client, stack: str) -> list[str]:
    return sorted(
        c.name
        for c in docker_client.containers.list(
            all=True, filters={"label": f"io.stackctl.stack={stack}"}
        )
    )


def test_a_replacement_that_never_gets_healthy_is_rolled_back(
    engine, stack_name, docker_client
) -> None:
    name = f"{stack_name}-app-1"
    converge(engine, [checked(stack_name, "true", 1)])
    old_id = docker_client.containers.get(name).id
    p = make_plan(engine, [checked(stack_name, "echo broken-check; false", 2)])
    result, log = run(engine, p, wait_timeout=60)
    assert not result.ok
    assert "rolled back: the old container runs again" in log, log
    assert "broken-check" in log, log  # the failing health output
    old = docker_client.containers.get(name)
    assert old.id == old_id and old.status == "running"
    assert _names(docker_client, stack_name) == [name]  # the new one is gone
    # the next apply tries again (and, fixed, succeeds)
    converge(engine, [checked(stack_name, "true", 3)])
    assert docker_client.containers.get(name).id != old_id


def test_a_replacement_that_cannot_start_is_rolled_back(engine, stack_name, docker_client) -> None:
    name = f"{stack_name}-app-1"
    converge(engine, [checked(stack_name, "true", 1)])
    old_id = docker_client.containers.get(name).id
    bad = checked(stack_name, "true", 2, entrypoint=["/no/such/binary"])
    result, log = run(engine, make_plan(engine, [bad]), wait_timeout=60)
    assert not result.ok and "rolled back" in log, log
    old = docker_client.containers.get(name)
    assert old.id == old_id and old.status == "running"
    assert _names(docker_client, stack_name) == [name]


def test_failure_action_pause_leaves_a_failed_replacement_as_is(
    engine, stack_name, docker_client
) -> None:
    pause = Deploy(update_config=UpdateConfig(failure_action="pause"))
    name = f"{stack_name}-app-1"
    converge(engine, [checked(stack_name, "true", 1, deploy=pause)])
    bad = checked(stack_name, "false", 2, deploy=pause)
    result, log = run(engine, make_plan(engine, [bad]), wait_timeout=60)
    assert not result.ok and "rolled back" not in log, log
    assert _names(docker_client, stack_name) == sorted([name, temp_name(name)])
    assert docker_client.containers.get(name).status == "exited"  # stopped, kept
    # the next apply with a good config cleans up and converges
    converge(engine, [checked(stack_name, "true", 3, deploy=pause)])
    assert _names(docker_client, stack_name) == [name]


@pytest.mark.engines("host")  # the port is held on this machine's loopback
def test_a_replacement_whose_host_port_is_taken_is_rolled_back(
    engine, stack_name, docker_client
) -> None:
    """The issue's case: the new container cannot start (its host port is held by another
    process); the old one, stopped for it, is started again."""

    def web(port: int) -> Stack:
        svc = Service("web", image=BUSYBOX, command=LOOP, ports=[f"127.0.0.1:{port}:80"])
        return Stack(stack_name, services=[svc])

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    name = f"{stack_name}-web-1"
    converge(engine, [web(free_port())])
    old_id = docker_client.containers.get(name).id
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        taken = holder.getsockname()[1]
        result, log = run(engine, make_plan(engine, [web(taken)]), wait_timeout=60)
    finally:
        holder.close()
    assert not result.ok, log
    assert "address already in use" in log and "rolled back" in log, log
    old = docker_client.containers.get(name)
    assert old.id == old_id and old.status == "running"
    assert _names(docker_client, stack_name) == [name]
