"""Planner data tables: desired stacks + an observed snapshot -> operations, or the error.

No daemon: observed states are built as plain data, starting from "exactly as applied"
and changed the way a real daemon would show each situation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from stackctl import Healthcheck, Network, Service, ServiceNetwork, Stack, Volume, healthy
from stackctl.backends.docker.desired import DesiredState, desire
from stackctl.backends.docker.observe import ObservedContainer, ObservedState
from stackctl.backends.docker.plan import plan, plan_destroy
from stackctl.core.plan import Kind, Plan
from stackctl.core.resources import ObservedNetwork, ObservedVolume
from stackctl.errors import PlanError
from stackctl.render import plan_json, plan_text

IMG = "busybox:1"
IMG_ID = "sha256:" + "a" * 64


def homelab(**db_overrides: Any) -> Stack:
    back = Network("back")
    db = Service(
        "db",
        image=IMG,
        restart="always",
        networks=[back],
        healthcheck=Healthcheck.shell("true", interval="1s"),
        volumes=["data:/var/lib/db"],
        environment={"DB_PASSWORD": "s3cret", "MODE": "a"},
        **db_overrides,
    )
    web = Service("web", image=IMG, networks=[back], depends_on={db: healthy}, ports=["8080:80"])
    return Stack("lab", services=[db, web], networks=[back], volumes=[Volume("data")])


def applied(desired: DesiredState, **kw: Any) -> ObservedState:
    """What the daemon shows right after a successful apply of ``desired``."""
    containers = tuple(
        ObservedContainer(
            id=f"id-{c.name}",
            name=c.name,
            labels=dict(c.labels),
            state="running",
            health="healthy" if c.has_healthcheck else None,
            exit_code=None,
            image_id=IMG_ID,
            image=c.image,
            networks={n.name: None for n in c.networks},
        )
        for c in desired.containers
    )
    networks = tuple(
        ObservedNetwork(f"net-{n.name}", n.name, dict(n.labels), n.driver, "local")
        for n in desired.networks
    ) + tuple(
        ObservedNetwork(f"net-{e.name}", e.name, {}, "bridge", "local")
        for e in desired.external_networks
        if e.provided_by is None
    )
    volumes = tuple(ObservedVolume(v.name, dict(v.labels), "local") for v in desired.volumes)
    images = {i: IMG_ID for i in desired.images}
    state = ObservedState(containers=containers, networks=networks, volumes=volumes, images=images)
    return replace(state, **kw)


def with_container(observed: ObservedState, name: str, **changes: Any) -> ObservedState:
    return replace(
        observed,
        containers=tuple(
            replace(c, **changes) if c.name == name else c for c in observed.containers
        ),
    )


def without_container(state: ObservedState, name: str) -> ObservedState:
    return replace(state, containers=tuple(c for c in state.containers if c.name != name))


def kinds(p: Plan) -> list[tuple[str, str]]:
    return [(op.kind.value, op.resource) for op in p.operations]


def index(p: Plan, op_id: str) -> int:
    return [op.id for op in p.operations].index(op_id)


# --------------------------------------------------------------------------- tables

EMPTY = ObservedState(images={IMG: IMG_ID})

Scenario = Callable[[DesiredState], ObservedState]

CASES: list[tuple[str, Scenario, list[tuple[str, str]]]] = [
    (
        "empty daemon: everything created, in order",
        lambda d: EMPTY,
        [
            ("create-network", "lab_back"),
            ("create-volume", "lab_data"),
            ("create", "lab-db-1"),
            ("wait", "db"),
            ("create", "lab-web-1"),
        ],
    ),
    ("in place: nothing to do", applied, []),
    (
        "stopped by hand: start",
        lambda d: with_container(applied(d), "lab-web-1", state="exited", exit_code=137),
        [("wait", "db"), ("start", "lab-web-1")],
    ),
    (
        "dependency stopped: started; its running dependent is left alone",
        lambda d: with_container(applied(d), "lab-db-1", state="exited", exit_code=0),
        [("start", "lab-db-1")],
    ),
    (
        "paused: unpause",
        lambda d: with_container(applied(d), "lab-web-1", state="paused"),
        [("wait", "db"), ("unpause", "lab-web-1")],
    ),
    (
        "container removed by hand: create, after waiting for its dependency",
        lambda d: without_container(applied(d), "lab-web-1"),
        [("wait", "db"), ("create", "lab-web-1")],
    ),
    (
        "image tag now names another image: replace",
        lambda d: replace(applied(d), images={IMG: "sha256:" + "b" * 64}),
        [("replace", "lab-db-1"), ("wait", "db"), ("replace", "lab-web-1")],
    ),
    (
        "image missing: pull before create",
        lambda d: replace(EMPTY, images={}),
        [
            ("create-network", "lab_back"),
            ("create-volume", "lab_data"),
            ("pull", "busybox:1"),
            ("create", "lab-db-1"),
            ("wait", "db"),
            ("create", "lab-web-1"),
        ],
    ),
    (
        "disconnected from its network by hand: replace",
        lambda d: with_container(applied(d), "lab-web-1", networks={}),
        [("wait", "db"), ("replace", "lab-web-1")],
    ),
    (
        "network removed by hand while containers exist: network created, containers replaced",
        lambda d: replace(
            with_container(
                with_container(applied(d), "lab-web-1", networks={}), "lab-db-1", networks={}
            ),
            networks=(),
        ),
        [
            ("create-network", "lab_back"),
            ("replace", "lab-db-1"),
            ("wait", "db"),
            ("replace", "lab-web-1"),
        ],
    ),
    (
        "volume removed by hand: created again",
        lambda d: replace(applied(d), volumes=()),
        [("create-volume", "lab_data")],
    ),
]


@pytest.mark.parametrize(("title", "scenario", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan_table(title: str, scenario: Scenario, expected: list[tuple[str, str]]) -> None:
    desired = desire([homelab()])
    result = plan(desired, scenario(desired))
    assert kinds(result) == expected, title
    assert result.has_changes == bool(expected)


def steps(p: Plan) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(op.kind.value, op.resource, tuple(s.value for s in op.steps)) for op in p.operations]


REPLACE_STEPS = (
    "remove-temp",
    "create-temp",
    "stop-old",
    "start-new",
    "wait-ready",
    "remove-old",
    "rename",
)

# Each operation on a container names the steps the executor runs, in order.
STEP_CASES: list[tuple[str, Scenario, list[tuple[str, str, tuple[str, ...]]]]] = [
    (
        "create: create, start",
        lambda d: without_container(applied(d), "lab-web-1"),
        [("wait", "db", ()), ("create", "lab-web-1", ("create", "start"))],
    ),
    (
        "stopped: start",
        lambda d: with_container(applied(d), "lab-web-1", state="exited", exit_code=137),
        [("wait", "db", ()), ("start", "lab-web-1", ("start",))],
    ),
    (
        "paused: unpause (not start)",
        lambda d: with_container(applied(d), "lab-web-1", state="paused"),
        [("wait", "db", ()), ("unpause", "lab-web-1", ("unpause",))],
    ),
    (
        "replace: the new one under a temporary name first, stop the old, start and wait for "
        "the new, then remove the old and rename",
        lambda d: with_container(applied(d), "lab-web-1", networks={}),
        [("wait", "db", ()), ("replace", "lab-web-1", REPLACE_STEPS)],
    ),
    (
        "dead: replaced by the same steps",
        lambda d: with_container(applied(d), "lab-db-1", state="dead"),
        [("replace", "lab-db-1", REPLACE_STEPS)],
    ),
    (
        "leftover of an interrupted replace: stop, remove",
        lambda d: replace(
            applied(d),
            containers=(
                *applied(d).containers,
                replace(applied(d).containers[0], id="tmp", name="lab-db-1_stackctl-new"),
            ),
        ),
        [("remove", "lab-db-1_stackctl-new", ("stop", "remove"))],
    ),
]


@pytest.mark.parametrize(
    ("title", "scenario", "expected"), STEP_CASES, ids=[c[0] for c in STEP_CASES]
)
def test_plan_steps_table(
    title: str, scenario: Scenario, expected: list[tuple[str, str, tuple[str, ...]]]
) -> None:
    desired = desire([homelab()])
    assert steps(plan(desired, scenario(desired))) == expected, title


def test_steps_are_in_the_json_plan_and_unpause_counts_as_a_change() -> None:
    desired = desire([homelab()])
    result = plan(desired, with_container(applied(desired), "lab-web-1", state="paused"))
    data = plan_json(result)
    (op,) = [o for o in data["operations"] if o["kind"] == "unpause"]
    assert op["steps"] == ["unpause"]
    assert op["action"] == "unpause"
    assert data["summary"]["change"] == 1
    assert "~ unpause container lab-web-1  (paused)" in plan_text(result)


def test_destroy_removes_by_steps() -> None:
    desired = desire([homelab()])
    result = plan_destroy(desired, applied(desired))
    removes = [op for op in result.operations if op.kind == Kind.REMOVE]
    assert removes and all(tuple(op.steps) == ("stop", "remove") for op in removes)


# --------------------------------------------------------------------------- rules


def test_empty_daemon_orders_networks_and_volumes_before_containers() -> None:
    result = plan(desire([homelab()]), EMPTY)
    web = index(result, "container:lab-web-1")
    db = index(result, "container:lab-db-1")
    assert index(result, "network:lab_back") < db < index(result, "wait:lab/db:service_healthy")
    assert index(result, "wait:lab/db:service_healthy") < web
    assert set(result.by_id()["container:lab-web-1"].depends_on) == {
        "network:lab_back",
        "wait:lab/db:service_healthy",
    }
    assert "volume:lab_data" in result.by_id()["container:lab-db-1"].depends_on


def test_one_changed_variable_is_one_replace_naming_it() -> None:
    before = desire([homelab()])
    after = desire([homelab(labels={"x": "1"})])
    result = plan(after, applied(before))
    replaced = [op for op in result.operations if op.kind == Kind.REPLACE]
    assert [op.resource for op in replaced] == ["lab-db-1"]
    assert [c.path for c in replaced[0].changes] == ["labels.x"]
    assert replaced[0].reason == "config changed: labels.x"
    # the dependent waits for the replaced dependency but is not replaced itself
    assert [op.kind for op in result.operations] == [Kind.REPLACE]


def test_env_change_names_the_variable() -> None:
    before = desire([homelab()])
    stack = homelab()
    db = stack.services["db"].model_copy(
        update={"environment": {"DB_PASSWORD": "s3cret", "MODE": "b"}}
    )
    after = desire([stack.model_copy(update={"services": {**stack.services, "db": db}})])
    result = plan(after, applied(before))
    (op,) = [op for op in result.operations if op.kind == Kind.REPLACE]
    assert [(c.path, c.old, c.new) for c in op.changes] == [("env.MODE", "a", "b")]


def test_secret_change_is_shown_as_sensitive_everywhere() -> None:
    before = desire([homelab()])
    stack = homelab()
    db = stack.services["db"].model_copy(
        update={"environment": {"DB_PASSWORD": "n3w-s3cret", "MODE": "a"}}
    )
    after = desire([stack.model_copy(update={"services": {**stack.services, "db": db}})])
    result = plan(after, applied(before))
    (op,) = [op for op in result.operations if op.kind == Kind.REPLACE]
    assert op.changes[0].path == "env.DB_PASSWORD" and op.changes[0].sensitive
    text = plan_text(result)
    blob = str(plan_json(result))
    assert "(sensitive value)" in text
    for leak in ("s3cret", "n3w-s3cret"):
        assert leak not in text and leak not in blob
    for c in after.containers:
        assert all("s3cret" not in v for v in c.labels.values())


def test_oneshot_that_exited_zero_is_done_and_one_that_failed_is_started() -> None:
    stack = Stack("job", services=[Service("migrate", image=IMG, restart="no")])
    desired = desire([stack])
    ok = with_container(applied(desired), "job-migrate-1", state="exited", exit_code=0)
    assert plan(desired, ok).operations == ()
    failed = with_container(applied(desired), "job-migrate-1", state="exited", exit_code=3)
    (op,) = plan(desired, failed).operations
    assert (op.kind, op.reason) == (Kind.START, "exited with code 3")


def test_unmanaged_container_holding_a_name_is_an_error_with_a_hint() -> None:
    desired = desire([homelab()])
    state = with_container(applied(desired), "lab-web-1", labels={})
    with pytest.raises(PlanError) as err:
        plan(desired, state)
    assert "lab-web-1" in str(err.value) and "docker rm -f lab-web-1" in str(err.value)


def test_compose_container_holding_a_name_points_at_compose_down() -> None:
    desired = desire([homelab()])
    state = with_container(
        applied(desired), "lab-web-1", labels={"com.docker.compose.project": "lab"}
    )
    with pytest.raises(PlanError, match="docker compose -p lab down"):
        plan(desired, state)


def test_unmanaged_network_holding_a_name_is_an_error() -> None:
    desired = desire([homelab()])
    state = applied(desired)
    state = replace(state, networks=(ObservedNetwork("n1", "lab_back", {}, "bridge", "local"),))
    with pytest.raises(PlanError, match="network 'lab_back' already exists"):
        plan(desired, state)


def _matrix_pair() -> tuple[Stack, Stack]:
    edge = Network("default", name="traefik_default")
    traefik = Stack("traefik", services=[Service("traefik", image=IMG)], networks=[edge])
    ext = Network("traefik_default", external=True)
    matrix = Stack(
        "matrix", services=[Service("synapse", image=IMG, networks=[ext])], networks=[ext]
    )
    return traefik, matrix


def test_missing_external_network_is_an_error_naming_it() -> None:
    _, matrix = _matrix_pair()
    with pytest.raises(PlanError) as err:
        plan(desire([matrix]), EMPTY)
    assert "external network 'traefik_default' (used by matrix) does not exist" in str(err.value)


def test_external_network_of_another_planned_stack_is_created_first() -> None:
    traefik, matrix = _matrix_pair()
    result = plan(desire([traefik, matrix]), EMPTY)
    synapse = result.by_id()["container:matrix-synapse-1"]
    assert "network:traefik_default" in synapse.depends_on
    assert index(result, "network:traefik_default") < index(result, synapse.id)


def test_external_networks_are_never_created() -> None:
    _, matrix = _matrix_pair()
    state = replace(
        EMPTY, networks=(ObservedNetwork("x", "traefik_default", {}, "bridge", "local"),)
    )
    result = plan(desire([matrix]), state)
    assert kinds(result) == [("create", "matrix-synapse-1")]


def test_orphans_warn_without_prune_and_are_removed_with_it() -> None:
    old = desire([homelab()])
    stack = homelab()
    smaller = stack.model_copy(update={"services": {"db": stack.services["db"]}})
    desired = desire([smaller])
    state = applied(old)
    result = plan(desired, state)
    assert result.operations == () and not result.has_changes  # kept: not a change
    assert [(o.noun, o.name, o.service) for o in result.orphans] == [
        ("container", "lab-web-1", "web")
    ]
    text = plan_text(result)
    assert "orphan: web  (container lab-web-1, kept; --prune removes it)" in text
    assert "No changes. The daemon matches the stack. 1 orphan kept (--prune removes)." in text
    assert plan_json(result)["orphans"] == [
        {"type": "container", "name": "lab-web-1", "stack": "lab", "service": "web"}
    ]
    pruned = plan(desired, state, prune=True)
    assert kinds(pruned) == [("remove", "lab-web-1")]
    assert pruned.orphans == ()


def test_status_lists_an_orphan_container() -> None:
    from stackctl.backends.docker.status import status_table

    old = desire([homelab()])
    stack = homelab()
    smaller = desire([stack.model_copy(update={"services": {"db": stack.services["db"]}})])
    rows = status_table(smaller, applied(old)).rows
    assert [(r["container"], r["sync"].split(" ")[0]) for r in rows] == [
        ("lab-db-1", "in"),
        ("lab-web-1", "orphan"),
    ]


def test_changed_network_is_replaced_with_our_containers_reconnected() -> None:
    old = desire([homelab()])
    stack = homelab()
    nets = {"back": Network("back", internal=True)}
    desired = desire([stack.model_copy(update={"networks": nets})])
    result = plan(desired, applied(old))
    (op,) = [op for op in result.operations if op.kind == Kind.REPLACE_NETWORK]
    assert "internal" in op.reason
    assert sorted(name for name, _ in op.reconnect) == ["lab-db-1", "lab-web-1"]
    assert dict(op.reconnect)["lab-db-1"].aliases == ("db",)


def test_changed_network_with_foreign_containers_attached_is_an_error() -> None:
    old = desire([homelab()])
    stack = homelab()
    desired = desire(
        [stack.model_copy(update={"networks": {"back": Network("back", internal=True)}})]
    )
    state = applied(old)
    intruder = ObservedContainer(
        "x", "intruder", {}, "running", None, None, IMG_ID, IMG, {"lab_back": None}
    )
    state = replace(state, containers=(*state.containers, intruder))
    with pytest.raises(PlanError, match="intruder"):
        plan(desired, state)


def _pair(names: tuple[str | None, str | None] = (None, None)) -> list[Stack]:
    """Volume ``a_b`` of stack ``x`` and volume ``b`` of stack ``x_a``: both ``x_a_b``
    (or, with ``names``, the ``name:`` each declares)."""

    def one(stack: str, key: str, name: str | None) -> Stack:
        service = Service("s", image=IMG, volumes=[f"{key}:/v"])
        return Stack(stack, services=[service], volumes=[Volume(key, name=name)])

    return [one("x", "a_b", names[0]), one("x_a", "b", names[1])]


def _only_x(state: ObservedState, owner: dict[str, str]) -> ObservedState:
    return replace(state, volumes=(ObservedVolume("x_a_b", owner, "local"),))


X_OWNS = {"io.stackctl.stack": "x", "io.stackctl.volume": "a_b"}

# (title, stacks, observed, words the error holds): a volume the stack would create is
# never mounted when someone else holds its Docker name, on any daemon state.
OWNERSHIP_ERRORS: list[tuple[str, Callable[[], list[Stack]], Scenario, tuple[str, ...]]] = [
    (
        "label-less volume with the stack's default name",
        lambda: [homelab()],
        lambda d: replace(applied(d), volumes=(ObservedVolume("lab_data", {}, "local"),)),
        ("volume 'lab_data'", "no stackctl labels", "external: true", "name: lab_data"),
    ),
    (
        "label-less volume with the name: the stack declares (not external)",
        lambda: [homelab().model_copy(update={"volumes": {"data": Volume("data", name="pg")}})],
        lambda d: replace(applied(d), volumes=(ObservedVolume("pg", {}, "local"),)),
        ("volume 'pg'", "no stackctl labels", "external: true"),
    ),
    (
        "a docker compose project's volume",
        lambda: [homelab()],
        lambda d: replace(
            applied(d),
            volumes=(ObservedVolume("lab_data", {"com.docker.compose.project": "lab"}, "local"),),
        ),
        ("docker compose project 'lab' already runs here (volumes: lab_data)", "--adopt"),
    ),
    (
        "another stack's volume: a_b of x and b of x_a are both x_a_b (x applied first)",
        lambda: _pair()[1:],
        lambda d: _only_x(EMPTY, X_OWNS),
        ("volume 'x_a_b'", "stack 'x' (its volume 'a_b')", "another `name:`"),
    ),
    (
        "two stacks of one plan claim one volume name",
        lambda: _pair(),
        lambda d: EMPTY,
        ("claimed by volume 'a_b' of stack 'x' and volume 'b' of stack 'x_a'", "external: true"),
    ),
    (
        "two stacks of one plan claim one volume name, which exists as x's",
        lambda: _pair(),
        lambda d: _only_x(EMPTY, X_OWNS),
        ("claimed by volume 'a_b' of stack 'x' and volume 'b' of stack 'x_a'",),
    ),
    (
        "two volumes of one stack name one Docker volume",
        lambda: [
            Stack(
                "y",
                services=[Service("s", image=IMG, volumes=["p:/p", "q:/q"])],
                volumes=[Volume("p", name="same"), Volume("q", name="same")],
            )
        ],
        lambda d: EMPTY,
        ("claimed by volume 'p' of stack 'y' and volume 'q' of stack 'y'",),
    ),
    (
        "two stacks of one plan claim one network name",
        lambda: [
            Stack("x", services=[Service("s", image=IMG, networks=["a_b"])],
                  networks=[Network("a_b")]),
            Stack("x_a", services=[Service("s", image=IMG, networks=["b"])],
                  networks=[Network("b")]),
        ],
        lambda d: EMPTY,
        ("network 'x_a_b' is claimed by network 'a_b' of stack 'x'",),
    ),
    (
        "another stack's network",
        lambda: [homelab()],
        lambda d: replace(
            applied(d),
            networks=(
                ObservedNetwork("n1", "lab_back", {"io.stackctl.stack": "other"}, "bridge",
                                "local"),
            ),
        ),
        ("network 'lab_back' already exists and belongs to stack 'other'", "external: true"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("title", "stacks", "scenario", "words"),
    OWNERSHIP_ERRORS,
    ids=[c[0] for c in OWNERSHIP_ERRORS],
)
def test_a_name_someone_else_holds_is_a_plan_error_with_a_hint(
    title: str, stacks: Callable[[], list[Stack]], scenario: Scenario, words: tuple[str, ...]
) -> None:
    desired = desire(stacks())
    with pytest.raises(PlanError) as err:
        plan(desired, scenario(desired))
    text = str(err.value)
    for word in words:
        assert word in text, (title, text)


def test_the_owner_stack_itself_and_an_external_volume_plan_cleanly() -> None:
    x, x_a = _pair()
    own = plan(desire([x]), _only_x(EMPTY, X_OWNS))
    assert "volume x_a_b" in own.unchanged and not own.warnings
    assert not [op for op in own.operations if op.kind == Kind.CREATE_VOLUME]
    ext = x_a.model_copy(update={"volumes": {"b": Volume("b", name="x_a_b", external=True)}})
    shared = plan(desire([ext]), _only_x(EMPTY, X_OWNS))
    assert not shared.warnings
    assert not [op for op in shared.operations if op.kind == Kind.CREATE_VOLUME]


def test_leftover_temporary_container_of_an_interrupted_replace_is_removed() -> None:
    desired = desire([homelab()])
    state = applied(desired)
    leftover = replace(state.containers[0], id="tmp", name="lab-db-1_stackctl-new")
    state = replace(state, containers=(*state.containers, leftover))
    result = plan(desired, state)
    assert kinds(result) == [("remove", "lab-db-1_stackctl-new")]


def test_fingerprint_changes_with_what_the_plan_depends_on() -> None:
    desired = desire([homelab()])
    a = plan(desired, applied(desired)).fingerprint
    b = plan(desired, with_container(applied(desired), "lab-web-1", state="exited")).fingerprint
    assert a != b
    assert a == plan(desired, applied(desired)).fingerprint


# --------------------------------------------------------------------------- destroy


def test_destroy_removes_dependents_first_then_networks_and_keeps_volumes() -> None:
    desired = desire([homelab()])
    result = plan_destroy(desired, applied(desired))
    assert kinds(result) == [
        ("remove", "lab-web-1"),
        ("remove", "lab-db-1"),
        ("remove-network", "lab_back"),
    ]
    assert any("lab_data" in u for u in result.unchanged)


def test_destroy_with_volumes_removes_them_last() -> None:
    desired = desire([homelab()])
    result = plan_destroy(desired, applied(desired), volumes=True)
    assert kinds(result)[-1] == ("remove-volume", "lab_data")


def test_destroy_never_touches_external_or_foreign_resources() -> None:
    _, matrix = _matrix_pair()
    desired = desire([matrix])
    state = applied(desired)
    foreign = ObservedContainer("f", "other", {}, "running", None, None, IMG_ID, IMG, {})
    state = replace(state, containers=(*state.containers, foreign))
    result = plan_destroy(desired, state)
    assert kinds(result) == [("remove", "matrix-synapse-1")]


def test_second_destroy_does_nothing() -> None:
    desired = desire([homelab()])
    assert plan_destroy(desired, ObservedState()).operations == ()


def test_leftover_temporary_is_removed_before_the_replace_that_reuses_its_name() -> None:
    before = desire([homelab()])
    after = desire([homelab(labels={"x": "1"})])
    state = applied(before)
    leftover = replace(state.containers[0], id="tmp", name="lab-db-1_stackctl-new")
    state = replace(state, containers=(*state.containers, leftover))
    result = plan(after, state)
    replace_op = result.by_id()["container:lab-db-1"]
    assert "remove:lab-db-1_stackctl-new" in replace_op.depends_on
    assert index(result, "remove:lab-db-1_stackctl-new") < index(result, replace_op.id)


def test_created_but_never_connected_container_is_replaced_not_started() -> None:
    """A kill between create and connect (API < 1.44) leaves it on its first network only."""
    stack = homelab()
    two = stack.model_copy(
        update={
            "networks": {**stack.networks, "front": Network("front")},
            "services": {
                **stack.services,
                "web": stack.services["web"].model_copy(
                    update={"networks": {"back": ServiceNetwork(), "front": ServiceNetwork()}}
                ),
            },
        }
    )
    desired = desire([two])
    state = with_container(
        applied(desired), "lab-web-1", state="created", networks={"lab_back": None}
    )
    kinds_ = [
        (op.kind, op.resource) for op in plan(desired, state).operations if op.kind != Kind.WAIT
    ]
    assert kinds_ == [(Kind.REPLACE, "lab-web-1")]


def test_fixed_address_held_by_a_container_outside_the_plan_is_an_error() -> None:
    net = Network("lan", ipam={"subnet": "10.9.0.0/24"})
    svc = Service("dns", image=IMG, networks={net: ServiceNetwork(ipv4_address="10.9.0.53")})
    desired = desire([Stack("edge", services=[svc], networks=[net])])
    intruder = ObservedContainer(
        "i", "intruder", {}, "running", None, None, IMG_ID, IMG, {"edge_lan": "10.9.0.53"}
    )
    state = replace(EMPTY, containers=(intruder,))
    with pytest.raises(PlanError, match=r"10\.9\.0\.53.*intruder"):
        plan(desired, state)


def test_plan_text_has_one_header_per_stack_and_images_apart() -> None:
    from stackctl.core.plan import Operation

    def op(kind: Kind, resource: str, stack: str | None) -> Operation:
        return Operation(f"{kind.value}:{resource}", kind, resource, stack, "missing")

    ops = (
        op(Kind.PULL, "nginx:1.25", None),
        op(Kind.CREATE_NETWORK, "traefik_default", "traefik"),
        op(Kind.CREATE_NETWORK, "matrix_network", "matrix"),
        op(Kind.CREATE, "traefik", "traefik"),
        op(Kind.CREATE, "postgres", "matrix"),
    )
    text = plan_text(Plan(ops, ("traefik", "matrix"), "fp", "1.41"))
    headers = [line for line in text.splitlines() if line.startswith("#")]
    assert headers == ["# images", "# stack traefik", "# stack matrix"]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[:7] == [
        "# images",
        "+ pull image nginx:1.25  (missing)",
        "# stack traefik",
        "+ create network traefik_default  (missing)",
        "+ create container traefik  (missing)",
        "# stack matrix",
        "+ create network matrix_network  (missing)",
    ]
    single = plan_text(Plan(ops[:2], ("traefik",), "fp", "1.41"))
    assert "#" not in single


# --------------------------------------------------------------------------- docker update


def _settings(restart: str = "always", **resources: int) -> dict[str, Any]:
    return {"restart": restart, "resources": resources}


def _limited() -> Stack:
    from stackctl.model import Deploy

    deploy = Deploy.model_validate(
        {"resources": {"limits": {"memory": "128m", "cpus": 0.5, "pids": 100}}}
    )
    return Stack("lim", services=[Service("app", image=IMG, restart="always", deploy=deploy)])


LIMITS = {"memory": 128 * 2**20, "nano_cpus": 500_000_000, "pids_limit": 100}


@pytest.mark.parametrize(
    ("settings", "state", "expected"),
    [
        (None, "running", None),  # not inspected: nothing to compare
        (_settings(**LIMITS), "running", None),  # as applied
        (  # docker update --restart no --memory 64m
            _settings("no", **{**LIMITS, "memory": 64 * 2**20}),
            "running",
            ("update", ("update",), ["resources.memory", "restart"]),
        ),
        (  # docker update --pids-limit 0 (lifted): the API can set it back
            _settings(**{k: v for k, v in LIMITS.items() if k != "pids_limit"}),
            "exited",
            ("update", ("update", "start"), ["resources.pids_limit"]),
        ),
        (  # a limit the stack does not have: the API reads 0 as "unchanged"
            _settings(**LIMITS, memory_reservation=2**20),
            "running",
            ("replace", None, ["resources.memory_reservation"]),
        ),
    ],
)
def test_drift_in_what_docker_update_changes(
    settings: dict[str, Any] | None, state: str, expected: tuple[str, Any, list[str]] | None
) -> None:
    desired = desire([_limited()])
    observed = with_container(applied(desired), "lim-app-1", settings=settings, state=state)
    p = plan(desired, observed)
    if expected is None:
        assert not p.has_changes
        return
    kind, steps, paths = expected
    (op,) = p.operations
    assert op.kind.value == kind and op.reason.startswith("drift: ")
    assert [c.path for c in op.changes] == paths
    if steps is not None:
        assert [s.value for s in op.steps] == list(steps)
    assert "(docker update)" in op.reason or kind == "replace"
    if kind == "update":
        assert "~ update in place container lim-app-1" in plan_text(p)
        assert "1 to change" in plan_text(p)


def test_update_body_sets_what_the_stack_says() -> None:
    from stackctl.engine.docker import update_config

    (dc,) = desire([_limited()]).containers
    assert update_config(dc) == {
        "RestartPolicy": {"Name": "always"},
        "PidsLimit": 100,
        "Memory": 128 * 2**20,
        "MemorySwap": 256 * 2**20,
        "NanoCpus": 500_000_000,
    }
    (plain,) = desire([Stack("p", services=[Service("a", image=IMG)])]).containers
    assert update_config(plain) == {"RestartPolicy": {"Name": "no"}, "PidsLimit": 0}


# --------------------------------------------------------------------------- image updates

OLD_DIGEST, NEW_DIGEST = "sha256:" + "1" * 64, "sha256:" + "2" * 64


@pytest.mark.parametrize(
    ("registry", "errors", "policy", "expected"),
    [
        ({}, {}, None, []),  # not asked
        ({IMG: OLD_DIGEST}, {}, None, []),  # current
        ({IMG: OLD_DIGEST}, {}, "always", []),  # always, current: nothing to pull
        ({IMG: NEW_DIGEST}, {}, None, [("pull", IMG), ("replace", "u-app-1")]),
        ({IMG: NEW_DIGEST}, {}, "always", [("pull", IMG), ("replace", "u-app-1")]),
        ({}, {IMG: "unauthorized"}, None, []),  # a warning only
        ({}, {IMG: "unauthorized"}, "always", [("pull", IMG)]),  # pulled as before
    ],
)
def test_image_update_available(
    registry: dict[str, str], errors: dict[str, str], policy: str | None, expected: list[Any]
) -> None:
    desired = desire([Stack("u", services=[Service("app", image=IMG, pull_policy=policy)])])
    observed = replace(
        applied(desired),
        images={IMG: IMG_ID, f"busybox@{OLD_DIGEST}": IMG_ID},
        registry=registry,
        registry_errors=errors,
    )
    p = plan(desired, observed)
    assert kinds(p) == expected
    if expected and expected[0][0] == "pull" and registry:
        assert p.operations[0].reason == (
            f"image update available: {IMG} (sha256:111111111111… → sha256:222222222222…)"
        )
    assert bool(errors) == any("could not ask the registry" in w for w in p.warnings)
