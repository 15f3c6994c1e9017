"""GPU requests on the real engine: plan works and the daemon takes the create body.

No test machine has a GPU or the NVIDIA runtime, so no GPU container is started (``apply``
would fail at the start: the daemon cannot select a device driver). What is checked: ``plan``
on a compose file asking for GPUs shows the container's create, and the container created
from that body holds the DeviceRequests Compose would send.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stackctl.backends.docker.desired import desire
from stackctl.cli import main
from stackctl.engine import DockerEngine
from stackctl.load import load_paths
from tests.conftest import BUSYBOX

pytestmark = pytest.mark.integration

COMPOSE = """\
name: {name}
services:
  gpu:
    image: {image}
    command: ["true"]
    gpus: all
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              device_ids: ["0"]
              capabilities: [gpu, utility]
"""


@pytest.mark.engines("host")  # the CLI talks to the default engine
def test_plan_of_a_gpu_stack_shows_the_create_and_the_daemon_takes_the_body(
    tmp_path: Path,
    stack_name: str,
    engine: DockerEngine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(COMPOSE.format(name=stack_name, image=BUSYBOX))

    assert main(["plan", "--detailed-exitcode", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"+ create container {stack_name}-gpu-1  (missing)" in out

    # The create body as apply sends it (the start is what needs a GPU).
    desired = desire(load_paths([path]))
    for net in desired.networks:
        engine.create_network(net)
    [unit] = desired.containers
    engine.create_container(unit, unit.name)
    made = engine.inspect_container(unit.name)
    assert made is not None
    assert made["HostConfig"]["DeviceRequests"] == [
        {
            "Driver": "nvidia",
            "Count": 0,
            "DeviceIDs": ["0"],
            "Capabilities": [["gpu", "utility"]],
            "Options": None,
        },
        {"Driver": "", "Count": -1, "DeviceIDs": None, "Capabilities": [["gpu"]], "Options": None},
    ]
