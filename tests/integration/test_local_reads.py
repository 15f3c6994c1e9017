"""Reads over the engine's own unix socket (stackctl/engine/local.py), against the real
engine: a plan never imports the docker SDK, the reads are the SDK's, one connection is
kept alive, the daemon's errors and a stream that never ends are reported, and a missing
socket is reported as it always was."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stackctl.cli import main
from stackctl.engine import DockerEngine
from stackctl.engine.docker import _lost
from stackctl.engine.local import APIError, LocalClient, Unanswered
from tests.conftest import BUSYBOX

pytestmark = pytest.mark.integration

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"]


def write_stack(folder: Path, name: str) -> str:
    """Two services, no health checks: their inspect does not change while it is read."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stack.py").write_text(
        textwrap.dedent(
            f"""
            from stackctl import Network, Service, Stack, Volume

            back = Network("back")
            data = Volume("data")
            db = Service("db", image="{BUSYBOX}", command={LOOP!r}, networks=[back],
                         volumes={{data: "/data"}})
            web = Service("web", image="{BUSYBOX}", command={LOOP!r}, networks=[back])
            stack = Stack("{name}", services=[db, web], networks=[back], volumes=[data])
            """
        )
    )
    return str(folder / "stack.py")


def imported(importtime: str) -> set[str]:
    """The modules ``python -X importtime`` reported importing."""
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in importtime.splitlines()
        if line.startswith("import time:")
    }


def test_a_no_change_plan_reads_over_the_socket_without_the_sdk(tmp_path, stack_name) -> None:
    path = write_stack(tmp_path / "s", stack_name)
    assert main(["apply", "--yes", path]) == 0
    env = {**os.environ, "STACKCTL_COUNT_CALLS": "1"}
    argv = [sys.executable, "-X", "importtime", "-m", "stackctl", "plan", "--detailed-exitcode"]
    proc = subprocess.run(
        [*argv, path], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]  # no changes
    assert "No changes" in proc.stdout
    modules = imported(proc.stderr)
    assert "stackctl.engine.local" in modules
    assert not modules & {"docker", "requests", "urllib3", "stackctl.engine.sdk"}
    # the ping, four lists and an inspect per container
    assert "api-calls: GET=7 POST=0 DELETE=0 total=7" in proc.stderr


def test_the_reads_over_the_socket_are_the_sdks(tmp_path, stack_name, engine) -> None:
    path = write_stack(tmp_path / "s", stack_name)
    assert main(["apply", "--yes", path]) == 0
    sdk = engine.client  # the same daemon through the SDK

    def ours(items: list[dict], key: str) -> list[dict]:
        return sorted(
            (i for i in items if str(i.get(key) or "").lstrip("/").startswith(stack_name)),
            key=str,
        )

    assert ours(engine.list_networks(), "Name") == ours(sdk.networks(), "Name")
    assert ours(engine.list_volumes(), "Name") == ours(sdk.volumes()["Volumes"], "Name")
    containers = ours([{**c, "Name": c["Names"][0]} for c in engine.list_containers()], "Name")
    assert len(containers) == 2
    listed = ours([{**c, "Name": c["Names"][0]} for c in sdk.containers(all=True)], "Name")
    assert containers == listed
    ids = [c["Id"] for c in containers]
    assert engine.inspect_containers(ids) == {cid: sdk.inspect_container(cid) for cid in ids}
    image = containers[0]["ImageID"]
    assert engine.inspect_images([image]) == {image: sdk.inspect_image(image)}
    assert [i for i in engine.list_images() if i["Id"] == image] == [
        i for i in sdk.images() if i["Id"] == image
    ]
    assert engine.identity() == f"id:{sdk.info()['ID']}"
    # what is not there is None (404), as through the SDK
    assert engine.inspect_container(f"{stack_name}-nothing-1") is None
    assert engine.inspect_images(["sha256:" + "0" * 64]) == {}


@pytest.mark.parametrize(("bound", "reason"), [(False, "No such file or directory"),
                                               (True, "Connection refused")])  # fmt: skip
def test_a_missing_or_refusing_socket_says_no_daemon_answered(
    tmp_path, bound: bool, reason: str
) -> None:
    sock = tmp_path / "docker.sock"
    if bound:  # a socket file nobody listens on
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(sock))
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
    proc = subprocess.run(
        [sys.executable, "-m", "stackctl", "plan", write_stack(tmp_path / "s", "sctnodaemon")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"error: no Docker daemon answered at DOCKER_HOST=unix://{sock}: Error while fetching "
        f"server API version: {sock}: {reason}",
        "  hint: start the daemon (dockerd, or systemctl start docker), or point DOCKER_HOST "
        "(or a docker context) at one",
    ]


def test_an_engine_for_the_socket_makes_no_sdk_client_until_a_write(engine_target) -> None:
    engine = DockerEngine(base_url=engine_target.base_url)
    engine.list_networks()
    assert engine.call_counts() == {"GET": 2}  # the ping and the list, over the socket
    engine.remove_volume("sctnothing-never-made")  # a write: through the SDK, no new ping
    assert engine.call_counts() == {"GET": 2, "DELETE": 1}
    engine.close()


def _socket(base_url: str) -> str:
    assert base_url.startswith("unix://"), base_url
    return base_url.removeprefix("unix://")


def test_reads_share_one_kept_alive_connection_and_are_counted(engine_target) -> None:
    client = LocalClient(_socket(engine_target.base_url), timeout=30)
    assert client.ping().startswith("1.")
    first = client.get("/networks")
    assert any(n["Name"] == "bridge" for n in first)
    client.get("/networks")
    assert len(client._connections) == 1
    assert client.calls == {"GET": 3}
    client.close()


def test_an_error_answer_gives_the_daemons_message(engine_target) -> None:
    client = LocalClient(_socket(engine_target.base_url), timeout=30)
    client.ping()
    with pytest.raises(APIError) as caught:
        client.get("/containers/{0}/json", "sctgone-never-made")
    assert caught.value.status_code == 404
    assert caught.value.explanation == "No such container: sctgone-never-made"
    client.close()


def test_no_answer_in_time_is_a_slow_daemon(engine_target) -> None:
    """The events stream without an end answers its headers, then nothing: read to its
    end, that is a daemon that does not answer in time."""
    client = LocalClient(_socket(engine_target.base_url), timeout=0.5)
    client.ping()
    with pytest.raises(Unanswered) as caught:
        client.get("/events")
    assert caught.value.timed_out is True
    assert "did not answer in time while trying to list things" in str(
        _lost("list things", caught.value)
    )
    client.close()
