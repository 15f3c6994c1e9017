"""Compose volume options on the real engine, read back with container inspect: bind
propagation (Binds and Mounts forms), SELinux ``:z``/``:Z`` (the daemon may have no SELinux:
the create succeeds and the Bind string carries the option), tmpfs mode, and
``volume.subpath`` refused by the plan on an Engine API older than 1.45."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from stackctl.core.plan import Kind
from stackctl.engine import DockerEngine
from stackctl.errors import PlanError
from stackctl.load import load_paths
from stackctl.model import Stack
from tests.conftest import BUSYBOX
from tests.integration.test_network_mode import exec_out
from tests.support import converge, make_plan

pytestmark = pytest.mark.integration


def compose(folder: Path, name: str, service: dict[str, Any], **top: Any) -> Stack:
    doc = {
        "name": name,
        "services": {"app": {"image": BUSYBOX, "command": ["sleep", "3600"], **service}},
        **top,
    }
    path = folder / "compose.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    [stack] = load_paths([path])
    return stack


def by_target(info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["Destination"]: m for m in info["Mounts"]}


@pytest.mark.engines("host")  # bind sources are paths on the daemon's machine
def test_bind_propagation_and_selinux_reach_the_container(
    engine: DockerEngine, stack_name: str, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    api = docker_client.api
    for folder in ("a", "b", "c"):
        (tmp_path / folder).mkdir()
    (tmp_path / "b" / "hello").write_text("hi\n")

    def stack(propagation: str) -> Stack:
        volumes = [
            f"./a:/a:{propagation}",
            "./b:/b:ro,z",
            {
                "type": "bind",
                "source": "./c",
                "target": "/c",
                "bind": {"create_host_path": False, "propagation": "private"},
            },
        ]
        return compose(tmp_path, stack_name, {"volumes": volumes})

    converge(engine, [stack("private")])
    name = f"{stack_name}-app-1"
    info = api.inspect_container(name)
    binds = info["HostConfig"]["Binds"]
    assert f"{tmp_path}/a:/a:rw,private" in binds
    assert f"{tmp_path}/b:/b:ro,z" in binds  # relabel asked for; a no-op without SELinux
    mounts = by_target(info)
    assert mounts["/a"]["Propagation"] == "private"
    assert mounts["/b"]["Mode"] == "ro,z" and mounts["/b"]["RW"] is False
    assert mounts["/c"]["Propagation"] == "private"
    [c] = info["HostConfig"]["Mounts"]
    assert c["BindOptions"] == {"Propagation": "private"}
    assert exec_out(api, name, ["cat", "/b/hello"]) == (0, "hi")
    # another propagation is a replace naming the field
    [op] = make_plan(engine, [stack("rprivate")]).operations
    assert op.kind == Kind.REPLACE
    assert op.reason.startswith("config changed: mounts[0].propagation")


def test_tmpfs_mode_is_the_mode_of_the_mount(
    engine: DockerEngine, stack_name: str, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    api = docker_client.api
    volumes = [{"type": "tmpfs", "target": "/scratch", "tmpfs": {"size": "1m", "mode": "0o1777"}}]
    service = {"volumes": volumes, "tmpfs": ["/run/app:mode=700"]}
    converge(engine, [compose(tmp_path, stack_name, service)])
    name = f"{stack_name}-app-1"
    options = {
        m["Target"]: m["TmpfsOptions"] for m in api.inspect_container(name)["HostConfig"]["Mounts"]
    }
    assert options["/scratch"] == {"SizeBytes": 1 << 20, "Mode": 0o1777}
    assert options["/run/app"] == {"Mode": 0o700}
    assert exec_out(api, name, ["stat", "-c", "%a", "/scratch"]) == (0, "1777")
    assert exec_out(api, name, ["stat", "-c", "%a", "/run/app"]) == (0, "700")


@pytest.mark.engines("host")  # Docker 20.10 (API 1.41): before volume subpaths
def test_subpath_on_engine_20_10_is_a_located_plan_error(
    engine: DockerEngine, stack_name: str, tmp_path: Path
) -> None:
    assert engine.api_version() == "1.41"
    volume = {"type": "volume", "source": "data", "target": "/data", "volume": {"subpath": "etc"}}
    stack = compose(tmp_path, stack_name, {"volumes": [volume]}, volumes={"data": None})
    with pytest.raises(PlanError) as e:
        make_plan(engine, [stack])
    text = str(e.value)
    assert f"stack {stack_name!r}, services.app.volumes (target /data): volume.subpath" in text
    assert "needs Docker Engine API 1.45" in text and "speaks API 1.41" in text
    assert "hint:" in text
