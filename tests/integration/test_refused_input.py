"""Values Docker accepts at create and refuses at start: apply refuses them before any
write, so nothing of the stack is left on the engine (each once left a container behind)."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from stackctl.cli import main
from stackctl.core.labels import LABEL_STACK
from tests.conftest import BUSYBOX

pytestmark = pytest.mark.integration

SERVICE = {
    "nul-in-environment": '    environment:\n      GREETING: "hello\\0world"\n',
    "nul-in-command": '    command: ["sh", "-c", "echo \\0"]\n',
    "port-read-as-address": "    ports: ['8080:80:90']\n",
    "unbracketed-ipv6": "    ports: ['::1:18080:80']\n",
    "external-host-network": "    networks: [edge]\n",
}
SAYS = {
    "nul-in-environment": "NUL character",
    "nul-in-command": "NUL character",
    "port-read-as-address": "not a host IP address",
    "unbracketed-ipv6": "in brackets",
    "external-host-network": "predefined network 'host'",
}
NETWORKS = {"external-host-network": "networks:\n  edge:\n    name: host\n    external: true\n"}


@pytest.mark.parametrize("case", sorted(SERVICE))
def test_apply_refuses_before_any_write(
    case: str,
    tmp_path: Path,
    stack_name: str,
    docker_client: docker.DockerClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    f = tmp_path / "compose.yaml"
    f.write_text(
        f"name: {stack_name}\nservices:\n  web:\n    image: {BUSYBOX}\n"
        f"    networks: [back]\n{SERVICE[case]}"
        if case != "external-host-network"
        else f"name: {stack_name}\nservices:\n  web:\n    image: {BUSYBOX}\n{SERVICE[case]}"
        f"{NETWORKS[case]}"
    )
    if case != "external-host-network":
        f.write_text(f.read_text() + "networks:\n  back: {}\n")
    assert main(["apply", "--yes", str(f)]) == 1
    err = capsys.readouterr().err
    assert f"{f}:" in err and "nothing was changed" in err, err
    assert SAYS[case] in err, err
    label = {"label": f"{LABEL_STACK}={stack_name}"}
    assert docker_client.containers.list(all=True, filters=label) == []
    assert docker_client.networks.list(filters=label) == []


@pytest.mark.parametrize("name", ["plan.bin", "saved.plan", "plan"])
def test_a_saved_plan_is_known_by_content_not_suffix(
    name: str,
    tmp_path: Path,
    stack_name: str,
    docker_client: docker.DockerClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``plan -o plan.bin`` then ``apply plan.bin`` (once: "not a stack file")."""
    f = tmp_path / "compose.yaml"
    f.write_text(f"name: {stack_name}\nservices:\n  web:\n    image: {BUSYBOX}\n"
                 "    command: [sleep, '300']\n")  # fmt: skip
    saved = tmp_path / name
    assert main(["plan", "-o", str(saved), str(f)]) == 0
    assert main(["apply", str(saved)]) == 0, capsys.readouterr()
    label = {"label": f"{LABEL_STACK}={stack_name}"}
    assert len(docker_client.containers.list(all=True, filters=label)) == 1
