"""The secret-leak search (tests/leaks.py) on the swarm test-bed, with ``--engine swarm``:
every output, the saved plan file, every label of the services and of their tasks'
containers on every node, searched for every secret value: 0 leaks; and the values do
reach the tasks' containers (their environment)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackctl.core.labels import LABEL_STACK
from tests.integration.swarm.conftest import cleanup, client
from tests.leaks import Secrets, Stacks, Target, search_every_output

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(testbed: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stacks]:
    names = [f"scl{uuid.uuid4().hex[:6]}" for _ in range(3)]
    monkeypatch.setenv("DOCKER_HOST", testbed[0])  # the CLI runs in-process
    stacks = Stacks(tmp_path, names, Secrets(), monkeypatch)
    stacks.write()
    yield stacks
    for name in names:
        cleanup(testbed[0], name)


def labels_and_env(testbed: list[str], names: list[str]) -> tuple[str, str]:
    """Every label of the stacks' services (the service's and its tasks' template) and of
    their tasks' containers on every node, and those containers' environments."""
    labels: list[str] = []
    env: list[str] = []
    manager = client(testbed)
    for name in names:
        for s in manager.services(filters={"label": f"{LABEL_STACK}={name}"}):
            spec = s["Spec"]
            container = spec["TaskTemplate"]["ContainerSpec"]
            labels += [f"{spec['Name']}: {k}={v}" for k, v in sorted(spec["Labels"].items())]
            labels += [
                f"{spec['Name']} task: {k}={v}" for k, v in (container.get("Labels") or {}).items()
            ]
    manager.close()
    for node in range(len(testbed)):
        c = client(testbed, node)
        for name in names:
            for found in c.containers(all=True, filters={"label": f"{LABEL_STACK}={name}"}):
                info = c.inspect_container(found["Id"])
                who = f"node{node + 1} {info['Name']}"
                labels += [f"{who}: {k}={v}" for k, v in sorted(info["Config"]["Labels"].items())]
                env += [f"{who}: {e}" for e in info["Config"]["Env"] or []]
        c.close()
    return "\n".join(labels), "\n".join(env)


def test_no_secret_reaches_any_output_or_label(
    setup: Stacks, capsys: pytest.CaptureFixture[str], testbed: list[str], tmp_path: Path
) -> None:
    target = Target(
        ("--engine", "swarm"),
        lambda names: labels_and_env(testbed, names),
        "~ update (rolling) service",
    )
    search_every_output(setup, capsys, target, tmp_path)
