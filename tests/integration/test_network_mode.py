"""network_mode, ulimits, pids_limit and file configs on the real engine.

A ``network_mode: host`` busybox httpd answers on the host's 127.0.0.1; a service routed
through another's network namespace (``service:vpn``) reaches the owner's 127.0.0.1, and
replacing the owner recreates it (the plan says why) so it still does; ulimits and
pids_limit are what the daemon reports for the container.
"""

from __future__ import annotations

import socket
import time
import urllib.request
import uuid
from pathlib import Path

import docker
import pytest

from stackctl import Service, Stack
from stackctl.core.plan import Kind
from stackctl.engine import DockerEngine
from tests.conftest import BUSYBOX
from tests.support import converge, make_plan

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def httpd(port: int, token: str) -> list[str]:
    """busybox httpd on 127.0.0.1:<port> serving ``token``."""
    script = (
        f"mkdir -p /www && echo {token} > /www/index.html && "
        f"exec httpd -f -p 127.0.0.1:{port} -h /www"
    )
    return ["sh", "-c", script]


def http_get(url: str, attempts: int = 50) -> str:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return str(r.read().decode()).strip()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def exec_out(client: docker.APIClient, container: str, cmd: list[str]) -> tuple[int, str]:
    exec_id = client.exec_create(container, cmd)["Id"]
    out = client.exec_start(exec_id).decode()
    return int(client.exec_inspect(exec_id)["ExitCode"]), out.strip()


def fetch_inside(client: docker.APIClient, container: str, port: int) -> str:
    """wget http://127.0.0.1:<port>/ from inside ``container``, retried while it starts."""
    for _ in range(50):
        code, out = exec_out(client, container, ["wget", "-q", "-O-", f"http://127.0.0.1:{port}/"])
        if code == 0:
            return out
        time.sleep(0.2)
    raise AssertionError(f"nothing answered on 127.0.0.1:{port} inside {container}")


@pytest.mark.engines("host")  # engine26 has a network namespace of its own: not the test's
def test_a_host_network_service_answers_on_the_hosts_loopback(
    engine: DockerEngine, stack_name: str
) -> None:
    port = free_port()
    token = uuid.uuid4().hex
    stack = Stack(
        stack_name,
        services=[
            Service(
                "ha",
                image=BUSYBOX,
                network_mode="host",
                command=httpd(port, token),
                restart="unless-stopped",
            )
        ],
    )
    p, _ = converge(engine, [stack])
    assert [op.kind for op in p.operations] == [Kind.CREATE]  # no default network made
    assert http_get(f"http://127.0.0.1:{port}/") == token
    info = engine.inspect_container(f"{stack_name}-ha-1")
    assert info is not None and info["HostConfig"]["NetworkMode"] == "host"
    # a second plan is empty: a host-mode container is not network drift
    assert not make_plan(engine, [stack]).has_changes


def test_a_service_in_another_services_network_namespace(
    engine: DockerEngine, stack_name: str, docker_client: docker.DockerClient
) -> None:
    api = docker_client.api
    port = 18080
    token = uuid.uuid4().hex

    def stack(region: str) -> Stack:
        return Stack(
            stack_name,
            services=[
                Service(
                    "vpn",
                    image=BUSYBOX,
                    command=httpd(port, token),
                    environment={"REGION": region},
                ),
                Service(
                    "torrent",
                    image=BUSYBOX,
                    network_mode="service:vpn",
                    command=["sleep", "3600"],
                ),
            ],
        )

    converge(engine, [stack("nl")])
    vpn, torrent = f"{stack_name}-vpn-1", f"{stack_name}-torrent-1"
    # the owner's loopback, from the dependent
    assert fetch_inside(api, torrent, port) == token
    vpn_id = api.inspect_container(vpn)["Id"]
    mode = api.inspect_container(torrent)["HostConfig"]["NetworkMode"]
    assert mode == f"container:{vpn_id}"
    assert not make_plan(engine, [stack("nl")]).has_changes

    # replacing the owner recreates the dependent, after it, with the reason in the plan
    p, _ = converge(engine, [stack("se")])
    reasons = {op.resource: (op.kind, op.reason) for op in p.operations}
    assert reasons[vpn] == (Kind.REPLACE, "config changed: env.REGION")
    assert reasons[torrent] == (Kind.REPLACE, "namespace owner replaced: vpn")
    new_id = api.inspect_container(vpn)["Id"]
    assert new_id != vpn_id
    assert api.inspect_container(torrent)["HostConfig"]["NetworkMode"] == (f"container:{new_id}")
    assert fetch_inside(api, torrent, port) == token
    assert not make_plan(engine, [stack("se")]).has_changes


def test_ulimits_and_pids_limit_are_set(
    engine: DockerEngine, stack_name: str, docker_client: docker.DockerClient
) -> None:
    api = docker_client.api

    def stack(nofile: int) -> Stack:
        return Stack(
            stack_name,
            services=[
                Service(
                    "app",
                    image=BUSYBOX,
                    command=["sleep", "3600"],
                    ulimits={"nofile": {"soft": nofile, "hard": 4096}, "nproc": 512},
                    pids_limit=64,
                )
            ],
        )

    converge(engine, [stack(1024)])
    name = f"{stack_name}-app-1"
    host = api.inspect_container(name)["HostConfig"]
    assert host["PidsLimit"] == 64
    assert sorted(host["Ulimits"], key=lambda u: u["Name"]) == [
        {"Name": "nofile", "Soft": 1024, "Hard": 4096},
        {"Name": "nproc", "Soft": 512, "Hard": 512},
    ]
    # the container's own process (an exec'd one may get the daemon's limits instead)
    code, limits = exec_out(api, name, ["sh", "-c", "grep 'Max open files' /proc/1/limits"])
    assert code == 0 and limits.split()[3:5] == ["1024", "4096"], limits
    # a changed ulimit is a replace naming the field
    p = make_plan(engine, [stack(2048)])
    [op] = p.operations
    assert op.kind == Kind.REPLACE
    assert op.reason.startswith("config changed: ulimits")


@pytest.mark.engines("host")  # a bind source is a path on the daemon's machine
def test_a_file_config_is_mounted_read_only(
    engine: DockerEngine, stack_name: str, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    api = docker_client.api
    (tmp_path / "app.conf").write_text("answer=42\n")
    stack = Stack(
        stack_name,
        services=[
            Service(
                "web",
                image=BUSYBOX,
                command=["sleep", "3600"],
                configs=["app", {"source": "app", "target": "/etc/app/app.conf"}],
            )
        ],
        configs={"app": {"file": "./app.conf"}},
    ).with_origin(tmp_path / "compose.yaml")
    converge(engine, [stack])
    name = f"{stack_name}-web-1"
    assert exec_out(api, name, ["cat", "/app"]) == (0, "answer=42")
    assert exec_out(api, name, ["cat", "/etc/app/app.conf"]) == (0, "answer=42")
    code, _ = exec_out(api, name, ["sh", "-c", "echo x > /app"])
    assert code != 0  # read-only
