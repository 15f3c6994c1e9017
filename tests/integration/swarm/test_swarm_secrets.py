"""Defect 2 of issue 17 on the three-node test-bed: a service's file secret reaches its
tasks as a swarm secret at /run/secrets/<key>, with the file's content. The service's
health check compares the file with the expected content (so the rollout converges only
if it matches) and its log prints the file; a new content is a new secret and one
rolling update; destroy removes the stack's secrets.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from stackctl import Healthcheck, Secret, Service, Stack
from stackctl.core.labels import LABEL_STACK
from stackctl.core.plan import Kind
from stackctl.model import Deploy, SecretSource
from tests.conftest import BUSYBOX
from tests.integration.swarm.conftest import client, converge, destroy, make_plan

pytestmark = pytest.mark.integration


def secret_stack(name: str, folder: Path, content: str) -> Stack:
    (folder / "token.txt").write_text(content)
    app = Service(
        "app",
        image=BUSYBOX,
        command=[
            "sh",
            "-c",
            "trap 'exit 0' TERM; echo \"token=$(cat /run/secrets/token)\"; "
            "while :; do sleep 0.2; done",
        ],
        secrets=["token"],
        environment={"EXPECTED": Secret(content)},
        healthcheck=Healthcheck.shell(
            '[ "$(cat /run/secrets/token)" = "$EXPECTED" ]', interval="1s", retries=10
        ),
        deploy=Deploy(replicas=1, endpoint_mode="dnsrr"),
    )
    stack = Stack(name, services=[app], secrets=[SecretSource("token", file="token.txt")])
    return stack.with_origin(folder / "stack.py")


def logs_of(testbed: list[str], service: str, want: str, timeout: float = 30) -> str:
    c = client(testbed)
    end = time.time() + timeout
    text = ""
    while time.time() < end:
        raw = c.service_logs(service, stdout=True, stderr=True)
        text = (
            b"".join(raw).decode(errors="replace") if not isinstance(raw, bytes) else raw.decode()
        )
        if want in text:
            break
        time.sleep(0.5)
    return text


def test_a_file_secret_is_in_the_task_and_rotates(swarm, testbed, swarm_stack, tmp_path):
    content = f"s3cret-{uuid.uuid4().hex[:8]}"
    stack = secret_stack(swarm_stack, tmp_path, content)
    c = client(testbed)
    try:
        p, _ = converge(swarm, [stack])  # healthy only if the file holds `content`
        assert Kind.CREATE_SECRET in [op.kind for op in p.operations]
        assert f"token={content}" in logs_of(testbed, f"{swarm_stack}_app", f"token={content}")
        ours = c.secrets(filters={"label": f"{LABEL_STACK}={swarm_stack}"})
        assert len(ours) == 1 and ours[0]["Spec"]["Name"].startswith(f"{swarm_stack}_token_")
        assert not make_plan(swarm, [stack]).has_changes

        rotated = secret_stack(swarm_stack, tmp_path, content + "-2")
        p, _ = converge(swarm, [rotated])
        assert [op.kind for op in p.operations if op.kind != Kind.WAIT] == [
            Kind.CREATE_SECRET,
            Kind.UPDATE_SERVICE,
            Kind.REMOVE_SECRET,
        ]
        assert len(c.secrets(filters={"label": f"{LABEL_STACK}={swarm_stack}"})) == 1
        assert not make_plan(swarm, [rotated]).has_changes

        destroy(swarm, [rotated])
        assert c.secrets(filters={"label": f"{LABEL_STACK}={swarm_stack}"}) == []
    finally:
        for s in c.services(filters={"label": f"{LABEL_STACK}={swarm_stack}"}):
            c.remove_service(s["ID"])
        for s in c.secrets(filters={"label": f"{LABEL_STACK}={swarm_stack}"}):
            for _ in range(40):  # in use until the service's tasks are gone
                try:
                    c.remove_secret(s["ID"])
                    break
                except Exception:
                    time.sleep(0.5)
