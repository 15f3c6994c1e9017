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
