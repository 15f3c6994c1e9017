"""Image updates against real registries (tests/registry.py): push v1, apply, push a new
image under the same tag; plan --pull shows the update, apply --pull pulls and replaces in
the same run, and a second plan has nothing to do. Credentials come from DOCKER_CONFIG."""

from __future__ import annotations

import contextlib
import io
import textwrap
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from stackctl.cli import main
from tests.conftest import BUSYBOX
from tests.registry import PASSWORD, Registry

# the test registries listen on this machine's loopback, which the second engine (its own
# network namespace) cannot reach
pytestmark = [pytest.mark.integration, pytest.mark.engines("host")]

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


@pytest.fixture
def repo_names(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Image refs a test pushes; their local tags are removed afterwards."""
    names: list[str] = []
    yield names
    for ref in names:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(ref, force=True)


def push(client: docker.DockerClient, reg: Registry, ref: str, version: str) -> str:
    """Build a new image (BUSYBOX with a label) as ``ref`` and push it: its digest."""
    old = _local_id(client, ref)
    dockerfile = f"FROM {BUSYBOX}\nLABEL io.stackctl.test.version={version}\n"
    client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=ref, rm=True)
    repo, _, tag = ref.rpartition(":")
    for line in client.api.push(repo, tag=tag, auth_config=reg.auth, stream=True, decode=True):
        assert "error" not in line, line
    digest = str(client.images.get_registry_data(ref, auth_config=reg.auth).id)
    if old is not None:  # as if pushed from elsewhere: the tag here stays on the old image
        client.api.tag(old, repo, tag)
    return digest


def _local_id(client: docker.DockerClient, ref: str) -> str | None:
    try:
        return str(client.images.get(ref).id)
    except docker.errors.ImageNotFound:
        return None


def stack_file(folder: Path, name: str, image: str, policy: str | None = None) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    extra = f", pull_policy={policy!r}" if policy else ""
    (folder / "stack.py").write_text(
        textwrap.dedent(
            f"""
            from stackctl import Service, Stack
            stack = Stack("{name}", services=[
                Service("app", image="{image}", command={LOOP!r}{extra}),
            ])
            """
        )
    )
    return str(folder)


@pytest.mark.parametrize("private", [False, True], ids=["open", "htpasswd"])
def test_plan_pull_shows_the_update_and_apply_pull_replaces_in_one_run(
    private, registries, tmp_path, stack_name, docker_client, repo_names, capsys, monkeypatch
) -> None:
    reg = registries[1] if private else registries[0]
    monkeypatch.setenv("DOCKER_CONFIG", str(reg.docker_config(tmp_path / "docker")))
    ref = f"{reg.host}/{stack_name}/app:1"
    repo_names.append(ref)
    v1 = push(docker_client, reg, ref, "1")
    path = stack_file(tmp_path / "s", stack_name, ref)
    assert main(["apply", "--yes", path]) == 0
    capsys.readouterr()
    assert main(["plan", "--pull", "--detailed-exitcode", path]) == 0  # up to date
    capsys.readouterr()

    v2 = push(docker_client, reg, ref, "2")  # a new image under the same tag
    assert main(["plan", "--detailed-exitcode", path]) == 0  # without --pull: not asked
    capsys.readouterr()
    assert main(["plan", "--pull", "--detailed-exitcode", path]) == 2
    out = capsys.readouterr().out
    assert f"+ pull image {ref}  (image update available: {ref} ({v1[:19]}… → {v2[:19]}…))" in out
    assert f"-/+ replace container {stack_name}-app-1  (image update available: {ref})" in out
    assert PASSWORD not in out

    assert main(["apply", "--pull", "--yes", path]) == 0
    out = capsys.readouterr().out
    assert PASSWORD not in out
    running = docker_client.containers.get(f"{stack_name}-app-1")
    assert running.image.labels["io.stackctl.test.version"] == "2"
    assert main(["plan", "--pull", "--detailed-exitcode", path]) == 0
    assert main(["plan", "--detailed-exitcode", path]) == 0


def test_pull_policy_always_replaces_in_the_same_apply_and_is_quiet_when_current(
    registries, tmp_path, stack_name, docker_client, repo_names, capsys, monkeypatch
) -> None:
    reg = registries[0]
    monkeypatch.setenv("DOCKER_CONFIG", str(reg.docker_config(tmp_path / "docker")))
    ref = f"{reg.host}/{stack_name}/app:1"
    repo_names.append(ref)
    push(docker_client, reg, ref, "1")
    path = stack_file(tmp_path / "s", stack_name, ref, policy="always")
    assert main(["apply", "--yes", path]) == 0
    capsys.readouterr()
    assert main(["plan", "--detailed-exitcode", path]) == 0  # current: no pull planned
    capsys.readouterr()
    push(docker_client, reg, ref, "2")
    assert main(["apply", "--yes", path]) == 0
    capsys.readouterr()
    running = docker_client.containers.get(f"{stack_name}-app-1")
    assert running.image.labels["io.stackctl.test.version"] == "2"
    assert main(["plan", "--detailed-exitcode", path]) == 0


def test_pull_command_only_fetches_and_the_private_registry_needs_the_credentials(
    registries, tmp_path, stack_name, docker_client, repo_names, capsys, monkeypatch
) -> None:
    reg = registries[1]
    ref = f"{reg.host}/{stack_name}/app:1"
    repo_names.append(ref)
    push(docker_client, reg, ref, "1")
    docker_client.images.remove(ref, force=True)
    path = stack_file(tmp_path / "s", stack_name, ref)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "empty"))  # no credentials
    assert main(["pull", path]) == 1
    assert "no basic auth credentials" in capsys.readouterr().out
    monkeypatch.setenv("DOCKER_CONFIG", str(reg.docker_config(tmp_path / "docker")))
    assert main(["pull", path]) == 0
    out = capsys.readouterr().out
    assert "Pulled 1 image(s); nothing else was changed." in out and PASSWORD not in out
    docker_client.images.get(ref)
    assert docker_client.containers.list(all=True, filters={"name": stack_name}) == []
