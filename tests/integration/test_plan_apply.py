"""Plan and apply against the real engine: the issue's 'done when' list, one test each."""

from __future__ import annotations

import pytest

from stackctl import Healthcheck, Network, Service, Stack, Volume, completed, healthy
from stackctl.core.plan import Kind
from stackctl.errors import PlanError
from tests.conftest import BUSYBOX
from tests.engines import wait_listed_state
from tests.recording import recorded_apply
from tests.support import converge, destroy, make_plan, run, writes

pytestmark = pytest.mark.integration

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


def small(name: str, env: str = "1", extra: list[Service] | None = None) -> Stack:
    back = Network("back")
    db = Service(
        "db",
        image=BUSYBOX,
        command=["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ready; while :; do sleep 0.2; done"],
        restart="unless-stopped",
        networks=[back],
        volumes=["data:/data"],
        healthcheck=Healthcheck.shell("test -f /tmp/ready", interval="1s", retries=5),
    )
    web = Service(
        "web",
        image=BUSYBOX,
        command=LOOP,
        restart="unless-stopped",
        networks=[back],
        depends_on={db: healthy},
        environment={"MODE": env},
    )
    return Stack(
        name, services=[db, web, *(extra or [])], networks=[back], volumes=[Volume("data")]
    )


def test_empty_daemon_plans_every_create_in_a_valid_order(engine, stack_name) -> None:
    p = make_plan(engine, [small(stack_name)])
    ids = [op.id for op in p.operations]
    assert [op.kind for op in p.operations] == [
        Kind.CREATE_NETWORK,
        Kind.CREATE_VOLUME,
        Kind.CREATE,
        Kind.WAIT,
        Kind.CREATE,
    ]
    for i, op in enumerate(p.operations):
        assert all(ids.index(d) < i for d in op.depends_on)


def test_apply_then_plan_has_no_changes_and_second_apply_writes_nothing(engine, stack_name) -> None:
    stack = small(stack_name)
    converge(engine, [stack])
    before = writes(engine)
    p, result = converge(engine, [stack])
    assert not p.has_changes and result.done == []
    assert writes(engine) == before


def test_one_changed_env_var_replaces_one_container_and_keeps_volume_data(
    engine, stack_name, docker_client
) -> None:
    converge(engine, [small(stack_name)])
    client = docker_client
    db = client.containers.get(f"{stack_name}-db-1")
    db.exec_run(["sh", "-c", "echo kept > /data/file"])
    web_id = client.containers.get(f"{stack_name}-web-1").id
    p = make_plan(engine, [small(stack_name, env="2")])
    changed = [op for op in p.operations if op.kind != Kind.WAIT]
    assert [(op.kind, op.resource) for op in changed] == [(Kind.REPLACE, f"{stack_name}-web-1")]
    assert [c.path for c in changed[0].changes] == ["env.MODE"]
    result, log = run(engine, p)
    assert result.ok, log
    assert client.containers.get(f"{stack_name}-web-1").id != web_id
    assert client.containers.get(f"{stack_name}-db-1").id == db.id
    out = client.containers.get(f"{stack_name}-db-1").exec_run(["cat", "/data/file"])
    assert out.output.strip() == b"kept"


def test_volume_survives_a_replacement_of_its_container(engine, stack_name, docker_client) -> None:
    converge(engine, [small(stack_name)])
    client = docker_client
    client.containers.get(f"{stack_name}-db-1").exec_run(["sh", "-c", "echo kept > /data/f"])
    stack = small(stack_name)
    db = stack.services["db"].model_copy(update={"labels": {"v": "2"}})
    stack = stack.model_copy(update={"services": {**stack.services, "db": db}})
    converge(engine, [stack])
    out = client.containers.get(f"{stack_name}-db-1").exec_run(["cat", "/data/f"])
    assert out.output.strip() == b"kept"


def test_container_stopped_by_hand_plans_a_start(engine, stack_name, docker_client) -> None:
    converge(engine, [small(stack_name)])
    docker_client.containers.get(f"{stack_name}-web-1").stop(timeout=2)
    wait_listed_state(docker_client, f"{stack_name}-web-1")
    p = make_plan(engine, [small(stack_name)])
    starts = [op for op in p.operations if op.kind == Kind.START]
    assert [op.resource for op in starts] == [f"{stack_name}-web-1"]
    assert starts[0].reason in ("stopped", "exited with code 143", "exited with code 137")


def test_unmanaged_container_holding_a_name_is_refused(engine, stack_name, docker_client) -> None:
    client = docker_client
    client.containers.create(BUSYBOX, name=f"{stack_name}-web-1", command=LOOP)
    with pytest.raises(PlanError, match=f"container '{stack_name}-web-1'.*belongs to nobody"):
        make_plan(engine, [small(stack_name)])


def test_missing_external_network_is_an_error(engine, stack_name) -> None:
    ext = Network(f"{stack_name}_edge", external=True)
    stack = Stack(
        stack_name, services=[Service("s", image=BUSYBOX, networks=[ext])], networks=[ext]
    )
    with pytest.raises(PlanError, match=f"external network '{stack_name}_edge'"):
        make_plan(engine, [stack])


def test_orphan_warned_then_pruned(engine, stack_name, docker_client) -> None:
    extra = Service("extra", image=BUSYBOX, command=LOOP)
    converge(engine, [small(stack_name, extra=[extra])])
    p = make_plan(engine, [small(stack_name)])
    assert not p.has_changes
    assert f"{stack_name}-extra-1" in [o.name for o in p.orphans]
    p, _ = converge(engine, [small(stack_name)], prune=True)
    assert [(op.kind, op.resource) for op in p.operations if op.kind == Kind.REMOVE] == [
        (Kind.REMOVE, f"{stack_name}-extra-1")
    ]
    names = [c.name for c in docker_client.containers.list(all=True, filters={"name": stack_name})]
    assert f"{stack_name}-extra-1" not in names


def test_services_nothing_waits_for_start_after_the_one_a_wait_needs(
    docker_host, stack_name
) -> None:
    """db's health clock starts first: the independent services are created only once db
    has started, though the pool (4) had room for them at once."""
    extra = [Service(f"x{i}", image=BUSYBOX, command=LOOP) for i in range(3)]
    rec = recorded_apply(docker_host, [small(stack_name, extra=extra)])
    assert rec.result.ok, rec.log
    calls = rec.calls
    db_started = calls.index(("start", f"{stack_name}-db-1"))
    for i in range(3):
        assert calls.index(("create_container", f"{stack_name}-x{i}-1")) > db_started, calls


def test_dependency_that_never_becomes_healthy_fails_and_dependents_never_start(
    engine, stack_name, docker_client
) -> None:
    sick = Service(
        "sick",
        image=BUSYBOX,
        command=LOOP,
        healthcheck=Healthcheck.shell("echo database not ready; exit 1", interval="1s", retries=2),
    )
    app = Service("app", image=BUSYBOX, command=LOOP, depends_on={sick: healthy})
    p = make_plan(engine, [Stack(stack_name, services=[sick, app])])
    result, _log = run(engine, p, wait_timeout=30)
    assert not result.ok
    (failed, message) = result.failed[0]
    assert failed.kind == Kind.WAIT and "sick" in message and "database not ready" in message
    assert [op.resource for op in result.not_started] == [f"{stack_name}-app-1"]
    names = [c.name for c in docker_client.containers.list(all=True, filters={"name": stack_name})]
    assert f"{stack_name}-app-1" not in names


def test_completed_successfully_waits_for_exit_zero(engine, stack_name) -> None:
    job = Service("migrate", image=BUSYBOX, command=["sh", "-c", "sleep 1; exit 0"])
    app = Service("app", image=BUSYBOX, command=LOOP, depends_on={job: completed})
    stack = Stack(stack_name, services=[job, app])
    converge(engine, [stack])
    p = make_plan(engine, [stack])
    assert not p.has_changes  # the one-shot that exited 0 has done its job


def test_destroy_removes_containers_and_networks_keeps_volumes(
    engine, stack_name, docker_client
) -> None:
    stack = small(stack_name)
    converge(engine, [stack])
    destroy(engine, [stack])
    client = docker_client
    assert not client.containers.list(
        all=True, filters={"label": f"io.stackctl.stack={stack_name}"}
    )
    assert not client.networks.list(filters={"label": f"io.stackctl.stack={stack_name}"})
    assert [
        v.name for v in client.volumes.list(filters={"label": f"io.stackctl.stack={stack_name}"})
    ] == [f"{stack_name}_data"]
    assert not destroy(engine, [stack]).has_changes  # a second destroy does nothing
    destroy(engine, [stack], volumes=True)
    assert not client.volumes.list(filters={"label": f"io.stackctl.stack={stack_name}"})


def test_no_change_plan_costs_the_same_api_calls_for_5_and_50_services(
    engine, stack_names, docker_host
) -> None:
    from stackctl.engine import DockerEngine

    counts = []
    for name, n in ((stack_names[0], 5), (stack_names[1], 50)):
        services = [Service(f"s{i}", image=BUSYBOX, command=LOOP) for i in range(n)]
        stack = Stack(name, services=services)
        converge(engine, [stack])
        fresh = DockerEngine(base_url=docker_host)
        before = sum(fresh.call_counts().values())
        p = make_plan(fresh, [stack])
        assert not p.has_changes
        counts.append(sum(fresh.call_counts().values()) - before)
        fresh.close()
    assert counts[0] == counts[1]
