"""--engine swarm on the three-node test-bed: the issue's 'done when' list.

A Matrix-shaped stack (a Postgres-like service with a health check, a Synapse-like one
gated on it, bridges gated on both) deploys with replicas spread over the nodes, in the
order of the health conditions (checked from task creation and health times); a second
apply writes nothing; one environment change is one rolling update of one service;
destroy removes what the stack made and nothing else.
"""

from __future__ import annotations

from datetime import datetime

import docker
import pytest

from stackctl import Healthcheck, Network, Service, Stack, healthy
from stackctl.core.plan import Kind
from stackctl.errors import PlanError
from stackctl.model import Deploy, Placement, UpdateConfig
from tests.conftest import BUSYBOX
from tests.integration.swarm.conftest import client, converge, destroy, make_plan, run, writes

pytestmark = pytest.mark.integration

# busybox sh ignores SIGTERM as PID 1: trap it so tasks stop at once.
TRAP = "trap 'exit 0' TERM; "
FAST = UpdateConfig(parallelism=2, delay="0s", monitor="1s", failure_action="rollback")


def _svc(
    name: str,
    script: str,
    *,
    replicas: int,
    deps: dict | None = None,
    env: dict | None = None,
    spread: bool = False,
    ready_after: float = 0,
) -> Service:
    ready = f"sleep {ready_after}; " if ready_after else ""
    return Service(
        name,
        image=BUSYBOX,
        command=["sh", "-c", TRAP + ready + "touch /tmp/ready; " + script],
        restart="always",
        networks=["matrix"],
        healthcheck=Healthcheck.shell("test -f /tmp/ready", interval="1s", retries=30),
        depends_on=deps or {},
        environment=env or {},
        deploy=Deploy(
            replicas=replicas,
            endpoint_mode="dnsrr",
            update_config=FAST,
            placement=Placement(max_replicas_per_node=1) if spread else None,
        ),
    )


def matrix(name: str, synapse_env: str = "1") -> Stack:
    serve = "while :; do nc -ll -p 5432 -e echo pong & wait $!; done"
    loop = "while :; do sleep 0.2; done"
    postgres = _svc("postgres", serve, replicas=1, ready_after=3)
    synapse = _svc(
        "synapse",
        # ready only once it reached postgres over the overlay network (by service name)
        "until nc -w 1 postgres 5432 </dev/null | grep -q pong; do sleep 0.3; done; " + loop,
        replicas=3,
        spread=True,
        deps={postgres: healthy},
        env={"SYNAPSE_SERVER_NAME": "example.org", "GEN": synapse_env},
    )
    synapse = synapse.model_copy(
        update={
            "command": [
                "sh",
                "-c",
                TRAP + "sleep 2; until nc -w 1 postgres 5432 "
                "</dev/null | grep -q pong; do sleep 0.3; done; touch /tmp/ready; " + loop,
            ]
        }
    )
    bridges = [
        _svc(b, loop, replicas=2, deps={postgres: healthy, synapse: healthy})
        for b in ("whatsapp", "telegram")
    ]
    return Stack(name, services=[postgres, synapse, *bridges], networks=[Network("matrix")])


def _ts(text: str) -> datetime:
    # RFC 3339 with nanoseconds: keep microseconds
    head, _, frac = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def test_matrix_stack_deploys_in_health_order_spread_over_nodes(swarm, testbed, swarm_stack):
    stack = matrix(swarm_stack)
    p = make_plan(swarm, [stack])
    kinds = [(op.kind, op.resource) for op in p.operations]
    assert kinds[0] == (Kind.CREATE_NETWORK, f"{swarm_stack}_matrix")
    assert (Kind.WAIT, "postgres") in kinds and (Kind.WAIT, "synapse") in kinds
    result, log = run(swarm, p)
    assert result.ok, log

    c = client(testbed)
    services = {
        s["Spec"]["Name"]: s
        for s in c.services(filters={"label": f"io.stackctl.stack={swarm_stack}"})
    }
    assert set(services) == {
        f"{swarm_stack}_{s}" for s in ("postgres", "synapse", "whatsapp", "telegram")
    }
    tasks = {
        name: [t for t in c.tasks(filters={"service": s["ID"]}) if t["DesiredState"] == "running"]
        for name, s in services.items()
    }
    for name, ts in tasks.items():
        assert ts and all(t["Status"]["State"] == "running" for t in ts), (name, ts)
    # replicas spread over the three nodes
    synapse_nodes = {t["NodeID"] for t in tasks[f"{swarm_stack}_synapse"]}
    assert len(synapse_nodes) == 3
    all_nodes = {t["NodeID"] for ts in tasks.values() for t in ts}
    assert len(all_nodes) == 3

    # order: a dependent's tasks were created only after every replica of each dependency
    # was healthy (Swarm moves a task with a health check to running when it is healthy)
    def healthy_at(svc: str) -> datetime:
        return max(_ts(t["Status"]["Timestamp"]) for t in tasks[f"{swarm_stack}_{svc}"])

    def created_at(svc: str) -> datetime:
        return min(_ts(t["CreatedAt"]) for t in tasks[f"{swarm_stack}_{svc}"])

    assert created_at("synapse") >= healthy_at("postgres")
    for bridge in ("whatsapp", "telegram"):
        assert created_at(bridge) >= healthy_at("synapse")
        assert created_at(bridge) >= healthy_at("postgres")
    # and the health check really ran in the containers (health log on their nodes)
    node_socks = {n["ID"]: testbed[int(n["Description"]["Hostname"][-1]) - 1] for n in c.nodes()}
    t = tasks[f"{swarm_stack}_postgres"][0]
    inspect = client([node_socks[t["NodeID"]]]).inspect_container(
        t["Status"]["ContainerStatus"]["ContainerID"]
    )
    assert inspect["State"]["Health"]["Status"] == "healthy"

    # a second apply makes no write call
    before = writes(swarm)
    p2, result2 = converge(swarm, [stack])
    assert not p2.has_changes and result2.done == []
    assert writes(swarm) == before


def test_one_env_change_is_one_rolling_update_of_one_service(swarm, testbed, swarm_stack):
    converge(swarm, [matrix(swarm_stack)])
    c = client(testbed)
    versions = {
        s["Spec"]["Name"]: s["Version"]["Index"]
        for s in c.services(filters={"label": f"io.stackctl.stack={swarm_stack}"})
    }
    p = make_plan(swarm, [matrix(swarm_stack, synapse_env="2")])
    changed = [op for op in p.operations if op.kind != Kind.WAIT]
    assert [(op.kind, op.resource) for op in changed] == [
        (Kind.UPDATE_SERVICE, f"{swarm_stack}_synapse")
    ]
    assert [ch.path for ch in changed[0].changes] == ["env.GEN"]
    assert changed[0].version == versions[f"{swarm_stack}_synapse"]
    result, log = run(swarm, p)
    assert result.ok, log
    after = {
        s["Spec"]["Name"]: s
        for s in c.services(filters={"label": f"io.stackctl.stack={swarm_stack}"})
    }
    for name, v in versions.items():
        if name == f"{swarm_stack}_synapse":
            assert after[name]["Version"]["Index"] > v
            assert after[name]["UpdateStatus"]["State"] == "completed"
        else:
            assert after[name]["Version"]["Index"] == v, name
    assert not make_plan(swarm, [matrix(swarm_stack, synapse_env="2")]).has_changes


def test_stale_version_is_refused(swarm, testbed, swarm_stack):
    converge(swarm, [matrix(swarm_stack)])
    p = make_plan(swarm, [matrix(swarm_stack, synapse_env="3")])
    # someone else changes the service between plan and apply
    c = client(testbed)
    s = c.inspect_service(f"{swarm_stack}_synapse")
    spec = s["Spec"]
    spec["Labels"]["touched"] = "by-hand"
    c.update_service(
        s["ID"],
        s["Version"]["Index"],
        name=spec["Name"],
        task_template=spec["TaskTemplate"],
        labels=spec["Labels"],
        mode=spec["Mode"],
        fetch_current_spec=True,
    )
    result, log = run(swarm, p)
    assert not result.ok
    assert "changed since the plan" in result.failed[0][1], log


def test_failed_rollout_rolls_back_and_names_the_failing_tasks(swarm, testbed, swarm_stack):
    stack = Stack(
        swarm_stack,
        services=[_svc("app", "while :; do sleep 0.2; done", replicas=2)],
        networks=[Network("matrix")],
    )
    converge(swarm, [stack])
    broken = stack.services["app"].model_copy(
        update={"command": ["sh", "-c", "echo boom >&2; exit 3"]}
    )
    bad = stack.model_copy(update={"services": {"app": broken}})
    p = make_plan(swarm, [bad])
    result, log = run(swarm, p, wait_timeout=90)
    assert not result.ok, log
    message = result.failed[0][1]
    assert "rolled back" in message and "failed tasks" in message, message
    assert "non-zero exit (3)" in message, message
    # the service runs the old spec again
    assert not make_plan(swarm, [stack]).has_changes


def test_destroy_removes_what_the_stack_made_and_nothing_else(swarm, testbed, swarm_stack):
    c = client(testbed)
    foreign_net = c.create_network(f"{swarm_stack}-foreign", driver="overlay", attachable=True)
    foreign = c.create_service(
        docker.types.TaskTemplate(
            docker.types.ContainerSpec(BUSYBOX, ["sh", "-c", TRAP + "while :; do sleep 1; done"]),
            networks=[f"{swarm_stack}-foreign"],
        ),
        name=f"{swarm_stack}-foreign",
        endpoint_spec=docker.types.EndpointSpec(mode="dnsrr"),
    )
    stack = matrix(swarm_stack)
    converge(swarm, [stack])
    p = destroy(swarm, [stack])
    assert {op.kind for op in p.operations} == {Kind.REMOVE_SERVICE, Kind.REMOVE_NETWORK}
    names = {s["Spec"]["Name"] for s in c.services()}
    assert f"{swarm_stack}-foreign" in names
    assert not [n for n in names if n.startswith(f"{swarm_stack}_")]
    nets = {n["Name"] for n in c.networks()}
    assert f"{swarm_stack}-foreign" in nets and f"{swarm_stack}_matrix" not in nets
    c.remove_service(foreign["ID"])
    del foreign_net


def test_unmanaged_service_holding_a_name_is_refused(swarm, testbed, swarm_stack):
    c = client(testbed)
    c.create_service(
        docker.types.TaskTemplate(docker.types.ContainerSpec(BUSYBOX, ["sleep", "600"])),
        name=f"{swarm_stack}_postgres",
        labels={"com.docker.stack.namespace": swarm_stack},
    )
    with pytest.raises(PlanError, match="docker stack rm"):
        make_plan(swarm, [matrix(swarm_stack)])
