"""network_mode, links and the host settings: desired config, create body and plan tables.

No daemon: observed states are built as the daemon shows them (a ``network_mode: host``
container listed on the network ``host``, a ``service:X`` one with
``HostConfig.NetworkMode`` ``container:<id of X's container>`` and no network).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from stackctl import Service, Stack
from stackctl.backends.docker.desired import DesiredContainer, DesiredState, desire
from stackctl.backends.docker.observe import ObservedState, parse_container
from stackctl.backends.docker.plan import plan
from stackctl.core.plan import Kind, Plan
from stackctl.engine.docker import container_config
from stackctl.errors import PlanError
from stackctl.render import plan_text
from tests.test_plan import EMPTY, IMG, applied, with_container, without_container


def vpn_stack(**vpn: Any) -> Stack:
    return Stack(
        "lab",
        services=[
            Service("vpn", image=IMG, **vpn),
            Service("torrent", image=IMG, network_mode="service:vpn"),
            Service("ha", image=IMG, network_mode="host"),
        ],
    )


def observed_as_applied(desired: DesiredState) -> ObservedState:
    """``applied`` with the network modes as the daemon lists them."""
    state = applied(desired)
    for dc in desired.containers:
        if dc.network_mode in ("host", "none", "bridge"):
            state = with_container(state, dc.name, networks={dc.network_mode: None})
        elif dc.network_mode is not None:
            state = with_container(
                state, dc.name, networks={}, network_mode=f"container:id-{dc.network_mode[10:]}"
            )
        else:
            state = with_container(state, dc.name, network_mode=dc.networks[0].name)
    return state


def kinds(p: Plan) -> list[tuple[str, str, str]]:
    return [(op.kind.value, op.resource, op.reason) for op in p.operations]


def unit(desired: DesiredState, name: str) -> DesiredContainer:
    return next(c for c in desired.containers if c.name == name)


Scenario = Callable[[DesiredState], ObservedState]

CASES: list[tuple[str, Scenario, list[tuple[str, str, str]]]] = [
    (
        "empty daemon: the owner first, the dependent after it has started",
        lambda d: EMPTY,
        [
            ("create-network", "lab_default", "missing"),
            ("create", "lab-vpn-1", "missing"),
            ("create", "lab-ha-1", "missing"),
            ("wait", "vpn", "a dependent needs vpn running"),
            ("create", "lab-torrent-1", "missing"),
        ],
    ),
    ("in place: nothing to do (host and container modes are no drift)", observed_as_applied, []),
    (
        "the owner's image changed: owner replaced, the dependent recreated after it",
        lambda d: replace(observed_as_applied(d), images={IMG: "sha256:" + "b" * 64}),
        [
            ("replace", "lab-vpn-1", "image updated"),
            ("replace", "lab-ha-1", "image updated"),
            ("wait", "vpn", "a dependent needs vpn running"),
            ("replace", "lab-torrent-1", "image updated"),
        ],
    ),
    (
        "the owner removed by hand: created, the dependent recreated",
        lambda d: without_container(observed_as_applied(d), "lab-vpn-1"),
        [
            ("create", "lab-vpn-1", "missing"),
            ("wait", "vpn", "a dependent needs vpn running"),
            ("replace", "lab-torrent-1", "namespace owner replaced: vpn"),
        ],
    ),
    (
        "the owner recreated outside this plan (another id): the dependent recreated",
        lambda d: with_container(observed_as_applied(d), "lab-vpn-1", id="id-new"),
        [
            ("wait", "vpn", "a dependent needs vpn running"),
            ("replace", "lab-torrent-1", "namespace owner replaced: vpn"),
        ],
    ),
    (
        "the owner stopped: started, its running dependent recreated in the new namespace",
        lambda d: with_container(observed_as_applied(d), "lab-vpn-1", state="exited"),
        [
            ("start", "lab-vpn-1", "stopped"),
            ("wait", "vpn", "a dependent needs vpn running"),
            ("replace", "lab-torrent-1", "namespace owner restarted: vpn"),
        ],
    ),
    (
        "the dependent stopped: started, not recreated",
        lambda d: with_container(observed_as_applied(d), "lab-torrent-1", state="exited"),
        [
            ("wait", "vpn", "a dependent needs vpn running"),
            ("start", "lab-torrent-1", "stopped"),
        ],
    ),
    (
        "a host-mode container moved to a network by hand: drift",
        lambda d: with_container(observed_as_applied(d), "lab-ha-1", networks={"x": None}),
        [("replace", "lab-ha-1", "drift: not on network host; also on network x")],
    ),
]


@pytest.mark.parametrize(("title", "scenario", "expected"), CASES, ids=[c[0] for c in CASES])
def test_network_mode_plan_table(
    title: str, scenario: Scenario, expected: list[tuple[str, str, str]]
) -> None:
    desired = desire([vpn_stack()])
    assert kinds(plan(desired, scenario(desired))) == expected


def test_the_owner_config_change_names_the_reason_in_the_plan_text() -> None:
    before = desire([vpn_stack()])
    after = desire([vpn_stack(environment={"REGION": "nl"})])
    p = plan(after, observed_as_applied(before))
    text = plan_text(p)
    assert "-/+ replace container lab-vpn-1  (config changed: env.REGION)" in text
    assert "-/+ replace container lab-torrent-1  (namespace owner replaced: vpn)" in text
    ops = {op.resource: op for op in p.operations}
    wait = next(op for op in p.operations if op.kind == Kind.WAIT)
    assert ops["lab-vpn-1"].id in wait.depends_on
    assert wait.id in ops["lab-torrent-1"].depends_on


def test_a_chain_of_owners_recreates_every_link() -> None:
    def chain(**first: Any) -> Stack:
        return Stack(
            "lab",
            services=[
                Service("a", image=IMG, **first),
                Service("b", image=IMG, network_mode="service:a"),
                Service("c", image=IMG, ipc="service:b"),
            ],
        )

    before = desire([chain()])
    observed = observed_as_applied(before)
    after = desire([chain(environment={"X": "1"})])
    reasons = {op.resource: op.reason for op in plan(after, observed).operations}
    assert reasons["lab-b-1"] == "namespace owner replaced: a"
    assert reasons["lab-c-1"] == "namespace owner replaced: b"


def test_an_external_container_namespace_must_exist_at_plan_time() -> None:
    stack = Stack("lab", services=[Service("app", image=IMG, network_mode="container:gluetun")])
    desired = desire([stack])
    with pytest.raises(PlanError) as e:
        plan(desired, EMPTY)
    assert "uses network_mode container:gluetun, but no container 'gluetun' exists" in str(e.value)
    assert "hint: start that container first" in str(e.value)
    gluetun = parse_container({"Id": "f" * 64, "Names": ["/gluetun"], "State": "running"})
    present = replace(EMPTY, containers=(gluetun,))
    assert kinds(plan(desired, present)) == [("create", "lab-app-1", "missing")]


def test_create_body_per_network_mode() -> None:
    desired = desire([vpn_stack(ports=["8080:8080"])])
    vpn = container_config(unit(desired, "lab-vpn-1"), all_networks=True)
    torrent = container_config(unit(desired, "lab-torrent-1"), all_networks=True)
    ha = container_config(unit(desired, "lab-ha-1"), all_networks=True)
    assert vpn["HostConfig"]["NetworkMode"] == "lab_default"
    assert torrent["HostConfig"]["NetworkMode"] == "container:lab-vpn-1"
    assert torrent["NetworkingConfig"] == {"EndpointsConfig": {}}
    assert ha["HostConfig"]["NetworkMode"] == "host"
    assert ha["NetworkingConfig"] == {"EndpointsConfig": {}}
    # the mode as written is what the stored config holds and diffs
    assert unit(desired, "lab-torrent-1").config["network_mode"] == "service:vpn"
    # only vpn needs the default network
    assert [n.name for n in desired.networks] == ["lab_default"]
    assert unit(desired, "lab-torrent-1").depends_on == {"vpn": "service_started"}


def test_no_default_network_when_every_service_has_a_network_mode() -> None:
    stack = Stack("lab", services=[Service("ha", image=IMG, network_mode="host")])
    assert "default" not in stack.networks
    assert desire([stack]).networks == ()


def test_links_are_aliases_of_the_target_on_shared_networks_and_an_order() -> None:
    stack = Stack(
        "lab",
        services=[
            Service("db", image=IMG),
            Service("web", image=IMG, links=["db:database", "db"]),
        ],
    )
    desired = desire([stack])
    db = unit(desired, "lab-db-1")
    assert [n.aliases for n in db.networks] == [("db", "database")]
    assert unit(desired, "lab-web-1").depends_on == {"db": "service_started"}
    body = container_config(db, all_networks=True)
    assert body["NetworkingConfig"]["EndpointsConfig"]["lab_default"]["Aliases"] == [
        "db",
        "database",
    ]


HOST_SETTINGS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"ulimits": {"nofile": 1024}}, {"Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 1024}]}),
    (
        {"ulimits": {"nproc": {"soft": 64, "hard": 128}}},
        {"Ulimits": [{"Name": "nproc", "Soft": 64, "Hard": 128}]},
    ),
    ({"pids_limit": 50}, {"PidsLimit": 50}),
    ({"mem_limit": "64m"}, {"Memory": 64 * 1024 * 1024}),
    ({"memswap_limit": -1}, {"MemorySwap": -1}),
    ({"mem_reservation": "32m"}, {"MemoryReservation": 32 * 1024 * 1024}),
    ({"cpus": "0.5"}, {"NanoCpus": 500_000_000}),
    ({"cpu_shares": 512}, {"CpuShares": 512}),
    ({"cpu_quota": 50000, "cpu_period": 100000}, {"CpuQuota": 50000, "CpuPeriod": 100000}),
    ({"cpuset": "0"}, {"CpusetCpus": "0"}),
    ({"oom_score_adj": 500}, {"OomScoreAdj": 500}),
    ({"group_add": ["audio", 44]}, {"GroupAdd": ["audio", "44"]}),
    ({"ipc": "host"}, {"IpcMode": "host"}),
    ({"pid": "host"}, {"PidMode": "host"}),
    ({"userns_mode": "host"}, {"UsernsMode": "host"}),
    ({"cgroup_parent": "/lab"}, {"CgroupParent": "/lab"}),
    ({"storage_opt": {"size": "1G"}}, {"StorageOpt": {"size": "1G"}}),
    ({"runtime": "runc"}, {"Runtime": "runc"}),
]


@pytest.mark.parametrize(("fields", "host_config"), HOST_SETTINGS)
def test_host_settings_reach_the_create_body_and_the_config_hash(
    fields: dict[str, Any], host_config: dict[str, Any]
) -> None:
    plain = desire([Stack("lab", services=[Service("a", image=IMG)])])
    desired = desire([Stack("lab", services=[Service("a", image=IMG, **fields)])])
    body = container_config(desired.containers[0], all_networks=True)
    for key, value in host_config.items():
        assert body["HostConfig"][key] == value
    assert desired.containers[0].config_hash != plain.containers[0].config_hash
    # a change is a replace naming the field
    p = plan(desired, applied(plain))
    assert [op.kind for op in p.operations] == [Kind.REPLACE]
    assert p.operations[0].changes


def test_domainname_and_platform_reach_the_config() -> None:
    desired = desire(
        [Stack("lab", services=[Service("a", image=IMG, domainname="lan", platform="linux/amd64")])]
    )
    body = container_config(desired.containers[0], all_networks=True)
    assert body["Domainname"] == "lan"
    assert desired.containers[0].spec.get("platform") == "linux/amd64"


def test_service_level_limits_equal_deploy_resources() -> None:
    legacy = Service("a", image=IMG, mem_limit="1g", cpus=0.5, pids_limit=100)
    modern = Service(
        "a",
        image=IMG,
        deploy={"resources": {"limits": {"memory": "1024m", "cpus": "0.5", "pids": 100}}},
    )
    [one] = desire([Stack("lab", services=[legacy])]).containers
    [two] = desire([Stack("lab", services=[modern])]).containers
    assert one.config_hash == two.config_hash


def test_a_file_config_is_a_read_only_bind_mount_at_its_target() -> None:
    stack = Stack(
        "lab",
        services=[
            Service("web", image=IMG, configs=["app", {"source": "app", "target": "/etc/a.conf"}])
        ],
        configs={"app": {"file": "./app.conf"}},
    ).with_origin(Path("/srv/lab/compose.yaml"))
    [web] = desire([stack]).containers
    body = container_config(web, all_networks=True)
    assert body["HostConfig"]["Mounts"] == [
        {"Type": "bind", "Source": "/srv/lab/app.conf", "Target": "/app", "ReadOnly": True},
        {"Type": "bind", "Source": "/srv/lab/app.conf", "Target": "/etc/a.conf", "ReadOnly": True},
    ]
