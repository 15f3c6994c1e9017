"""The three-node swarm test-bed (scripts/swarm-testbed.sh), up for the session and torn
down by a finalizer even when tests fail.

These tests run only with STACKCTL_SWARM_TESTS=1 (scripts/test.sh sets it for its swarm
step): they need root, network namespaces and ~10 s to start three dockerds, and two
test runs at once would share the test-bed's fixed names. The HOST engine is never put
into swarm mode: the nodes are separate dockerds on their own sockets.
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import docker
import pytest

from stackctl.backends.swarm.desired import desire_swarm
from stackctl.backends.swarm.observe import SwarmObservedState, observe_swarm
from stackctl.backends.swarm.plan import plan_swarm as plan
from stackctl.backends.swarm.plan import plan_swarm_destroy as plan_destroy
from stackctl.core.labels import LABEL_STACK
from stackctl.core.plan import Plan
from stackctl.engine.swarm import SwarmEngine
from stackctl.execute import ApplyResult
from stackctl.model import Stack
from tests.recording import Recording, RecordingSwarmEngine, run_recorded

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "swarm-testbed.sh"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def testbed(request: pytest.FixtureRequest) -> list[str]:
    """The node sockets, manager first."""
    request.addfinalizer(
        lambda: subprocess.run(["bash", str(SCRIPT), "down"], check=False, timeout=300)
    )
    out = subprocess.run(
        ["bash", str(SCRIPT), "up"], check=True, capture_output=True, text=True, timeout=300
    )
    sockets = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("node")]
    assert len(sockets) == 3, out.stdout + out.stderr
    return sockets


@pytest.fixture
def swarm(testbed: list[str]) -> Iterator[SwarmEngine]:
    """The manager, its writes recorded: every apply of this suite through ``run`` is
    matched one to one against its plan (tests/recording.py)."""
    eng = RecordingSwarmEngine(base_url=testbed[0])
    yield eng
    eng.close()


def client(testbed: Sequence[str], node: int = 0) -> docker.APIClient:
    return docker.APIClient(base_url=testbed[node], version="auto")


def cleanup(sock: str, name: str) -> None:
    c = docker.APIClient(base_url=sock, version="auto")
    for s in c.services():
        spec = s.get("Spec") or {}
        if (spec.get("Labels") or {}).get(LABEL_STACK) == name or spec.get("Name", "").startswith(
            name
        ):
            with contextlib.suppress(docker.errors.APIError):
                c.remove_service(s["ID"])
    for _ in range(60):
        nets = [
            n
            for n in c.networks()
            if (n.get("Labels") or {}).get(LABEL_STACK) == name or n["Name"].startswith(name)
        ]
        for n in nets:
            with contextlib.suppress(docker.errors.APIError):
                c.remove_network(n["Id"])
        if not nets:
            break
        import time

        time.sleep(0.5)
    c.close()


@pytest.fixture
def swarm_stack(testbed: list[str]) -> Iterator[str]:
    name = f"scw{uuid.uuid4().hex[:6]}"
    yield name
    cleanup(testbed[0], name)


def _observe(engine: SwarmEngine) -> SwarmObservedState:
    observed = observe_swarm(engine)
    if isinstance(engine, Recording):
        engine.learn(observed)  # the names of the ids the plan will act on
    return observed


def make_plan(engine: SwarmEngine, stacks: Sequence[Stack], **kw: bool) -> Plan:
    return plan(desire_swarm(stacks), _observe(engine), **kw)


def run(engine: SwarmEngine, p: Plan, wait_timeout: float = 120) -> tuple[ApplyResult, str]:
    """Apply ``p``; its writes are checked against it (``engine``: the ``swarm`` fixture)."""
    assert isinstance(engine, Recording), "apply through the recording `swarm` fixture"
    result, log, _ = run_recorded(engine, p, wait_timeout=wait_timeout)
    return result, log


def converge(
    engine: SwarmEngine, stacks: Sequence[Stack], wait_timeout: float = 120, **kw: bool
) -> tuple[Plan, ApplyResult]:
    p = make_plan(engine, stacks, **kw)
    result, log = run(engine, p, wait_timeout)
    assert result.ok, log
    return p, result


def destroy(engine: SwarmEngine, stacks: Sequence[Stack]) -> Plan:
    p = plan_destroy(desire_swarm(stacks), _observe(engine))
    result, log = run(engine, p)
    assert result.ok, log
    return p


def writes(engine: SwarmEngine) -> int:
    calls = engine.call_counts()
    return calls["POST"] + calls["DELETE"] + calls["PUT"]
