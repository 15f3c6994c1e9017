"""The swarm planner and validation as data tables: desired stacks + an observed swarm
snapshot -> expected operations (or errors). No daemon."""

from __future__ import annotations

from typing import Any

import pytest

from stackctl import Healthcheck, Network, Service, Stack, Volume, healthy
from stackctl.backends.swarm.desired import desire_swarm, engine_spec
from stackctl.backends.swarm.observe import ObservedService, SwarmObservedState
from stackctl.backends.swarm.plan import plan_swarm as plan
from stackctl.backends.swarm.plan import plan_swarm_destroy as plan_destroy
from stackctl.core.plan import Kind
from stackctl.core.resources import ObservedNetwork, ObservedVolume
from stackctl.errors import PlanError
from stackctl.model import Deploy, Port
from stackctl.rules import resolve_engine, run_rules
from stackctl.rules.swarm import RULES as SWARM_RULES

IMG = "busybox:1"


def stack(env: str = "1", **extra: Any) -> Stack:
    db = Service("db", image=IMG, healthcheck=Healthcheck.shell("true"), networks=["back"])
    web = Service(
        "web",
        image=IMG,
        depends_on={db: healthy},
        environment={"MODE": env},
        networks=["back"],
        deploy=Deploy(replicas=3, endpoint_mode="dnsrr"),
        **extra,
    )
    return Stack("m", services=[db, web], networks=[Network("back")])


def observed_of(s: Stack, version: int = 7, **net: Any) -> SwarmObservedState:
    """A swarm where ``s`` was applied exactly."""
    d = desire_swarm([s])
    services = tuple(
        ObservedService(
            id=f"id-{ds.name}",
            name=ds.name,
            version=version,
            labels=ds.labels,
            spec={**engine_spec(ds), "TaskTemplate": {"Networks": [{"Target": "net-id"}]}},
            update_state=None,
            update_message="",
        )
        for ds in d.services
    )
    networks = tuple(
        ObservedNetwork(
            id="net-id",
            name=n.name,
            labels={**n.labels, **net},
            driver="overlay",
            scope="swarm",
        )
        for n in d.networks
    )
    return SwarmObservedState(services=services, networks=networks)


def kinds(p: Any) -> list[tuple[Kind, str]]:
    return [(op.kind, op.resource) for op in p.operations]


def test_empty_swarm_creates_network_then_services_gated_on_health() -> None:
    p = plan(desire_swarm([stack()]), SwarmObservedState())
    assert kinds(p) == [
        (Kind.CREATE_NETWORK, "m_back"),
        (Kind.CREATE_SERVICE, "m_db"),
        (Kind.WAIT, "db"),
        (Kind.CREATE_SERVICE, "m_web"),
    ]
    web = p.by_id()["service:m_web"]
    assert "wait:m/db:service_healthy" in web.depends_on
    assert p.by_id()["wait:m/db:service_healthy"].wait_for == ("m_db",)


def test_applied_stack_has_no_changes() -> None:
    assert not plan(desire_swarm([stack()]), observed_of(stack())).has_changes


def test_env_change_is_one_rolling_update_with_field_diff_and_version() -> None:
    p = plan(desire_swarm([stack(env="2")]), observed_of(stack(), version=42))
    ops = [op for op in p.operations if op.kind != Kind.WAIT]
    assert [(op.kind, op.resource) for op in ops] == [(Kind.UPDATE_SERVICE, "m_web")]
    assert [(c.path, c.old, c.new) for c in ops[0].changes] == [("env.MODE", "1", "2")]
    assert ops[0].version == 42 and ops[0].target_id == "id-m_web"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"deploy": Deploy(replicas=5, endpoint_mode="dnsrr")}, "replicas"),
        ({"labels": {"a": "b"}}, "labels.a"),
        ({"command": ["sleep", "1"]}, "command"),
    ],
)
def test_each_changed_field_is_named(change: dict[str, Any], path: str) -> None:
    changed = stack()
    web = changed.services["web"].model_copy(update=change)
    changed = changed.model_copy(update={"services": {**changed.services, "web": web}})
    p = plan(desire_swarm([changed]), observed_of(stack()))
    upd = [op for op in p.operations if op.kind == Kind.UPDATE_SERVICE]
    assert [c.path for c in upd[0].changes] == [path]


def test_changed_network_removes_its_services_first_and_creates_them_after() -> None:
    p = plan(desire_swarm([stack()]), observed_of(stack(), **{"io.stackctl.config-hash": "old"}))
    order = kinds(p)
    assert (Kind.REPLACE_NETWORK, "m_back") in order
    net = order.index((Kind.REPLACE_NETWORK, "m_back"))
    for svc in ("m_db", "m_web"):
        assert (
            order.index((Kind.REMOVE_SERVICE, svc)) < net < order.index((Kind.CREATE_SERVICE, svc))
        )


def test_foreign_service_with_the_name_is_refused_with_a_hint() -> None:
    obs = SwarmObservedState(
        services=(
            ObservedService("x", "m_db", 1, {"com.docker.stack.namespace": "m"}, {}, None, ""),
        )
    )
    with pytest.raises(PlanError, match="docker stack rm m"):
        plan(desire_swarm([stack()]), obs)


def with_volume(key: str, name: str | None = None, stack_name: str = "m") -> Stack:
    s = stack(volumes=[f"{key}:/data"])
    return s.model_copy(update={"name": stack_name, "volumes": {key: Volume(key, name=name)}})


# (title, stacks, volumes seen on the manager, words the error holds)
VOLUME_OWNERSHIP: list[tuple[str, list[Stack], tuple[ObservedVolume, ...], tuple[str, ...]]] = [
    (
        "label-less volume with the stack's name for it",
        [with_volume("data")],
        (ObservedVolume("m_data", {}, "local"),),
        ("volume 'm_data'", "no stackctl labels", "external: true"),
    ),
    (
        "label-less volume with its declared name:",
        [with_volume("data", name="pg")],
        (ObservedVolume("pg", {}, "local"),),
        ("volume 'pg'", "external: true"),
    ),
    (
        "another stack's volume (a_b of x and b of x_a are both x_a_b)",
        [with_volume("b", stack_name="x_a")],
        (ObservedVolume("x_a_b", {"io.stackctl.stack": "x"}, "local"),),
        ("belongs to stack 'x'",),
    ),
    (
        "two stacks of one plan claim one name",
        [with_volume("a_b", stack_name="x"), with_volume("b", stack_name="x_a")],
        (),
        ("claimed by volume 'a_b' of stack 'x' and volume 'b' of stack 'x_a'",),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("title", "stacks", "volumes", "words"),
    VOLUME_OWNERSHIP,
    ids=[c[0] for c in VOLUME_OWNERSHIP],
)
def test_a_volume_name_someone_else_holds_is_a_plan_error(
    title: str, stacks: list[Stack], volumes: tuple[ObservedVolume, ...], words: tuple[str, ...]
) -> None:
    with pytest.raises(PlanError) as err:
        plan(desire_swarm(stacks), SwarmObservedState(volumes=volumes))
    for word in words:
        assert word in str(err.value), title


def test_the_stacks_own_volume_is_used() -> None:
    s = with_volume("data")
    owned = ObservedVolume("m_data", {"io.stackctl.stack": "m"}, "local")
    result = plan(desire_swarm([s]), SwarmObservedState(volumes=(owned,)))
    assert not result.warnings


def test_external_network_must_be_swarm_scoped() -> None:
    edge = Network("edge", external=True)
    s = Stack("m", services=[Service("a", image=IMG, networks=[edge])], networks=[edge])
    local = ObservedNetwork("n", "edge", {}, "bridge", "local")
    with pytest.raises(PlanError, match="local-scoped bridge network"):
        plan(desire_swarm([s]), SwarmObservedState(networks=(local,)))
    with pytest.raises(PlanError, match="does not exist"):
        plan(desire_swarm([s]), SwarmObservedState())


def test_orphan_service_warns_and_prune_removes_it() -> None:
    obs = observed_of(stack())
    smaller = Stack("m", services=[stack().services["db"]], networks=[Network("back")])
    p = plan(desire_swarm([smaller]), obs)
    assert not p.has_changes and [o.name for o in p.orphans] == ["m_web"]
    p = plan(desire_swarm([smaller]), obs, prune=True)
    assert kinds(p) == [(Kind.REMOVE_SERVICE, "m_web")]


def test_destroy_removes_dependents_first_then_networks() -> None:
    p = plan_destroy(desire_swarm([stack()]), observed_of(stack()))
    order = kinds(p)
    assert order.index((Kind.REMOVE_SERVICE, "m_web")) < order.index((Kind.REMOVE_SERVICE, "m_db"))
    assert order[-1] == (Kind.REMOVE_NETWORK, "m_back")
    assert p.by_id()["remove-service:m_db"].depends_on == ("remove-service:m_web",)


def test_spec_maps_deploy_fields() -> None:
    s = Service(
        "w",
        image=IMG,
        restart="on-failure:3",
        deploy={
            "replicas": 2,
            "endpoint_mode": "dnsrr",
            "resources": {
                "limits": {"cpus": "0.5", "memory": "64M"},
                "reservations": {"memory": "32M"},
            },
            "placement": {"constraints": ["node.role==worker"]},
            "update_config": {"parallelism": 1, "failure_action": "rollback", "monitor": "2s"},
            "rollback_config": {"parallelism": 2},
            "labels": {"svc": "label"},
        },
        ports=[Port(target=80, published=8080, mode="host")],
    )
    spec = engine_spec(desire_swarm([Stack("m", services=[s])]).services[0])
    assert spec["Mode"] == {"Replicated": {"Replicas": 2}}
    assert spec["EndpointSpec"]["Mode"] == "dnsrr"
    assert spec["EndpointSpec"]["Ports"][0]["PublishMode"] == "host"
    task = spec["TaskTemplate"]
    assert task["Resources"]["Limits"] == {"NanoCPUs": 500_000_000, "MemoryBytes": 64 * 2**20}
    assert task["Resources"]["Reservations"] == {"MemoryBytes": 32 * 2**20}
    assert task["RestartPolicy"] == {"Condition": "on-failure", "MaxAttempts": 3}
    assert task["Placement"]["Constraints"] == ["node.role==worker"]
    assert spec["UpdateConfig"] == {
        "Parallelism": 1,
        "FailureAction": "rollback",
        "Monitor": 2_000_000_000,
    }
    assert spec["RollbackConfig"] == {"Parallelism": 2}
    assert spec["Labels"]["svc"] == "label" and spec["Labels"]["io.stackctl.stack"] == "m"


@pytest.mark.parametrize(
    ("field", "value", "severity"),
    [
        ("container_name", "x", "error"),
        ("privileged", True, "error"),
        ("devices", ["/dev/fuse"], "error"),
        ("pull_policy", "always", "warning"),
    ],
)
def test_swarm_validation_names_the_field(field: str, value: Any, severity: str) -> None:
    s = Stack("m", services=[Service("a", image=IMG, **{field: value})])
    found = run_rules([s], SWARM_RULES)
    assert [(d.severity, d.path) for d in found] == [(severity, f"services.a.{field}")]
    assert "'a'" in found[0].message and field in found[0].message


def test_static_address_and_host_ip_are_errors() -> None:
    s = Stack(
        "m",
        services=[
            Service(
                "a",
                image=IMG,
                networks={"back": {"ipv4_address": "10.0.0.5"}},
                ports=["127.0.0.1:80:80"],
            )
        ],
        networks=[Network("back", ipam={"subnet": "10.0.0.0/24"})],
    )
    paths = {d.path for d in run_rules([s], SWARM_RULES) if d.severity == "error"}
    assert paths == {"services.a.networks.back.ipv4_address", "services.a.ports.0"}


def test_engine_resolution() -> None:
    plain = Stack("a", services=[Service("s", image=IMG)])
    swarm = plain.model_copy(update={"engine": "swarm", "name": "b"})
    docker = plain.model_copy(update={"engine": "docker", "name": "c"})
    assert resolve_engine("docker", [plain]) == ("docker", [])
    assert resolve_engine("swarm", [plain]) == ("swarm", [])
    assert resolve_engine("docker", [swarm])[0] == "swarm"
    assert resolve_engine("docker", [swarm, docker])[1]
    assert resolve_engine("swarm", [docker])[1]


def test_swarm_plan_renders_as_text_and_json() -> None:
    from stackctl.render import plan_json, plan_text

    p = plan(desire_swarm([stack(env="2")]), observed_of(stack(), version=3))
    text = plan_text(p)
    assert "~ update (rolling) service m_web  (config changed: env.MODE)" in text
    assert 'env.MODE: "1" → "2"' in text
    data = plan_json(p)
    op = next(o for o in data["operations"] if o["kind"] == "update-service")
    assert op["resource"] == {"type": "service", "name": "m_web", "stack": "m", "service": "web"}
    assert op["version"] == 3 and data["summary"]["change"] == 1


def test_status_rows_say_missing_then_in_sync_then_drifted() -> None:
    from stackctl.backends.swarm.status import status_table

    def sync(observed: SwarmObservedState) -> list[str]:
        return [r["sync"] for r in status_table(desire_swarm([stack()]), observed).rows]

    assert set(sync(SwarmObservedState())) == {"missing"}
    assert set(sync(observed_of(stack()))) == {"in sync"}
    changed = sync(observed_of(stack(env="2")))
    assert any(s.startswith("drifted: config changed") for s in changed), changed
