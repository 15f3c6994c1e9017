"""Secrets never leave stackctl: not in plans (text, JSON, saved files), labels, progress or logs.

Three kinds of secret, each with a value made up for this run:

- a typed ``Secret("...")`` in a Python stack, under a name that does not look secret;
- ``${API_TOKEN}`` / ``${DB_PASSWORD}`` from the process environment in a stack YAML and a
  compose file, also inside a longer value under a name that does not look secret
  (``AUTH_HEADER: "Bearer ${API_TOKEN}"``);
- a value from an ``env_file``.

Every command's stdout and stderr, the saved plan file and every label of the containers
made are searched for every value: the count of leaks must be 0. The values do reach the
containers (their environment), or the test would prove nothing. The scenario is
tests/leaks.py's, shared with the swarm backend (tests/integration/swarm/test_swarm_leaks.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from stackctl.core.labels import LABEL_CONFIG, LABEL_STACK
from tests.conftest import BUSYBOX
from tests.leaks import Outputs, Secrets, Stacks, Target, _value, cli, search_every_output

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(
    tmp_path: Path, stack_names: list[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stacks]:
    stacks = Stacks(tmp_path, stack_names, Secrets(), monkeypatch)
    stacks.write()
    yield stacks


def labels_and_env(client: docker.DockerClient, names: list[str]) -> tuple[str, str]:
    """Every label (key=value) of the stacks' containers, and their environments."""
    labels: list[str] = []
    env: list[str] = []
    for c in _containers(client, names):
        labels += [f"{c.name}: {k}={v}" for k, v in sorted(c.labels.items())]
        env += [f"{c.name}: {e}" for e in c.attrs["Config"]["Env"] or []]
    return "\n".join(labels), "\n".join(env)


def _containers(client: docker.DockerClient, names: list[str]) -> list[Container]:
    """The stacks' containers only (other tests' containers come and go meanwhile)."""
    return [
        c
        for name in names
        for c in client.containers.list(all=True, filters={"label": f"{LABEL_STACK}={name}"})
    ]


def test_no_secret_reaches_any_output_or_label(
    setup: Stacks,
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    tmp_path: Path,
) -> None:
    target = Target((), lambda names: labels_and_env(docker_client, names), "-/+ replace container")
    search_every_output(setup, capsys, target, tmp_path)


def test_secret_is_hashed_in_the_config_label_and_changes_the_hash(
    setup: Stacks, capsys: pytest.CaptureFixture[str], docker_client: docker.DockerClient
) -> None:
    """The config label keeps a digest per secret key: a new value is seen, not shown."""
    out = Outputs()
    code, _ = cli(capsys, out, "apply", "apply", "--yes", *setup.paths)
    assert code == 0, out.texts
    configs = {
        c.labels[LABEL_STACK]: json.loads(c.labels[LABEL_CONFIG])
        for c in _containers(docker_client, setup.names)
    }
    env = {name: cfg["env"] for name, cfg in configs.items()}
    names = setup.names
    assert env[names[0]]["APP_CONFIG"].startswith("hmac:")
    assert env[names[0]]["MODE"] == "demo"
    for key in ("API_TOKEN", "AUTH_HEADER", "SETTING_BLOB", "LEVEL"):
        assert env[names[1]][key].startswith("hmac:"), (key, env[names[1]])
    for key in ("DATABASE_URL", "DB_PASSWORD"):
        assert env[names[2]][key].startswith("hmac:"), (key, env[names[2]])
    assert out.leaks(setup.secrets.every()) == []


def test_secret_variable_in_a_command_stays_out_of_the_config_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stackctl.backends.docker.desired import desire
    from stackctl.load import load_paths

    token = _value("api-token")
    monkeypatch.setenv("API_TOKEN", token)
    path = tmp_path / "compose.yaml"
    path.write_text(
        "name: fz\n"
        "services:\n"
        "  poller:\n"
        f"    image: {BUSYBOX}\n"
        "    command: ['sh', '-c', 'wget --header \"Authorization: ${API_TOKEN}\" http://api']\n"
    )
    (container,) = desire(load_paths([path])).containers
    assert token not in json.dumps(container.labels)
    assert token not in json.dumps(container.config)
    assert token in container.spec["command"][2]  # the container itself gets the real value
