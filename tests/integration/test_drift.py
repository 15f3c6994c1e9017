"""Drift made by hand: plan names each change with its reason; apply repairs what is ours
and refuses what is not. Every apply here is recorded and checked one to one against the
plan it executed (tests/recording.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import docker
import pytest

from stackctl import Network, Service, Stack, Volume
from stackctl.core.plan import Kind, Plan
from stackctl.errors import PlanError
from tests.conftest import BUSYBOX, DEBIAN
from tests.recording import Recorded, cli, recorded_apply, settle
from tests.support import make_plan

pytestmark = pytest.mark.integration

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


@pytest.fixture
def client(docker_client: docker.DockerClient) -> docker.DockerClient:
    return docker_client


@pytest.fixture
def own_tag(client, stack_name) -> Iterator[str]:
    """An image tag of this test alone (``<stack>/img:1``, busybox at first); untagged after."""
    tag = f"{stack_name}/img:1"
    client.images.get(BUSYBOX).tag(tag)
    yield tag
    client.images.remove(tag, noprune=True)


def drift_stack(name: str, image: str = BUSYBOX) -> Stack:
    back, front = Network("back"), Network("front")

    def svc(n: str, nets: list[Network], **kw: object) -> Service:
        kw = {"image": BUSYBOX, **kw}
        return Service(n, command=LOOP, restart="unless-stopped", networks=nets, **kw)

    return Stack(
        name,
        services=[
            svc("a", [back]),
            svc("b", [back], volumes=["data:/data"]),
            svc("c", [back, front]),
            svc("d", [front], image=image),
        ],
        networks=[back, front],
        volumes=[Volume("data")],
    )


def apply_ok(url: str, stack: Stack) -> Recorded:
    rec = recorded_apply(url, [stack])
    assert rec.result.ok, rec.log
    return rec


def changes(p: Plan) -> dict[str, tuple[Kind, str]]:
    return {op.resource: (op.kind, op.reason) for op in p.operations if op.kind != Kind.WAIT}


def networks(listed: dict[str, Any]) -> set[str]:
    return set((listed.get("NetworkSettings") or {}).get("Networks") or {})


def state(client: docker.DockerClient, stack: str) -> dict[str, tuple[str, str]]:
    return {
        c.name: (c.id, c.status) for c in client.containers.list(all=True, filters={"name": stack})
    }


def test_drift_is_planned_with_its_reason_and_repaired(
    engine, docker_host, client, stack_name, own_tag
) -> None:
    s = stack_name
    first = apply_ok(docker_host, drift_stack(s, own_tag))
    assert first.fidelity.operations == 7  # 2 networks, 1 volume, 4 containers
    client.containers.get(f"{s}-b-1").exec_run(["sh", "-c", "echo kept > /data/f"])

    client.containers.get(f"{s}-a-1").remove(force=True)  # removed
    client.containers.get(f"{s}-b-1").stop(timeout=5)  # stopped
    client.networks.get(f"{s}_front").disconnect(f"{s}-c-1")  # disconnected
    client.images.get(DEBIAN).tag(own_tag)  # the tag d runs now names another image
    settle(client.api, f"{s}-a-1", lambda c: c is None)
    settle(client.api, f"{s}-b-1", lambda c: c is not None and c["State"] == "exited")
    settle(client.api, f"{s}-c-1", lambda c: c is not None and len(networks(c)) == 1)

    p = make_plan(engine, [drift_stack(s, own_tag)])
    assert changes(p) == {
        f"{s}-a-1": (Kind.CREATE, "missing"),
        f"{s}-b-1": (Kind.START, "stopped"),
        f"{s}-c-1": (Kind.REPLACE, f"drift: not on network {s}_front"),
        f"{s}-d-1": (Kind.REPLACE, "image updated"),
    }
    repair = apply_ok(docker_host, drift_stack(s, own_tag))
    assert changes(repair.plan) == changes(p)
    assert repair.fidelity.operations == 4

    assert not make_plan(engine, [drift_stack(s, own_tag)]).has_changes
    assert client.containers.get(f"{s}-d-1").image.id == client.images.get(DEBIAN).id
    assert set(client.containers.get(f"{s}-c-1").attrs["NetworkSettings"]["Networks"]) == {
        f"{s}_back",
        f"{s}_front",
    }
    out = client.containers.get(f"{s}-b-1").exec_run(["cat", "/data/f"]).output
    assert out.strip() == b"kept"


def test_what_is_not_ours_is_refused_and_left_alone(
    engine, docker_host, client, stack_name, tmp_path
) -> None:
    s = stack_name
    stack = drift_stack(s)
    # A label-less network holding the name of one of ours: refused before anything exists.
    intruder_net = client.networks.create(f"{s}_front")
    with pytest.raises(
        PlanError, match=f"network '{s}_front' already exists and belongs to nobody"
    ):
        make_plan(engine, [stack])
    intruder_net.remove()
    apply_ok(docker_host, stack)

    # Ours, but drifted: b stopped by hand. Not ours: a label-less container where a was,
    # and a docker compose container where d was.
    client.containers.get(f"{s}-b-1").stop(timeout=5)
    client.containers.get(f"{s}-a-1").remove(force=True)
    client.containers.get(f"{s}-d-1").remove(force=True)
    settle(client.api, f"{s}-b-1", lambda c: c is not None and c["State"] == "exited")
    bare = client.containers.create(BUSYBOX, LOOP, name=f"{s}-a-1")
    composed = client.containers.create(
        BUSYBOX, LOOP, name=f"{s}-d-1", labels={"com.docker.compose.project": s}
    )
    before = state(client, s)

    with pytest.raises(PlanError) as err:
        make_plan(engine, [stack])
    text = str(err.value)
    assert f"container '{s}-a-1' wanted by stack '{s}' already exists and belongs to nobody" in text
    assert f"docker rm -f {s}-a-1" in text
    # a compose project of the stack's name: one problem for the whole project
    assert f"docker compose project '{s}' already runs here (containers: {s}-d-1)" in text
    assert text.count(f"docker compose project '{s}'") == 1
    assert "rerun with --adopt" in text and f"docker compose -p {s} down" in text

    path = tmp_path / "stack.py"
    path.write_text(stack_file(s))
    run = cli(docker_host, "apply", "--yes", path)
    assert run.code == 1 and "Traceback" not in run.text
    assert f"container '{s}-a-1'" in run.err and "belongs to nobody" in run.err
    assert state(client, s) == before  # nothing changed: not even b, which is ours

    bare.remove(force=True)
    composed.remove(force=True)
    repair = apply_ok(docker_host, stack)
    assert changes(repair.plan) == {
        f"{s}-a-1": (Kind.CREATE, "missing"),
        f"{s}-b-1": (Kind.START, "stopped"),
        f"{s}-d-1": (Kind.CREATE, "missing"),
    }
    assert not make_plan(engine, [stack]).has_changes


def stack_file(name: str) -> str:
    """``drift_stack(name)`` as a stack file for the CLI."""
    return f"from tests.integration.test_drift import drift_stack\nstack = drift_stack({name!r})\n"
