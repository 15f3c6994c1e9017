"""Shared fixtures. Integration tests use real Docker engines (scripts/test.sh starts them;
tests/engines.py picks them: ``--engines=host,engine26``) and only ever touch resources of
stacks they named themselves (prefix ``sct``)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import docker
import pytest

from stackctl.backends.docker.observe import is_anonymous_volume
from stackctl.core.labels import COMPOSE_PROJECT, LABEL_STACK
from stackctl.engine import DockerEngine
from stackctl.lock import LOCK_LABEL

if TYPE_CHECKING:
    from tests.engines import EngineTarget

# --engines, the engine_target / docker_host / docker_client fixtures, one run per engine.
pytest_plugins = ["tests.engines", "tests.registry", "tests.sshd"]

# The swarm suite needs its three-node test-bed and runs as a pytest session of its own
# (scripts/test.sh sets STACKCTL_SWARM_TESTS=1 for it); other sessions do not collect it.
collect_ignore = [] if os.environ.get("STACKCTL_SWARM_TESTS") == "1" else ["integration/swarm"]

BUSYBOX = "stackctl-test/busybox:1"
DEBIAN = "stackctl-test/debian:bookworm"


def _client(base_url: str | None = None) -> docker.APIClient:
    if base_url is not None:
        return docker.APIClient(base_url=base_url, version="auto")
    return docker.APIClient(version="auto", **docker.utils.kwargs_from_env())


def cleanup(names: list[str], base_url: str | None = None) -> None:
    """Remove every container, network and volume labelled with one of the stacks ``names``,
    or named with one of them as prefix (things the tests made by hand), on the engine at
    ``base_url`` (default: DOCKER_HOST, or the default socket)."""
    client = _client(base_url)

    def ours(labels: dict[str, str] | None) -> bool:
        """stackctl's stack label, or docker compose's project label (adoption tests)."""
        labels = labels or {}
        return labels.get(LABEL_STACK) in names or labels.get(COMPOSE_PROJECT) in names

    doomed = [
        c["Id"]
        for c in client.containers(all=True)
        if ours(c.get("Labels"))
        or (c.get("Labels") or {}).get(LOCK_LABEL) in names  # a killed apply's daemon lock
        or any((c.get("Names") or ["/"])[0].lstrip("/").startswith(n) for n in names)
    ]

    # anonymous volumes a replacement took over are mounted by name: `rm -v` keeps them
    anonymous = {
        m["Name"]
        for c in client.containers(all=True)
        if c["Id"] in doomed
        for m in c.get("Mounts") or []
        if m.get("Type") == "volume" and is_anonymous_volume(str(m.get("Name") or ""))
    }

    def remove(cid: str) -> None:
        with contextlib.suppress(docker.errors.APIError):
            client.remove_container(cid, force=True, v=True)

    with ThreadPoolExecutor(max_workers=8) as pool:  # 50-service stacks: not one by one
        list(pool.map(remove, doomed))
    for n in client.networks():
        if ours(n.get("Labels")) or any(n["Name"].startswith(x) for x in names):
            with contextlib.suppress(docker.errors.APIError):
                client.remove_network(n["Id"])
    for v in client.volumes().get("Volumes") or []:
        if (
            ours(v.get("Labels"))
            or any(v["Name"].startswith(x) for x in names)
            or v["Name"] in anonymous
        ):
            with contextlib.suppress(docker.errors.APIError):
                client.remove_volume(v["Name"], force=True)
    client.close()


@pytest.fixture
def stack_name(engine_target: EngineTarget) -> Iterator[str]:
    """A unique stack name; everything of that stack is removed afterwards, even on failure."""
    name = f"sct{uuid.uuid4().hex[:8]}"
    yield name
    cleanup([name], engine_target.base_url)


@pytest.fixture
def stack_names(engine_target: EngineTarget) -> Iterator[list[str]]:
    """Several unique stack names (``stack_names[i]``), all cleaned up afterwards."""
    base = f"sct{uuid.uuid4().hex[:6]}"
    names = [f"{base}{chr(ord('a') + i)}" for i in range(6)]
    yield names
    cleanup(names, engine_target.base_url)


@pytest.fixture
def engine(engine_target: EngineTarget) -> Iterator[DockerEngine]:
    """stackctl's engine seam on the test's engine (one test per selected engine)."""
    eng = DockerEngine(base_url=engine_target.base_url)
    yield eng
    eng.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The plan-fidelity figure (tests/recording.py): applies whose every write was matched
    one to one against their plan, and the writes matched, per backend."""
    import sys

    recording = sys.modules.get("tests.recording")
    tally = getattr(recording, "TALLY", None)
    if not tally:
        return
    for backend in ("docker", "swarm"):
        applies = tally[f"{backend} applies"]
        if applies:
            terminalreporter.write_line(
                f"plan fidelity ({backend}): {applies} applies, "
                f"{tally[f'{backend} writes']} writes matched to their plan"
            )
