"""``content:`` and ``environment:`` configs on the real engine.

The engine copies each file into the created container before it starts (as Compose's
CopyToContainer): ``cat`` inside shows both, with their mode and owner; an edit of the
content is one replace; the environment value is in neither the JSON plan nor the
container's labels. The create is recorded against the plan (one copy per create).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker
import pytest

from stackctl import Service, Stack
from stackctl.core.plan import Kind
from stackctl.engine import DockerEngine
from stackctl.render import plan_json
from tests.conftest import BUSYBOX
from tests.engines import EngineTarget
from tests.integration.test_network_mode import exec_out
from tests.recording import recorded_apply
from tests.support import converge, make_plan

pytestmark = pytest.mark.integration

TOKEN = "s3cret-config-value-7d1f"


def stack_of(name: str, folder: Path, content: str) -> Stack:
    return Stack(
        name,
        services=[
            Service(
                "web",
                image=BUSYBOX,
                command=["sleep", "3600"],
                stop_grace_period="1s",
                configs=[
                    {"source": "app", "target": "/etc/app/app.conf"},
                    {"source": "token", "mode": 0o440, "uid": "1000", "gid": "100"},
                ],
            )
        ],
        configs={"app": {"content": content}, "token": {"environment": "SCT_CONFIG_TOKEN"}},
    ).with_origin(folder / "compose.yaml")


def test_content_and_environment_configs_are_copied_in_before_the_start(
    engine: DockerEngine,
    stack_name: str,
    docker_client: docker.DockerClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCT_CONFIG_TOKEN", TOKEN)
    api = docker_client.api
    name = f"{stack_name}-web-1"
    first = stack_of(stack_name, tmp_path, "answer=42\n")
    converge(engine, [first])
    assert exec_out(api, name, ["cat", "/etc/app/app.conf"]) == (0, "answer=42")
    assert exec_out(api, name, ["cat", "/token"]) == (0, TOKEN)
    assert exec_out(api, name, ["stat", "-c", "%a %u %g", "/etc/app/app.conf"]) == (0, "444 0 0")
    assert exec_out(api, name, ["stat", "-c", "%a %u %g", "/token"]) == (0, "440 1000 100")

    labels: dict[str, Any] = api.inspect_container(name)["Config"]["Labels"]
    assert TOKEN not in json.dumps(labels) and "answer=42" not in json.dumps(labels)

    assert make_plan(engine, [first]).operations == ()  # unchanged: nothing to do
    edited = stack_of(stack_name, tmp_path, "answer=43\n")
    p = make_plan(engine, [edited])
    [op] = p.operations
    assert (op.kind, op.resource, op.reason) == (
        Kind.REPLACE,
        name,
        "config file changed: /etc/app/app.conf",
    )
    shown = json.dumps(plan_json(p))
    assert TOKEN not in shown and "answer=4" not in shown
    converge(engine, [edited])
    assert exec_out(api, name, ["cat", "/etc/app/app.conf"]) == (0, "answer=43")
    assert exec_out(api, name, ["cat", "/token"]) == (0, TOKEN)


def test_the_copy_is_one_write_of_the_create_step(
    engine_target: EngineTarget,
    stack_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCT_CONFIG_TOKEN", TOKEN)
    done = recorded_apply(engine_target.base_url, [stack_of(stack_name, tmp_path, "a=1\n")])
    assert done.result.ok, done.log
    name = f"{stack_name}-web-1"
    assert done.calls[-3:] == [
        ("create_container", name),
        ("copy_configs", name),
        ("start", name),
    ]
