"""examples/matrix for real: Traefik 3, Synapse and Postgres (scripts/build-test-images.sh
builds them offline), applied from one command, then a Matrix client session through
Traefik on 127.0.0.1; then one Synapse setting changes and only Synapse is replaced.

The example runs in local mode under a unique name prefix and on free ports
(STACKCTL_MATRIX_PREFIX, MATRIX_HTTP_PORT, MATRIX_HTTPS_PORT), from a copy of the folder
(the test edits it), so a real deployment on the machine is never touched.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import docker
import pytest

from tests.conftest import cleanup
from tests.engines import EngineTarget

pytestmark = [pytest.mark.integration, pytest.mark.engines("host")]

ROOT = Path(__file__).resolve().parents[2]


def _session_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "matrix_session", ROOT / "scripts" / "matrix_session.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["matrix_session"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


matrix = _session_module()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def prefix(engine_target: EngineTarget) -> Iterator[str]:
    """A unique prefix; everything named with it is removed afterwards, even on failure."""
    name = f"sct{uuid.uuid4().hex[:8]}"
    yield f"{name}-"
    cleanup([name], engine_target.base_url)


def stackctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stackctl", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def ids(client: docker.DockerClient, prefix: str) -> dict[str, str]:
    """Our containers' ids by name without the prefix (one list call, no inspect: other
    tests' containers come and go meanwhile)."""
    listed = client.api.containers(all=True, filters={"name": prefix})
    names = {c["Names"][0].lstrip("/"): c["Id"] for c in listed}
    return {n.removeprefix(prefix): i for n, i in names.items() if n.startswith(prefix)}


def test_matrix_session_through_traefik_then_one_setting_changes(
    tmp_path: Path, prefix: str, docker_client: docker.DockerClient
) -> None:
    folder = tmp_path / "matrix"
    shutil.copytree(ROOT / "examples" / "matrix", folder)
    http = _free_port()
    env = {
        **os.environ,
        "STACKCTL_MATRIX_LOCAL": "1",
        "STACKCTL_MATRIX_PREFIX": prefix,
        "MATRIX_HTTP_PORT": str(http),
        "MATRIX_HTTPS_PORT": str(_free_port()),
    }

    applied = stackctl(env, "apply", "--yes", "--wait", str(folder))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "acknowledged: " in applied.stderr  # the docker socket, accepted with a reason

    synapse = docker_client.containers.get(f"{prefix}synapse")
    secret = (
        synapse.exec_run(["sed", "-n", "s/^registration_shared_secret: //p", "/data/secrets.yaml"])
        .output.decode()
        .strip()
    )
    assert secret
    client = matrix.Client(f"http://127.0.0.1:{http}", "matrix.localhost")
    said: list[str] = []
    first = matrix.session(client, secret, said.append)
    assert first.user_id.endswith(":matrix.localhost")
    assert said[-1].startswith("read it back")
    before = ids(docker_client, prefix)
    assert set(before) == {"traefik", "postgres", "synapse", "matrix-nginx"}

    # One Synapse setting changes: exactly one replace, Synapse's.
    stack_py = folder / "matrix" / "stack.py"
    source = stack_py.read_text()
    assert source.count('"SYNAPSE_CACHE_FACTOR": "1.0"') == 1
    stack_py.write_text(
        source.replace('"SYNAPSE_CACHE_FACTOR": "1.0"', '"SYNAPSE_CACHE_FACTOR": "2.0"')
    )
    planned = stackctl(env, "plan", "--json", str(folder))
    assert planned.returncode == 0, planned.stderr
    ops = json.loads(planned.stdout)["operations"]
    changing = [(op["kind"], op["resource"]["name"]) for op in ops if op["kind"] != "wait"]
    assert changing == [("replace", f"{prefix}synapse")]
    (replace,) = [op for op in ops if op["kind"] == "replace"]
    assert [c["path"] for c in replace["changes"]] == ["env.SYNAPSE_CACHE_FACTOR"]

    applied = stackctl(env, "apply", "--yes", "--wait", str(folder))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    after = ids(docker_client, prefix)
    assert after["synapse"] != before["synapse"]
    for name in ("traefik", "postgres", "matrix-nginx"):
        assert after[name] == before[name], f"{name} was touched"

    # The message is still there (Postgres's volume), read through Traefik again.
    again = matrix.Client(f"http://127.0.0.1:{http}", "matrix.localhost")
    matrix.wait_routed(again)
    matrix.login(again, first.user_id.split(":")[0].lstrip("@"), first.password)
    assert first.text in matrix.messages(again, first.room)

    second = stackctl(env, "plan", "--detailed-exitcode", str(folder))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "No changes." in second.stdout

    destroyed = stackctl(env, "destroy", "--yes", str(folder))
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert ids(docker_client, prefix) == {}
    volumes = {v.name for v in docker_client.volumes.list() if v.name.startswith(prefix)}
    assert volumes == {f"{prefix}matrix_pgdata", f"{prefix}matrix_synapse_data"}
