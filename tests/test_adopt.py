"""Adopting a docker compose project: data tables, no daemon.

The observed states are what a daemon shows for a project docker compose brought up from
the same stack (its labels, its container names, v1 ``lab_db_1`` or v2 ``lab-db-1``, each
container's inspect read back), then changed the way a person or an image would change it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from stackctl import Healthcheck, Ipam, IpamPool, Network, Service, Stack, Volume, healthy
from stackctl.backends.docker import adopt
from stackctl.backends.docker.desired import DesiredContainer, DesiredState, desire
from stackctl.backends.docker.observe import ObservedContainer, ObservedState
from stackctl.backends.docker.plan import plan, plan_destroy
from stackctl.backends.docker.readback import (
    differences,
    image_ref,
    read_container,
    read_image,
    wanted,
)
from stackctl.backends.swarm.backend import SwarmBackend
from stackctl.core.labels import LABEL_ADOPTED, LABEL_STACK
from stackctl.core.plan import Kind, Plan, Step
from stackctl.core.resources import ObservedNetwork, ObservedVolume
from stackctl.errors import PlanError, StackctlError
from stackctl.render import plan_json, plan_text

IMG = "busybox:1"
IMG_ID = "sha256:" + "a" * 64
IMAGE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/bin", "LANG=C.UTF-8"]
IMAGE_CMD = ["sh"]
IMAGE_LABELS = {"org.opencontainers.image.title": "busybox"}
IMAGE = read_image(
    {
        "Config": {
            "Env": IMAGE_ENV,
            "Cmd": IMAGE_CMD,
            "Labels": IMAGE_LABELS,
            "Volumes": {"/cache": {}},
            "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 30_000_000_000},
        }
    }
)


def lab(**web: Any) -> Stack:
    back = Network("back")
    db = Service(
        "db",
        image=IMG,
        restart="always",
        networks=[back],
        healthcheck=Healthcheck.shell("pg_isready", interval="1s", retries=5),
        volumes=["data:/var/lib/db"],
        environment={"DB_PASSWORD": "s3cret", "MODE": "a"},
        command=["postgres"],
    )
    options: dict[str, Any] = {
        "image": IMG,
        "networks": [back],
        "depends_on": {db: healthy},
        "ports": ["127.0.0.1:8080:80"],
        "environment": {"GREETING": "hello"},
        "labels": {"team": "web"},
        **web,
    }
    return Stack(
        "lab", services=[db, Service("web", **options)], networks=[back], volumes=[Volume("data")]
    )


def inspect_of(dc: DesiredContainer, cid: str, labels: dict[str, str]) -> dict[str, Any]:
    """A container's inspect as docker compose would have made ``dc`` (on ``IMAGE``)."""
    spec = dc.spec
    hc = spec.get("healthcheck")
    mounts = [
        {
            "Type": m["type"],
            "Name" if m["type"] == "volume" else "Source": m.get("source", ""),
            "Destination": m["target"],
            "RW": not m.get("read_only"),
        }
        for m in spec.get("mounts", [])
    ]
    mounts.append({"Type": "volume", "Name": "f" * 64, "Destination": "/cache", "RW": True})
    bindings: dict[str, list[dict[str, str]]] = {}
    for p in spec.get("ports", []):
        bindings.setdefault(f"{p['target']}/{p['protocol']}", []).append(
            {"HostIp": p.get("host_ip") or "", "HostPort": str(p.get("published") or "")}
        )
    health = None
    if hc:
        health = {"Test": hc["test"], **({"Interval": hc["interval"]} if "interval" in hc else {})}
        health |= {"Retries": hc["retries"]} if "retries" in hc else {}
    return {
        "Id": cid,
        "Config": {
            "Image": dc.image,
            "Cmd": spec.get("command") or IMAGE_CMD,
            "Entrypoint": None,
            "Env": [*IMAGE_ENV, *(f"{k}={v}" for k, v in dc.env.items())],
            "Labels": {**IMAGE_LABELS, **labels},
            "Healthcheck": health or {"Test": ["CMD-SHELL", "true"], "Interval": 30_000_000_000},
            "User": "",
            "WorkingDir": "",
        },
        "HostConfig": {
            "RestartPolicy": {"Name": spec.get("restart", "no"), "MaximumRetryCount": 0},
            "PortBindings": bindings,
            "NetworkMode": dc.networks[0].name,
            "Init": None,
            "Memory": 0,
        },
        "Mounts": mounts,
        "NetworkSettings": {
            "Networks": {
                n.name: {"Aliases": [*n.aliases, cid[:12]], "IPAMConfig": None} for n in dc.networks
            }
        },
    }


Tweak = Callable[[dict[str, Any]], None]


def composed(
    d: DesiredState,
    *,
    v1: bool = True,
    recorded: bool = False,
    tweak: dict[str, Tweak] | None = None,
    state: dict[str, str] | None = None,
    net_settings: dict[str, Any] | None = None,
    volume_driver: str = "local",
) -> ObservedState:
    """What the daemon shows after ``docker compose -p lab up`` of the same stack
    (``recorded``: after stackctl adopted it; ``tweak``: service -> a change to its
    container's inspect; ``state``: service -> its container's state)."""
    containers = []
    for i, dc in enumerate(d.containers):
        cid = f"{i + 1:064x}"
        labels = {
            "com.docker.compose.project": "lab",
            "com.docker.compose.service": dc.service,
            "com.docker.compose.container-number": "1",
            "com.docker.compose.oneoff": "False",
            "com.docker.compose.version": "1.29.2",
            **dc.spec.get("labels", {}),
        }
        raw = inspect_of(dc, cid, labels)
        if tweak and dc.service in tweak:
            tweak[dc.service](raw)
        containers.append(
            ObservedContainer(
                id=cid,
                name=f"lab_{dc.service}_1" if v1 else dc.name,
                labels=labels,
                state=(state or {}).get(dc.service, "running"),
                health=None,
                exit_code=None,
                image_id=IMG_ID,
                image=dc.image,
                networks={n.name: None for n in dc.networks},
                readback=read_container(raw),
            )
        )
    networks = tuple(
        ObservedNetwork(
            f"net-{n.name}",
            n.name,
            {"com.docker.compose.project": "lab", "com.docker.compose.network": n.key},
            "bridge",
            "local",
            settings={
                "driver": "bridge",
                "options": {},
                "internal": False,
                "attachable": True,
                "enable_ipv6": False,
                "ipam": [{"Subnet": "172.30.0.0/16", "Gateway": "172.30.0.1"}],
                "ipam_driver": "default",
                **(net_settings or {}),
            },
        )
        for n in d.networks
    )
    volumes = tuple(
        ObservedVolume(
            v.name,
            {"com.docker.compose.project": "lab", "com.docker.compose.volume": v.key},
            volume_driver,
        )
        for v in d.volumes
    )
    if recorded:
        record = {LABEL_STACK: "lab", LABEL_ADOPTED: "lab"}
        volumes += (ObservedVolume("lab_stackctl-adoption", record, "local"),)
    return ObservedState(
        containers=tuple(containers),
        networks=networks,
        volumes=volumes,
        images={IMG: IMG_ID},
        image_defaults={IMG_ID: IMAGE},
    )


def kinds(p: Plan) -> list[tuple[str, str]]:
    return [(op.kind.value, op.resource) for op in p.operations if op.kind != Kind.WAIT]


def _env(raw: dict[str, Any], entry: str) -> None:
    raw["Config"]["Env"] = [e for e in raw["Config"]["Env"] if not e.startswith("GREETING=")]
    if entry:
        raw["Config"]["Env"].append(entry)


def _set(path: str, value: Any) -> Tweak:
    section, key = path.split(".")

    def tweak(raw: dict[str, Any]) -> None:
        raw[section][key] = value

    return tweak


ADOPTED = [
    ("adopt", "lab-db-1"),
    ("adopt", "lab-web-1"),
    ("adopt-network", "lab_back"),
    ("adopt-volume", "lab_data"),
    ("create-volume", "lab_stackctl-adoption"),
]

# --------------------------------------------------------------------------- the plan

PLANS: list[tuple[str, dict[str, Any], dict[str, Any], list[tuple[str, str]]]] = [
    ("compose v1, config matches: everything adopted, nothing replaced", {}, {}, ADOPTED),
    ("compose v2 names: the same", {"v1": False}, {}, ADOPTED),
    (
        "an env var changed: that service replaced, the rest adopted",
        {"tweak": {"web": lambda raw: _env(raw, "GREETING=hi")}},
        {},
        [ADOPTED[0], ("replace", "lab-web-1"), *ADOPTED[2:]],
    ),
    (
        "an env var the stack does not set: replaced (the image does not set it either)",
        {"tweak": {"db": lambda raw: raw["Config"]["Env"].append("EXTRA=1")}},
        {},
        [("replace", "lab-db-1"), *ADOPTED[1:]],
    ),
    (
        "another command: replaced",
        {"tweak": {"db": _set("Config.Cmd", ["postgres", "-d"])}},
        {},
        [("replace", "lab-db-1"), *ADOPTED[1:]],
    ),
    (
        "another restart policy: replaced",
        {"tweak": {"web": _set("HostConfig.RestartPolicy", {"Name": "always"})}},
        {},
        [ADOPTED[0], ("replace", "lab-web-1"), *ADOPTED[2:]],
    ),
    (
        "a memory limit the stack does not set: replaced",
        {"tweak": {"web": _set("HostConfig.Memory", 64 << 20)}},
        {},
        [ADOPTED[0], ("replace", "lab-web-1"), *ADOPTED[2:]],
    ),
    (
        "already adopted (the record exists): no changes, no --adopt needed",
        {"recorded": True, "v1": False},
        {"adopt": False},
        [],
    ),
    (
        "already adopted, a field changed later: only that service replaced",
        {"recorded": True, "v1": False, "tweak": {"web": lambda raw: _env(raw, "GREETING=hi")}},
        {"adopt": False},
        [("replace", "lab-web-1")],
    ),
    (
        "already adopted, a compose v1 name not renamed yet (an apply stopped early): renamed",
        {"recorded": True},
        {"adopt": False},
        [("adopt", "lab-db-1"), ("adopt", "lab-web-1")],
    ),
    (
        "already adopted, stopped by hand: started",
        {"recorded": True, "v1": False, "state": {"web": "exited"}},
        {"adopt": False},
        [("start", "lab-web-1")],
    ),
    (
        "the image's own defaults (Env, Cmd, healthcheck, labels, VOLUME) are no difference",
        {"tweak": {"web": lambda raw: raw["Config"]["Labels"].update(IMAGE_LABELS)}},
        {},
        ADOPTED,
    ),
]


@pytest.mark.parametrize(("title", "seen", "options", "expected"), PLANS, ids=[p[0] for p in PLANS])
def test_adoption_plan(
    title: str, seen: dict[str, Any], options: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    d = desire([lab()])
    p = plan(d, composed(d, **seen), **{"adopt": True, **options})
    assert kinds(p) == expected, title


def test_without_adopt_the_project_is_one_problem_with_the_hint() -> None:
    d = desire([lab()])
    with pytest.raises(PlanError) as err:
        plan(d, composed(d))
    assert len(err.value.problems) == 1
    text = str(err.value)
    assert (
        "docker compose project 'lab' already runs here (containers: lab_db_1, lab_web_1; "
        "networks: lab_back; volumes: lab_data)"
    ) in text
    assert "rerun with --adopt" in text


def test_without_adopt_other_clashes_are_still_reported() -> None:
    d = desire([lab()])
    seen = composed(d)
    stranger = ObservedNetwork("n-x", "lab_back", {}, "bridge", "local")
    seen = replace(seen, networks=(stranger,))  # a label-less network holds the name
    with pytest.raises(PlanError) as err:
        plan(d, seen)
    assert len(err.value.problems) == 2
    assert "network 'lab_back' already exists and belongs to nobody" in str(err.value)


def test_adopt_renames_a_compose_v1_name_and_runs_nothing_else() -> None:
    d = desire([lab()])
    p = plan(d, composed(d), adopt=True)
    ops = p.by_id()
    db = ops["container:lab-db-1"]
    assert db.steps == (Step.RENAME,) and db.target_id == f"{1:064x}"
    assert "renamed from lab_db_1" in db.notes[0]
    v2 = plan(d, composed(d, v1=False), adopt=True).by_id()["container:lab-db-1"]
    assert v2.steps == (Step.ADOPT,)


def test_a_stopped_compose_container_is_adopted_and_started() -> None:
    d = desire([lab()])
    p = plan(d, composed(d, v1=False, state={"web": "exited"}), adopt=True)
    assert p.by_id()["container:lab-web-1"].steps == (Step.START,)


def test_the_record_is_made_after_the_adoptions() -> None:
    d = desire([lab()])
    p = plan(d, composed(d), adopt=True)
    record = p.by_id()["volume:lab_stackctl-adoption"]
    assert record.volume is not None and record.volume.labels == {
        LABEL_STACK: "lab",
        LABEL_ADOPTED: "lab",
    }
    assert set(record.depends_on) >= {
        "container:lab-db-1",
        "container:lab-web-1",
        "adopt-network:lab_back",
        "adopt-volume:lab_data",
    }


def test_a_changed_field_shows_in_the_plan_and_env_secrets_stay_hidden() -> None:
    d = desire([lab()])
    tweak = {"db": lambda raw: raw["Config"]["Env"].append("DB_PASSWORD=other")}
    p = plan(d, composed(d, tweak=tweak), adopt=True)
    op = p.by_id()["container:lab-db-1"]
    assert op.kind == Kind.REPLACE
    assert op.reason == "made by docker compose, config changed: env.DB_PASSWORD"
    assert [c.sensitive for c in op.changes] == [True]
    assert "other" not in plan_text(p) and "s3cret" not in plan_text(p)


def test_a_secret_looking_variable_only_the_container_has_is_not_shown() -> None:
    d = desire([lab()])
    tweak = {"web": lambda raw: raw["Config"]["Env"].append("API_TOKEN=tok-123")}
    p = plan(d, composed(d, tweak=tweak), adopt=True)
    op = p.by_id()["container:lab-web-1"]
    assert [(c.path, c.sensitive) for c in op.changes] == [("env.API_TOKEN", True)]
    assert "tok-123" not in plan_text(p)
    assert "tok-123" not in str(plan_json(p))


def test_plan_text_and_json_say_adopt() -> None:
    d = desire([lab()])
    p = plan(d, composed(d), adopt=True)
    text = plan_text(p)
    assert "  = adopt container lab-db-1  (made by docker compose, config matches)" in text
    assert "= adopt network lab_back" in text and "= adopt volume lab_data" in text
    assert "4 to adopt" in text
    data = plan_json(p)
    assert data["summary"]["adopt"] == 4
    assert data["operations"][0]["steps"] == ["rename"]


def test_an_image_tag_that_moved_is_a_replace() -> None:
    d = desire([lab()])
    seen = replace(composed(d), images={IMG: "sha256:" + "b" * 64})
    assert kinds(plan(d, seen, adopt=True))[:2] == [
        ("replace", "lab-db-1"),
        ("replace", "lab-web-1"),
    ]


NETWORK_ERRORS = [
    ("internal", {"internal": True}, "internal (True here, False in the stack)"),
    ("driver", {"driver": "macvlan"}, "driver ('macvlan' here, 'bridge' in the stack)"),
    ("options", {"options": {"com.docker.network.bridge.name": "br1"}}, "options ("),
]


@pytest.mark.parametrize(
    ("title", "settings", "words"), NETWORK_ERRORS, ids=[n[0] for n in NETWORK_ERRORS]
)
def test_a_network_that_differs_is_a_plan_error_never_a_recreate(
    title: str, settings: dict[str, Any], words: str
) -> None:
    d = desire([lab()])
    with pytest.raises(PlanError) as err:
        plan(d, composed(d, net_settings=settings), adopt=True)
    text = str(err.value)
    assert "network 'lab_back' (made by docker compose, adopted by stack 'lab')" in text
    assert words in text and "never recreated" in text and "hint:" in text


def test_a_pool_the_daemon_picked_is_no_difference_but_a_subnet_the_stack_sets_is() -> None:
    back = Network("back", ipam=Ipam(config=[IpamPool(subnet="10.9.0.0/24")]))
    stack = Stack("lab", services=[Service("web", image=IMG, networks=[back])], networks=[back])
    d = desire([stack])
    with pytest.raises(PlanError, match="ipam"):
        plan(d, composed(d), adopt=True)
    same = {"ipam": [{"Subnet": "10.9.0.0/24"}]}
    assert ("adopt-network", "lab_back") in kinds(
        plan(d, composed(d, net_settings=same), adopt=True)
    )


def test_a_volume_with_another_driver_is_a_plan_error() -> None:
    d = desire([lab()])
    with pytest.raises(PlanError, match=r"volume 'lab_data' .* differs .* driver"):
        plan(d, composed(d, volume_driver="nfs"), adopt=True)


def test_a_compose_service_no_longer_in_the_stack_is_an_orphan_once_adopted() -> None:
    d = desire([lab()])
    seen = composed(d, recorded=True)
    extra = replace(
        seen.containers[1],
        id="9" * 64,
        name="lab_old_1",
        labels={**seen.containers[1].labels, "com.docker.compose.service": "old"},
    )
    p = plan(d, replace(seen, containers=(*seen.containers, extra)))
    assert [(o.noun, o.name) for o in p.orphans] == [("container", "lab-old-1")]


def test_a_compose_run_container_is_neither_adopted_nor_refused() -> None:
    d = desire([lab()])
    seen = composed(d, recorded=True, v1=False)
    oneoff = replace(
        seen.containers[1],
        id="8" * 64,
        name="lab_web_run_1234",
        labels={**seen.containers[1].labels, "com.docker.compose.oneoff": "True"},
    )
    p = plan(d, replace(seen, containers=(*seen.containers, oneoff)))
    assert not p.has_changes and not p.orphans


def test_destroy_removes_what_compose_made_volumes_only_when_asked() -> None:
    d = desire([lab()])
    seen = composed(d, recorded=True)
    p = plan_destroy(d, seen)
    assert sorted(kinds(p)) == [
        ("remove", "lab-db-1"),
        ("remove", "lab-web-1"),
        ("remove-network", "lab_back"),
    ]
    assert any("lab_stackctl-adoption" in u for u in p.unchanged)  # kept with the data
    full = plan_destroy(d, seen, volumes=True)
    removed = [r for k, r in kinds(full) if k == "remove-volume"]
    assert removed == ["lab_data", "lab_stackctl-adoption"]  # the record last
    record = full.by_id()["remove-volume:lab_stackctl-adoption"]
    assert "remove-volume:lab_data" in record.depends_on


def test_destroy_leaves_a_compose_project_that_was_never_adopted_alone() -> None:
    d = desire([lab()])
    assert kinds(plan_destroy(d, composed(d), volumes=True)) == []


def test_swarm_refuses_adopt() -> None:
    with pytest.raises(StackctlError, match="--adopt is not supported on the swarm engine"):
        SwarmBackend().plan(None, None, prune=False, adopt=True)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ownership

OWNERSHIP = [
    ("stackctl's label", {LABEL_STACK: "lab"}, set(), True),
    ("another stack's label", {LABEL_STACK: "other"}, {"lab"}, False),
    ("compose project, adopted", {"com.docker.compose.project": "lab"}, {"lab"}, True),
    ("compose project, not adopted", {"com.docker.compose.project": "lab"}, set(), False),
    ("another compose project", {"com.docker.compose.project": "x"}, {"lab"}, False),
    (
        "compose run (one-off)",
        {"com.docker.compose.project": "lab", "com.docker.compose.oneoff": "True"},
        {"lab"},
        False,
    ),
    ("no labels", {}, {"lab"}, False),
]


@pytest.mark.parametrize(
    ("title", "labels", "adopted", "owned"), OWNERSHIP, ids=[o[0] for o in OWNERSHIP]
)
def test_owned_by(title: str, labels: dict[str, str], adopted: set[str], owned: bool) -> None:
    assert adopt.owned_by(labels, "lab", adopted) is owned, title


def test_owned_view_relabels_and_renames_only_adopted_projects() -> None:
    d = desire([lab()])
    view = adopt.owned(composed(d, recorded=True))
    db = view.container("lab-db-1")
    assert db is not None and db.stack == "lab" and db.service == "db"
    assert db.adopted_from == "lab_db_1"
    assert {n.stack for n in view.networks} == {"lab"}
    assert {v.stack for v in view.volumes} == {"lab"}
    untouched = adopt.owned(composed(d))  # no record: nothing is the stack's
    assert untouched.container("lab_db_1") is not None
    assert {c.stack for c in untouched.containers} == {None}


# --------------------------------------------------------------------------- readback

REFS = [
    ("busybox", "busybox:latest"),
    ("docker.io/library/busybox:1", "busybox:1"),
    ("ghcr.io/o/app", "ghcr.io/o/app:latest"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("app@sha256:abc", "app@sha256:abc"),
]


@pytest.mark.parametrize(("ref", "canonical"), REFS)
def test_image_refs_compare_canonically(ref: str, canonical: str) -> None:
    assert image_ref(ref) == canonical


def _web() -> DesiredContainer:
    return next(c for c in desire([lab()]).containers if c.service == "web")


def _diff(tweak: Tweak | None = None, image: dict[str, Any] | None = IMAGE) -> list[str]:
    dc = _web()
    raw = inspect_of(dc, "c" * 64, {"com.docker.compose.project": "lab", "team": "web"})
    if tweak is not None:
        tweak(raw)
    found = differences(
        read_container(raw),
        wanted(dc.spec, dc.env, dc.image),
        image,
        sensitive=sorted(dc.sensitive),
    )
    return [c.path for c in found]


def _alias(raw: dict[str, Any]) -> None:
    raw["NetworkSettings"]["Networks"]["lab_back"]["Aliases"].append("extra")


def _published(raw: dict[str, Any]) -> None:
    raw["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"] = "9090"


def _mount_source(raw: dict[str, Any]) -> None:
    raw["Mounts"].append({"Type": "bind", "Source": "/srv", "Destination": "/srv", "RW": False})


READBACK: list[tuple[str, Tweak | None, list[str]]] = [
    ("as made: no difference", None, []),
    ("the daemon's short-id alias is no difference", None, []),
    ("a value changed", lambda raw: _env(raw, "GREETING=hi"), ["env.GREETING"]),
    ("a variable gone", lambda raw: _env(raw, ""), ["env.GREETING"]),
    (
        "a user label changed",
        lambda raw: raw["Config"]["Labels"].update(team="ops"),
        ["labels.team"],
    ),
    (
        "compose's own labels are no difference",
        lambda raw: raw["Config"]["Labels"].update({"com.docker.compose.config-hash": "x"}),
        [],
    ),
    ("another published port", _published, ["ports[0].published"]),
    ("an extra alias", _alias, ["networks.lab_back.aliases"]),
    ("an extra bind mount", _mount_source, ["mounts"]),
    ("init on", lambda raw: raw["HostConfig"].update(Init=True), ["init"]),
    ("another user", lambda raw: raw["Config"].update(User="nobody"), ["user"]),
    (
        "another health check than the image's",
        lambda raw: raw["Config"].update(Healthcheck={"Test": ["CMD", "false"]}),
        ["healthcheck.test"],
    ),
    (
        "restart on-failure with retries",
        lambda raw: raw["HostConfig"].update(
            RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 3}
        ),
        ["restart"],
    ),
    ("another image", lambda raw: raw["Config"].update(Image="busybox:2"), ["image"]),
    ("a capability added", lambda raw: raw["HostConfig"].update(CapAdd=["NET_ADMIN"]), ["cap_add"]),
    ("capabilities dropped", lambda raw: raw["HostConfig"].update(CapDrop=["ALL"]), ["cap_drop"]),
    ("a read-only root", lambda raw: raw["HostConfig"].update(ReadonlyRootfs=True), ["read_only"]),
    (
        "an extra host",
        lambda raw: raw["HostConfig"].update(ExtraHosts=["gw:172.17.0.1"]),
        ["extra_hosts.gw"],
    ),
    ("a DNS server", lambda raw: raw["HostConfig"].update(Dns=["9.9.9.9"]), ["dns"]),
    ("empty DNS lists are none", lambda raw: raw["HostConfig"].update(Dns=[], DnsSearch=[]), []),
    (
        "a sysctl",
        lambda raw: raw["HostConfig"].update(Sysctls={"net.core.somaxconn": "1024"}),
        ["sysctls.net.core.somaxconn"],
    ),
    (
        "a security option",
        lambda raw: raw["HostConfig"].update(SecurityOpt=["no-new-privileges:true"]),
        ["security_opt"],
    ),
    (
        "a terminal",
        lambda raw: raw["Config"].update(Tty=True, OpenStdin=True),
        ["stdin_open", "tty"],
    ),
]

HOST_SETTINGS: list[tuple[str, dict[str, Any], Tweak]] = [
    (
        "capabilities in either spelling and order",
        {"cap_add": ["NET_ADMIN", "SYS_TIME"]},
        lambda raw: raw["HostConfig"].update(CapAdd=["CAP_SYS_TIME", "CAP_NET_ADMIN"]),
    ),
    (
        "extra hosts as host:ip or host=ip",
        {"extra_hosts": ["gw:172.17.0.1", "db=10.0.0.2"]},
        lambda raw: raw["HostConfig"].update(ExtraHosts=["gw=172.17.0.1", "db:10.0.0.2"]),
    ),
    (
        "an IPv6 extra host",
        {"extra_hosts": ["v6=::1"]},
        lambda raw: raw["HostConfig"].update(ExtraHosts=["v6:::1"]),
    ),
    (
        "sysctls and security options as set",
        {"sysctls": {"net.core.somaxconn": 1024}, "security_opt": ["no-new-privileges:true"]},
        lambda raw: raw["HostConfig"].update(
            Sysctls={"net.core.somaxconn": "1024"}, SecurityOpt=["no-new-privileges:true"]
        ),
    ),
    (
        "read-only, DNS and a terminal as set",
        {"read_only": True, "dns": ["9.9.9.9"], "tty": True, "stdin_open": True},
        lambda raw: (
            raw["HostConfig"].update(ReadonlyRootfs=True, Dns=["9.9.9.9"]),
            raw["Config"].update(Tty=True, OpenStdin=True),
        ),
    ),
]


@pytest.mark.parametrize(
    ("title", "options", "tweak"), HOST_SETTINGS, ids=[h[0] for h in HOST_SETTINGS]
)
def test_host_settings_the_stack_sets_match_the_container_compose_made(
    title: str, options: dict[str, Any], tweak: Tweak
) -> None:
    dc = next(c for c in desire([lab(**options)]).containers if c.service == "web")
    raw = inspect_of(dc, "c" * 64, {"team": "web"})
    tweak(raw)
    wanted_config = wanted(dc.spec, dc.env, dc.image)
    assert [c.path for c in differences(read_container(raw), wanted_config, IMAGE)] == [], title
    # and the same container without them differs in exactly those fields
    plain = next(c for c in desire([lab()]).containers if c.service == "web")
    found = differences(read_container(raw), wanted(plain.spec, plain.env, plain.image), IMAGE)
    assert found, title


@pytest.mark.parametrize(("title", "tweak", "paths"), READBACK, ids=[r[0] for r in READBACK])
def test_readback_differences(title: str, tweak: Tweak | None, paths: list[str]) -> None:
    assert _diff(tweak) == paths, title


def test_without_the_image_its_defaults_count_as_differences() -> None:
    assert "env.PATH" in _diff(image=None)


def test_a_command_equal_to_the_image_default_is_no_difference() -> None:
    dc = _web()
    spec = {**dc.spec, "command": IMAGE_CMD}
    raw = inspect_of(dc, "c" * 64, {"team": "web"})
    assert differences(read_container(raw), wanted(spec, dc.env, dc.image), IMAGE) == ()
