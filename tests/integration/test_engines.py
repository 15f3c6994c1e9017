"""The version-dependent paths of the docker engine seam, on each tested engine.

Below Engine API 1.44 stackctl creates a container on its first network and connects the
others before it starts; from 1.44 every network is given at create. From API 1.45 the
daemon no longer lists the container's short id among an endpoint's ``Aliases`` (it is
in ``DNSNames`` instead): stackctl's drift detection compares network names and the
config hash label, never aliases, so a second plan is empty on both engines.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from typing import Any

import docker
import pytest

from stackctl import Network, Service, Stack
from stackctl.backends.docker.observe import observe
from stackctl.core.plan import Kind
from stackctl.engine import DockerEngine
from stackctl.engine.docker import MULTI_NETWORK_CREATE, _version_tuple
from tests.conftest import BUSYBOX
from tests.engines import ENGINE26, HOST, EngineTarget
from tests.support import converge, make_plan

pytestmark = pytest.mark.integration

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


def free_subnet(client: docker.DockerClient) -> str:
    """A /24 that no network on this engine uses (engines are shared by parallel runs)."""
    used = set()
    for net in client.api.networks():
        for pool in ((net.get("IPAM") or {}).get("Config")) or []:
            if pool.get("Subnet"):
                used.add(pool["Subnet"])
    for _ in range(100):
        subnet = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}.0/24"
        if subnet not in used:
            return subnet
    raise AssertionError("no free 10.200-250.x.0/24 subnet")


def two_network_stack(name: str, subnet: str, env: str = "1") -> Stack:
    static = subnet.replace(".0/24", ".10")
    front = Network("front", ipam={"subnet": subnet})
    back = Network("back")
    app = Service(
        "app",
        image=BUSYBOX,
        command=LOOP,
        restart="unless-stopped",
        environment={"V": env},
        networks={
            front: {"ipv4_address": static, "aliases": ["app-front"]},
            back: {"aliases": ["app-back"]},
        },
    )
    probe = Service("probe", image=BUSYBOX, command=LOOP, networks=[front, back])
    return Stack(name, services=[app, probe], networks=[front, back])


def spy_connects(engine: DockerEngine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every network connect stackctl makes through ``engine``."""
    seen: list[str] = []
    real: Callable[..., None] = engine.connect

    def connect(container: str, net: Any) -> None:
        seen.append(net.name)
        real(container, net)

    monkeypatch.setattr(engine, "connect", connect)
    return seen


def resolve(client: docker.DockerClient, container: str, host: str) -> str:
    """The address ``host`` resolves to inside ``container`` (busybox ping, one packet)."""
    c = client.containers.get(container)
    out = ""
    for _ in range(20):  # the embedded DNS learns a new endpoint within moments
        res = c.exec_run(["ping", "-c1", "-W2", host])
        out = res.output.decode(errors="replace")
        m = re.search(r"PING \S+ \(([0-9.]+)\)", out)
        if res.exit_code == 0 and m:
            return m.group(1)
        time.sleep(0.25)
    raise AssertionError(f"{host} does not resolve/answer from {container}: {out}")


def endpoint_view(client: docker.DockerClient, container: str) -> dict[str, dict[str, Any]]:
    return dict(client.api.inspect_container(container)["NetworkSettings"]["Networks"])


def test_negotiated_api_version_picks_the_create_path(engine, engine_target: EngineTarget):
    version = _version_tuple(engine.api_version())
    assert engine.multi_network_create is (version >= MULTI_NETWORK_CREATE)
    if engine_target.id == HOST:
        assert engine.api_version() == "1.41" and not engine.multi_network_create
    if engine_target.id == ENGINE26:
        assert engine.api_version() == "1.45" and engine.multi_network_create


def test_the_api_version_is_negotiated_with_one_ping(engine_target: EngineTarget, monkeypatch):
    # GET /version (the SDK's own way) makes Docker 20.10 run `runc --version` and
    # `docker-init --version`, up to half a second on a host busy with health checks.
    def no_version(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("GET /version was called")

    monkeypatch.setattr(docker.APIClient, "version", no_version)
    eng = DockerEngine(base_url=engine_target.base_url)
    try:
        assert dict(eng.call_counts()) == {"GET": 1}
    finally:
        eng.close()
    monkeypatch.undo()
    sdk = docker.APIClient(base_url=engine_target.base_url, version="auto")
    try:
        assert eng.api_version() == sdk.api_version  # what the SDK's GET /version finds
    finally:
        sdk.close()


def test_container_on_two_networks_with_aliases_and_a_static_address(
    engine, stack_name, docker_client, monkeypatch
) -> None:
    subnet = free_subnet(docker_client)
    static = subnet.replace(".0/24", ".10")
    stack = two_network_stack(stack_name, subnet)
    connects = spy_connects(engine, monkeypatch)
    converge(engine, [stack])

    # The version-dependent path: connect-before-start below 1.44, one create from 1.44.
    front, back = f"{stack_name}_front", f"{stack_name}_back"
    if engine.multi_network_create:
        assert connects == []
    else:
        # app and probe: created on their first network, the second one connected.
        assert len(connects) == 2 and set(connects) <= {front, back}

    app = f"{stack_name}-app-1"
    nets = endpoint_view(docker_client, app)
    assert set(nets) == {front, back}
    assert nets[front]["IPAddress"] == static
    assert (nets[front].get("IPAMConfig") or {}).get("IPv4Address") == static
    assert {"app", "app-front"} <= set(nets[front]["Aliases"] or [])
    assert {"app", "app-back"} <= set(nets[back]["Aliases"] or [])
    short_id = docker_client.containers.get(app).id[:12]
    for ep in nets.values():
        if _version_tuple(engine.api_version()) >= (1, 45):
            # API 1.45: the short id left Aliases for DNSNames.
            assert short_id not in (ep["Aliases"] or [])
            assert short_id in (ep.get("DNSNames") or [])
        else:
            assert short_id in (ep["Aliases"] or [])

    # Every alias answers from another container, on its own network.
    probe = f"{stack_name}-probe-1"
    assert resolve(docker_client, probe, "app-front") == static
    assert resolve(docker_client, probe, "app-back") == nets[back]["IPAddress"]
    assert resolve(docker_client, probe, app) in {static, nets[back]["IPAddress"]}

    # The planner sees it in sync: both networks, the address, nothing to do.
    observed = observe(engine).container(app)
    assert observed is not None and observed.networks[front] == static
    assert not make_plan(engine, [stack]).has_changes


def test_replacement_keeps_both_networks_and_aliases(engine, stack_name, docker_client) -> None:
    subnet = free_subnet(docker_client)
    static = subnet.replace(".0/24", ".10")
    converge(engine, [two_network_stack(stack_name, subnet)])
    app = f"{stack_name}-app-1"
    old_id = docker_client.containers.get(app).id

    changed = two_network_stack(stack_name, subnet, env="2")
    p = make_plan(engine, [changed])
    assert [(op.kind, op.resource) for op in p.operations if op.kind != Kind.WAIT] == [
        (Kind.REPLACE, app)
    ]
    converge(engine, [changed])

    new = docker_client.containers.get(app)
    assert new.id != old_id and new.status == "running"
    nets = endpoint_view(docker_client, app)
    assert set(nets) == {f"{stack_name}_front", f"{stack_name}_back"}
    assert nets[f"{stack_name}_front"]["IPAddress"] == static
    assert resolve(docker_client, f"{stack_name}-probe-1", "app-front") == static
    assert (
        resolve(docker_client, f"{stack_name}-probe-1", "app-back")
        == (nets[f"{stack_name}_back"]["IPAddress"])
    )
    assert not make_plan(engine, [changed]).has_changes
