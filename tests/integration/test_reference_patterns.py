"""The reference homelab patterns (/work/shared/reference) as typed stacks, on the real engine.

Each test builds the pattern in Python, converges it with the real executor and then proves
it works the way the homelab relies on: real nginx proxying by name, nginx on a fixed subnet
reaching the host through the gateway, Traefik + Matrix planned together in one plan with
their start order read back from the daemon, and independent branches started in parallel.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any

import docker
import pytest

from stackctl import Healthcheck, Network, Service, Stack, Volume, healthy, started
from stackctl.backends.docker.backend import DockerBackend
from stackctl.backends.docker.desired import DesiredContainer, desire
from stackctl.core.labels import LABEL_STACK
from stackctl.core.plan import Kind, Plan
from stackctl.engine import DockerEngine
from tests.conftest import BUSYBOX, DEBIAN
from tests.support import converge, make_plan, writes

pytestmark = pytest.mark.integration

PATTERNS = Path(__file__).resolve().parent.parent / "fixtures" / "patterns"

# A bind source is a path on the daemon's machine. engine26 runs in its own root filesystem,
# where tests/fixtures does not exist (its dockerd would make an empty directory there and
# fail to mount it onto nginx.conf), so the nginx.conf patterns run on the host engine only.
HOST_FILES = pytest.mark.engines("host")
NGINX = ["nginx", "-g", "daemon off;"]
LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, within: float = 15.0) -> str:
    """The body of a 200 answer from ``url``, retried while the proxy and backend start."""
    deadline = time.monotonic() + within
    last = "no attempt"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as answer:
                return str(answer.read().decode().strip())
        except urllib.error.HTTPError as e:  # 502 while the backend is not up yet
            last = f"HTTP {e.code}: {e.read().decode(errors='replace')[:200]}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = repr(e)
        if time.monotonic() >= deadline:
            raise AssertionError(f"GET {url} did not answer 200 within {within:.0f}s: {last}")
        time.sleep(0.25)


_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def ns(timestamp: str) -> int:
    """A daemon RFC 3339 timestamp with nanoseconds -> nanoseconds since the epoch."""
    m = _TS.match(timestamp)
    assert m, f"unexpected timestamp {timestamp!r}"
    base, fraction, zone = m.groups()
    seconds = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone)).timestamp()
    return int(seconds) * 1_000_000_000 + int((fraction or "0").ljust(9, "0")[:9])


def pick_subnet(client: docker.DockerClient) -> ipaddress.IPv4Network:
    """A /24 in 10.231.0.0/16 (outside Docker's default pools) that no route and no
    network on the daemon uses: fixed, as in the reference, but not shared between runs."""
    taken: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for net in client.api.networks():
        for pool in (net.get("IPAM") or {}).get("Config") or []:
            if pool.get("Subnet"):
                taken.append(ipaddress.ip_network(pool["Subnet"], strict=False))
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, check=False)
    for line in routes.stdout.splitlines():
        dest = line.split()[0] if line.split() else ""
        if dest and dest != "default":
            taken.append(ipaddress.ip_network(dest if "/" in dest else f"{dest}/32", strict=False))
    start = int(time.time() * 1000) % 256
    for i in range(256):
        candidate = ipaddress.IPv4Network(f"10.231.{(start + i) % 256}.0/24")
        if not any(candidate.overlaps(t) for t in taken if t.version == 4):
            return candidate
    raise AssertionError("no free /24 in 10.231.0.0/16 on this machine")


def inspect(client: docker.DockerClient, name: str) -> dict[str, Any]:
    return dict(client.api.inspect_container(name))


class HealthEvents:
    """Records when the daemon first reports each container of ``stack`` healthy (ns).

    Subscribed live before the apply: the daemon keeps only its last 256 events, which a
    busy machine (and health probes' exec events) overwrite in seconds, and
    State.Health.Log keeps only the last five probes, so it forgets the first healthy one.
    """

    def __init__(self, client: docker.DockerClient, stack: str) -> None:
        self.first: dict[str, int] = {}
        self._stream = client.api.events(
            since=int(time.time()) - 1,  # replays whatever came before the stream opened
            filters={
                "type": ["container"],
                "event": ["health_status"],
                "label": [f"{LABEL_STACK}={stack}"],
            },
            decode=True,
        )
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        with contextlib.suppress(Exception):  # the stream ends when closed
            for event in self._stream:
                if event.get("Action") == "health_status: healthy":
                    name = event["Actor"]["Attributes"]["name"]
                    self.first.setdefault(name, int(event["timeNano"]))

    def close(self) -> None:
        time.sleep(0.2)  # let the last events arrive
        self._stream.close()
        self._thread.join(5)


# --------------------------------------------------------------------------- by name


@HOST_FILES
def test_nginx_proxies_a_backend_by_its_name_on_a_shared_network(
    engine: DockerEngine, stack_name: str, docker_client: docker.DockerClient
) -> None:
    """patterns/by-name: nginx proxies ``web:8080``; the backend publishes no port."""
    token = f"hello-{stack_name}"
    port = free_port()
    shared = Network("nginx_default", driver="bridge")
    web = Service(
        "web",
        image=BUSYBOX,
        container_name=f"{stack_name}-web",
        command=[
            "sh",
            "-c",
            f"mkdir -p /www && echo {token} > /www/index.html && exec httpd -f -p 8080 -h /www",
        ],
        init=True,  # busybox httpd ignores SIGTERM as PID 1
        networks=[shared],
    )
    nginx = Service(
        "nginx",
        image=DEBIAN,
        container_name=f"{stack_name}-nginx",
        command=NGINX,
        ports=[f"127.0.0.1:{port}:80"],
        volumes=["./nginx.conf:/etc/nginx/nginx.conf:ro"],
        networks=[shared],
        # nginx resolves its upstream once, at start: web must be on the network by then
        depends_on={web: started},
    )
    stack = Stack(stack_name, services=[nginx, web], networks=[shared]).with_origin(
        PATTERNS / "by-name" / "stack.py"
    )
    converge(engine, [stack])

    assert http_get(f"http://127.0.0.1:{port}/") == token

    mounts = inspect(docker_client, f"{stack_name}-nginx")["Mounts"]
    assert [(m["Source"], m["Destination"], m["RW"]) for m in mounts] == [
        (str(PATTERNS / "by-name" / "nginx.conf"), "/etc/nginx/nginx.conf", False)
    ]
    assert not inspect(docker_client, f"{stack_name}-web")["HostConfig"]["PortBindings"]
    # the backend also answers to its container name on the shared network
    out = docker_client.containers.get(f"{stack_name}-nginx").exec_run(
        ["curl", "-fsS", f"http://{stack_name}-web:8080/"]
    )
    assert (out.exit_code, out.output.decode().strip()) == (0, token)


# --------------------------------------------------------------------------- host gateway


class _HostService(BaseHTTPRequestHandler):
    token = ""

    def do_GET(self) -> None:
        body = f"{self.token} from {self.client_address[0]}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def host_service(token: str) -> Iterator[int]:
    """An HTTP server on the host (0.0.0.0:<free port>), answering ``token from <client ip>``."""
    handler = type("Handler", (_HostService,), {"token": token})
    server = ThreadingHTTPServer(("0.0.0.0", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _input_firewall() -> str:
    if shutil.which("iptables") is None:
        return "(iptables not installed)"
    rules = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True)
    return (rules.stdout or rules.stderr).strip()


@HOST_FILES
def test_nginx_on_a_fixed_subnet_reaches_a_host_service_through_the_gateway(
    engine: DockerEngine, stack_name: str, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """patterns/host-gateway: fixed subnet, fixed address, proxy_pass to the gateway."""
    subnet = pick_subnet(docker_client)
    gateway, address = subnet[1], subnet[10]
    token = f"host-{stack_name}"
    published = free_port()
    with host_service(token) as host_port:
        template = Template((PATTERNS / "host-gateway" / "nginx.conf.template").read_text())
        conf = template.substitute(gateway=gateway, port=host_port)
        (tmp_path / "nginx.conf").write_text(conf)
        net = Network("nginx_default", ipam={"subnet": str(subnet)})
        nginx = Service(
            "nginx_test",
            image=DEBIAN,
            command=NGINX,
            ports=[f"127.0.0.1:{published}:80"],
            volumes=["./nginx.conf:/etc/nginx/nginx.conf:ro"],
            networks={net: {"ipv4_address": str(address)}},
        )
        stack = Stack(stack_name, services=[nginx], networks=[net]).with_origin(
            tmp_path / "stack.py"
        )
        converge(engine, [stack])

        ipam = docker_client.api.inspect_network(f"{stack_name}_nginx_default")["IPAM"]["Config"]
        assert [p["Subnet"] for p in ipam] == [str(subnet)]
        nets = inspect(docker_client, f"{stack_name}-nginx_test-1")["NetworkSettings"]["Networks"]
        attached = nets[f"{stack_name}_nginx_default"]
        assert (attached["IPAddress"], attached["Gateway"]) == (str(address), str(gateway))

        try:
            answer = http_get(f"http://127.0.0.1:{published}/")
        except AssertionError as e:
            raise AssertionError(
                f"{e}\nnginx could not reach the host at {gateway}:{host_port}; host firewall "
                f"INPUT rules:\n{_input_firewall()}"
            ) from e
    # the host saw the request come from nginx's fixed address, through the gateway
    assert answer == f"{token} from {address}"


# --------------------------------------------------------------------------- traefik + matrix

BRIDGES = ("mautrix-telegram", "matrix-gmessage", "mautrix-discord")


def traefik_stack(name: str) -> Stack:
    """traefik/compose.yaml: its project network (here ``<name>_edge``) is the edge."""
    edge = Network("default", name=f"{name}_edge")
    traefik = Service(
        "traefik",
        image=BUSYBOX,
        command=[
            "sh",
            "-c",
            "mkdir -p /www && echo edge > /www/index.html && exec httpd -f -h /www",
        ],
        init=True,
        restart="always",
        deploy={"resources": {"limits": {"cpus": "0.5", "memory": "2048M"}}},
    )
    return Stack(name, services=[traefik], networks=[edge])


def matrix_stack(name: str, edge_name: str) -> Stack:
    """matrix/compose.yaml, trimmed to its ordering: bridges wait for Postgres healthy,
    matrix-wechat for Synapse healthy; Synapse and the bridges join the edge network."""
    edge = Network("traefik_default", name=edge_name, external=True)
    matrix = Network("matrix_network")
    pgdata = Volume("pgdata")
    fast = {"interval": "500ms", "timeout": "5s", "retries": 30}
    postgres = Service(
        "postgres",
        image=DEBIAN,
        hostname="postgres",
        command=["stackctl-postgres", "-c", "fsync=off"],
        restart="always",
        volumes={pgdata: "/var/lib/postgresql/data"},
        healthcheck=Healthcheck.shell("pg_isready -h 127.0.0.1", **fast),
        networks=[matrix],
    )
    synapse = Service(
        "synapse",
        image=BUSYBOX,
        hostname="synapse",
        # like Synapse: needs its database reachable by name to come up at all
        command=[
            "sh",
            "-c",
            "until nc -w 1 postgres 5432 </dev/null; do sleep 0.2; done; "
            "mkdir -p /www && echo OK > /www/health && exec httpd -f -p 8008 -h /www",
        ],
        init=True,
        restart="unless-stopped",
        depends_on={postgres: healthy},
        healthcheck=Healthcheck.shell("wget -q -O- http://127.0.0.1:8008/health", **fast),
        networks=[edge, matrix],
    )
    bridges = [
        Service(
            bridge,
            image=BUSYBOX,
            command=LOOP,
            restart="unless-stopped",
            depends_on={postgres: healthy},
            networks=[matrix, edge],
        )
        for bridge in BRIDGES
    ]
    wechat = Service(
        "matrix-wechat",
        image=BUSYBOX,
        hostname="matrix-wechat",
        command=LOOP,
        restart="unless-stopped",
        depends_on={synapse: healthy},
        networks=[matrix, edge],
    )
    return Stack(
        name,
        services=[postgres, synapse, *bridges, wechat],
        networks=[edge, matrix],
        volumes=[pgdata],
    )


def _edge_users_wait_for_the_edge_network(p: Plan, matrix: str, edge_name: str) -> None:
    ops = p.by_id()
    made = ops[f"network:{edge_name}"]
    assert made.kind == Kind.CREATE_NETWORK and made.stack != matrix
    users = [
        op
        for op in p.operations
        if isinstance(op.unit, DesiredContainer)
        and op.stack == matrix
        and edge_name in {n.name for n in op.unit.networks}
    ]
    assert len(users) == 5  # synapse, three bridges, wechat
    for op in users:
        assert f"network:{edge_name}" in op.depends_on, op.id


def test_traefik_and_matrix_in_one_plan_start_in_dependency_order(
    engine: DockerEngine, stack_names: list[str], docker_client: docker.DockerClient
) -> None:
    edge_name = f"{stack_names[0]}_edge"
    traefik = traefik_stack(stack_names[0])
    matrix = matrix_stack(stack_names[1], edge_name)

    # either order of the stacks gives the same graph: the edge network comes first
    _edge_users_wait_for_the_edge_network(
        make_plan(engine, [matrix, traefik]), matrix.name, edge_name
    )
    health = HealthEvents(docker_client, matrix.name)
    try:
        p, _ = converge(engine, [traefik, matrix])
    finally:
        health.close()
    _edge_users_wait_for_the_edge_network(p, matrix.name, edge_name)

    def container(service: str) -> str:
        return f"{matrix.name}-{service}-1"

    info = {s: inspect(docker_client, container(s)) for s in matrix.services}
    start = {s: ns(i["State"]["StartedAt"]) for s, i in info.items()}
    created = {s: ns(i["Created"]) for s, i in info.items()}
    pg_healthy = health.first[container("postgres")]
    synapse_healthy = health.first[container("synapse")]

    assert start["postgres"] < pg_healthy
    for service in ("synapse", *BRIDGES):
        assert pg_healthy < created[service] <= start[service], service
    assert start["synapse"] < synapse_healthy < created["matrix-wechat"] <= start["matrix-wechat"]

    # the edge network was made by the traefik stack before any matrix container joined it
    edge = docker_client.api.inspect_network(edge_name)
    assert edge["Labels"][LABEL_STACK] == traefik.name
    for service in ("synapse", *BRIDGES, "matrix-wechat"):
        assert ns(edge["Created"]) < created[service], service
        assert set(info[service]["NetworkSettings"]["Networks"]) == {
            edge_name,
            f"{matrix.name}_matrix_network",
        }
    # and Traefik reaches Synapse by name across the two stacks, over the edge network
    out = docker_client.containers.get(f"{traefik.name}-traefik-1").exec_run(
        ["wget", "-q", "-O-", "http://synapse:8008/health"]
    )
    assert (out.exit_code, out.output.decode().strip()) == (0, "OK")

    before = writes(engine)
    again, result = converge(engine, [traefik, matrix])
    assert not again.has_changes and result.done == []
    assert writes(engine) == before


# --------------------------------------------------------------------------- parallel, --wait


def slow(name: str, seconds: float = 2, **kw: Any) -> Service:
    """Healthy ``seconds`` after it started."""
    return Service(
        name,
        image=BUSYBOX,
        command=[
            "sh",
            "-c",
            f"trap 'exit 0' TERM; sleep {seconds}; touch /tmp/ready; while :; do sleep 0.2; done",
        ],
        init=True,
        healthcheck=Healthcheck.shell("test -f /tmp/ready", interval="250ms", retries=60),
        **kw,
    )


def test_independent_branches_run_in_parallel_and_wait_covers_the_leaves(
    engine: DockerEngine, stack_name: str, docker_client: docker.DockerClient
) -> None:
    """Four chains ``db_i -> app_i`` (app_i waits for db_i healthy): db0 is healthy 5 s after
    its start, db1..db3 after 1 s. The chains run side by side: every db starts before any
    app, and app1..app3 start while db0 is still starting (had the waits run one after
    another in plan order, they would all have waited for db0). The apps are leaves nobody
    waits for, so apply returns before they are healthy; ``--wait`` then waits for them.
    Only the order of events is asserted, not durations: this machine may be loaded."""
    dbs = [slow(f"db{i}", seconds=5 if i == 0 else 1) for i in range(4)]
    apps = [slow(f"app{i}", depends_on={db: healthy}) for i, db in enumerate(dbs)]
    stack = Stack(stack_name, services=[*dbs, *apps])
    health = HealthEvents(docker_client, stack_name)
    try:
        p, _ = converge(engine, [stack])
        app0_after_apply = inspect(docker_client, f"{stack_name}-app0-1")["State"]["Health"][
            "Status"
        ]
    finally:
        health.close()

    assert p.count([Kind.WAIT]) == 4
    info = {s: inspect(docker_client, f"{stack_name}-{s}-1") for s in stack.services}
    start = {s: ns(i["State"]["StartedAt"]) for s, i in info.items()}
    healthy_at = {f"db{i}": health.first[f"{stack_name}-db{i}-1"] for i in range(4)}
    assert max(start[f"db{i}"] for i in range(4)) < min(start[f"app{i}"] for i in range(4))
    for i in range(4):
        assert start[f"db{i}"] < healthy_at[f"db{i}"] < start[f"app{i}"], f"chain {i}"
    for i in (1, 2, 3):
        assert start[f"app{i}"] < healthy_at["db0"], f"app{i} waited for the unrelated db0"
    assert app0_after_apply == "starting"  # apply did not wait for the leaves

    assert DockerBackend().wait_ready(desire([stack]), engine, time.time() + 60) == []
    for i in range(4):
        assert (
            inspect(docker_client, f"{stack_name}-app{i}-1")["State"]["Health"]["Status"]
            == "healthy"
        )
