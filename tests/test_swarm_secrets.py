"""Defect 2 of issue 17: on swarm, a service's file secrets are Docker swarm secrets.

Desired state (name from a digest of the content, labels, spec reference, hash), the
planner (create before the service, old content removed after its users moved, destroy)
and the executor's dispatch to the engine. No daemon.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stackctl import Service, Stack
from stackctl.backends.swarm.desired import (
    SECRET_MODE,
    SwarmDesiredState,
    SwarmSecret,
    desire_swarm,
    engine_spec,
)
from stackctl.backends.swarm.observe import ObservedSecret, ObservedService, SwarmObservedState
from stackctl.backends.swarm.plan import plan_swarm, plan_swarm_destroy
from stackctl.backends.swarm.run import ServiceRunner
from stackctl.core.labels import LABEL_SECRET, LABEL_STACK
from stackctl.core.plan import Kind, Plan
from stackctl.core.resources import ObservedNetwork
from stackctl.core.run import RunOptions
from stackctl.errors import InvalidStackError, PlanError
from stackctl.model import SecretSource, ServiceSecret
from stackctl.render import plan_json, plan_text

CONTENT = "file-secret-content-7f3a9c"


def secret_stack(tmp_path: Path, content: str = CONTENT, **use: Any) -> Stack:
    (tmp_path / "db_password.txt").write_text(content)
    app = Service(
        "app",
        image="busybox:1",
        secrets=[ServiceSecret(source="db_password", **use)],
        command=["sleep", "1d"],
    )
    stack = Stack(
        "fs", services=[app], secrets=[SecretSource("db_password", file="db_password.txt")]
    )
    return stack.with_origin(tmp_path / "stack.py")


def applied(d: SwarmDesiredState, version: int = 3) -> SwarmObservedState:
    """A swarm where ``d`` was applied exactly."""
    return SwarmObservedState(
        services=tuple(
            ObservedService(
                id=f"id-{s.name}",
                name=s.name,
                version=version,
                labels=s.labels,
                spec=engine_spec(s),
                update_state=None,
                update_message="",
            )
            for s in d.services
        ),
        networks=tuple(
            ObservedNetwork(
                id=f"nid-{n.name}", name=n.name, labels=n.labels, driver="overlay", scope="swarm"
            )
            for n in d.networks
        ),
        secrets=tuple(ObservedSecret(f"sid-{x.name}", x.name, x.labels) for x in d.secrets),
    )


def ops(p: Plan) -> list[tuple[Kind, str]]:
    return [(op.kind, op.resource) for op in p.operations if op.kind != Kind.CREATE_NETWORK]


def test_a_file_secret_is_a_swarm_secret_named_by_a_digest_of_its_content(
    tmp_path: Path,
) -> None:
    d = desire_swarm([secret_stack(tmp_path)])
    (secret,) = d.secrets
    assert (
        secret.name.startswith("fs_db_password_")
        and len(secret.name) == len("fs_db_password_") + 12
    )
    assert secret.data == CONTENT.encode()
    assert secret.labels == {LABEL_STACK: "fs", LABEL_SECRET: "db_password"}
    (svc,) = d.services
    container = engine_spec(svc)["TaskTemplate"]["ContainerSpec"]
    assert container["Secrets"] == [
        {
            "SecretName": secret.name,
            "File": {"Name": "/run/secrets/db_password", "UID": "0", "GID": "0", "Mode": 0o444},
        }
    ]
    assert svc.config["secrets"] == [
        {"name": secret.name, "target": "/run/secrets/db_password", "mode": SECRET_MODE}
    ]
    everything = json.dumps([svc.config, svc.labels, engine_spec(svc), secret.labels])
    assert CONTENT not in everything


def test_a_target_and_a_mode_are_kept(tmp_path: Path) -> None:
    d = desire_swarm([secret_stack(tmp_path, target="pw", mode=0o400)])
    ref = engine_spec(d.services[0])["TaskTemplate"]["ContainerSpec"]["Secrets"][0]
    assert ref["File"]["Name"] == "/run/secrets/pw" and ref["File"]["Mode"] == 0o400


def test_a_changed_content_is_a_new_secret_and_a_changed_config_hash(tmp_path: Path) -> None:
    one = desire_swarm([secret_stack(tmp_path)])
    two = desire_swarm([secret_stack(tmp_path, content="other-content-1234")])
    assert one.secrets[0].name != two.secrets[0].name
    assert one.services[0].config_hash != two.services[0].config_hash
    again = desire_swarm([secret_stack(tmp_path)])
    assert again.services[0].config_hash == one.services[0].config_hash


def test_an_unreadable_secret_file_is_a_located_problem(tmp_path: Path) -> None:
    stack = secret_stack(tmp_path)
    (tmp_path / "db_password.txt").unlink()
    with pytest.raises(InvalidStackError) as e:
        desire_swarm([stack])
    (diag,) = e.value.diagnostics
    assert diag.code == "secret-file-missing" and "db_password.txt" in diag.message


def test_the_secret_is_created_before_the_service_and_never_shown(tmp_path: Path) -> None:
    d = desire_swarm([secret_stack(tmp_path)])
    p = plan_swarm(d, SwarmObservedState())
    name = d.secrets[0].name
    assert ops(p) == [
        (Kind.CREATE_SECRET, name),
        (Kind.CREATE_SERVICE, "fs_app"),
    ]
    assert f"secret:{name}" in p.by_id()["service:fs_app"].depends_on
    text = plan_text(p) + json.dumps(plan_json(p))
    assert f"create secret {name}" in text
    assert CONTENT not in text


def test_an_applied_secret_is_unchanged(tmp_path: Path) -> None:
    d = desire_swarm([secret_stack(tmp_path)])
    assert not plan_swarm(d, applied(d)).has_changes


def test_a_new_content_creates_the_new_secret_updates_then_removes_the_old(
    tmp_path: Path,
) -> None:
    old = desire_swarm([secret_stack(tmp_path)])
    new = desire_swarm([secret_stack(tmp_path, content="rotated-content-99")])
    p = plan_swarm(new, applied(old))
    assert ops(p) == [
        (Kind.CREATE_SECRET, new.secrets[0].name),
        (Kind.UPDATE_SERVICE, "fs_app"),
        (Kind.REMOVE_SECRET, old.secrets[0].name),
    ]
    update = p.by_id()["service:fs_app"]
    assert [c.path for c in update.changes] == ["secrets[0].name"]
    assert p.by_id()[f"remove-secret:{old.secrets[0].name}"].depends_on == ("service:fs_app",)


def test_a_secret_of_someone_else_under_the_name_is_refused(tmp_path: Path) -> None:
    d = desire_swarm([secret_stack(tmp_path)])
    obs = SwarmObservedState(secrets=(ObservedSecret("x", d.secrets[0].name, {}),))
    with pytest.raises(PlanError, match="will not take it over"):
        plan_swarm(d, obs)


def test_a_missing_external_secret_is_a_plan_error(tmp_path: Path) -> None:
    app = Service("app", image="busybox:1", secrets=["ext"])
    stack = Stack("fs", services=[app], secrets=[SecretSource("ext", external=True, name="shared")])
    d = desire_swarm([stack])
    assert d.secrets[0].external and d.secrets[0].name == "shared"
    with pytest.raises(PlanError, match="external secret 'shared'"):
        plan_swarm(d, SwarmObservedState())
    present = SwarmObservedState(secrets=(ObservedSecret("x", "shared", {}),))
    assert ops(plan_swarm(d, present)) == [(Kind.CREATE_SERVICE, "fs_app")]


def test_destroy_removes_the_stacks_secrets_after_their_services(tmp_path: Path) -> None:
    d = desire_swarm([secret_stack(tmp_path)])
    p = plan_swarm_destroy(d, applied(d))
    assert ops(p) == [
        (Kind.REMOVE_SERVICE, "fs_app"),
        (Kind.REMOVE_NETWORK, "fs_default"),
        (Kind.REMOVE_SECRET, d.secrets[0].name),
    ]
    assert p.by_id()[f"remove-secret:{d.secrets[0].name}"].depends_on == ("remove-service:fs_app",)


class FakeSecrets:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def create_secret(self, secret: SwarmSecret) -> str:
        self.calls.append(("create", secret.name))
        return "sid"

    def remove_secret(self, ref: str) -> None:
        self.calls.append(("remove", ref))


def test_the_swarm_runner_calls_the_engine_for_secret_operations(tmp_path: Path) -> None:
    d = desire_swarm([secret_stack(tmp_path)])
    (create,) = [
        op for op in plan_swarm(d, SwarmObservedState()).operations if op.kind == Kind.CREATE_SECRET
    ]
    destroy = [
        op for op in plan_swarm_destroy(d, applied(d)).operations if op.kind == Kind.REMOVE_SECRET
    ]
    engine = FakeSecrets()
    runner = ServiceRunner(engine, RunOptions())  # type: ignore[arg-type]
    for op in (create, *destroy):
        runner.run(op, lambda _text: None)
    assert engine.calls == [("create", d.secrets[0].name), ("remove", f"sid-{d.secrets[0].name}")]
