"""``apply --wait`` on a swarm checks the services (issue 17, defect 5: it checked the
containers of the docker backend's desired state, which a swarm run has none of, and said
every service was healthy)."""

from __future__ import annotations

import time

import docker
import pytest

from stackctl import Healthcheck, Service, Stack
from stackctl.backends.swarm.backend import SwarmBackend
from stackctl.backends.swarm.desired import desire_swarm
from stackctl.core.labels import LABEL_SERVICE, LABEL_STACK
from stackctl.model import Deploy, UpdateConfig
from tests.conftest import BUSYBOX
from tests.integration.swarm.conftest import client, converge

pytestmark = pytest.mark.integration

TRAP = "trap 'exit 0' TERM; "
FAST = UpdateConfig(parallelism=1, delay="0s", monitor="1s", failure_action="rollback")


def service(name: str, check: str) -> Service:
    return Service(
        name,
        image=BUSYBOX,
        command=["sh", "-c", TRAP + "touch /tmp/ready; while :; do sleep 1; done"],
        healthcheck=Healthcheck.shell(check, interval="1s", retries=2),
        deploy=Deploy(replicas=1, update_config=FAST),
    )


def test_wait_reports_a_service_that_is_not_healthy(swarm, testbed, swarm_stack):
    healthy = Stack(swarm_stack, services=[service("web", "test -f /tmp/ready")])
    converge(swarm, [healthy])
    backend = SwarmBackend()
    assert backend.wait_ready(desire_swarm([healthy]), swarm, time.time() + 60) == []

    # A service of the stack that never becomes healthy, made behind stackctl's back (a
    # rollout through stackctl would already fail): --wait must name it, not pass.
    sick = Stack(swarm_stack, services=[service("sick", "false")])
    c = client(testbed)
    spec = docker.types.ContainerSpec(
        BUSYBOX,
        command=["sh", "-c", TRAP + "while :; do sleep 1; done"],
        healthcheck=docker.types.Healthcheck(
            test=["CMD-SHELL", "false"], interval=10**9, retries=1
        ),
    )
    c.create_service(
        docker.types.TaskTemplate(spec),
        name=f"{swarm_stack}_sick",
        labels={LABEL_STACK: swarm_stack, LABEL_SERVICE: "sick"},
    )
    c.close()
    failures = backend.wait_ready(desire_swarm([sick]), swarm, time.time() + 8)
    assert len(failures) == 1, failures
    assert failures[0].startswith(f"{swarm_stack}_sick: ")
    assert "not healthy" in failures[0] or "was not" in failures[0], failures
