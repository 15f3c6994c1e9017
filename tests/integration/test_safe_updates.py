"""Safe updates on the real engine (issue 19): anonymous volumes kept across replacements
and removed by destroy --volumes."""

from __future__ import annotations

import pytest

from stackctl import Service, Stack
from stackctl.core.plan import Kind
from tests.conftest import BUSYBOX
from tests.support import converge, destroy, make_plan

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
        assert op.kind == Kind.REPLACE and op.notes == ("keeps anonymous volume /data",)
        converge(engine, [anon(stack_name, version)])
        assert _volumes_of(docker_client, name) == {"/data": first}
    out = docker_client.containers.get(name).exec_run(["cat", "/data/f"])
    assert out.output.strip() == b"kept"
    # nothing left dangling: the only volume the replacements used is the first one
    destroy(engine, [anon(stack_name, 3)], volumes=True)
    assert not docker_client.containers.list(all=True, filters={"name": name})
    assert first not in {v.name for v in docker_client.volumes.list()}


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
