"""The shipped stacks: examples/matrix (the reference homelab as typed Python) and stacks/.

Two ways in: each ``stack.py`` run on its own (what the file itself promises), and the
project's loader (what ``stackctl validate examples/matrix`` sees, interpolation included).
"""

from __future__ import annotations

import ipaddress
import runpy
import shutil
from pathlib import Path

import pytest

from stackctl import Condition, Mount, Service, Stack

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "matrix"
STACKS = ROOT / "stacks"

EXAMPLE_FILES = {
    "traefik": EXAMPLES / "traefik" / "stack.py",
    "matrix": EXAMPLES / "matrix" / "stack.py",
}
STACK_FILES = {
    "traefik": STACKS / "traefik" / "stack.py",
    "whoami": STACKS / "whoami" / "stack.py",
    "proxy": STACKS / "proxy" / "stack.py",
    "hostgw": STACKS / "hostgw" / "stack.py",
}
ALL_FILES = [*EXAMPLE_FILES.values(), *STACK_FILES.values()]


@pytest.fixture(autouse=True)
def _real_box_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/matrix reads its mode, ports and name prefix from the environment: the
    tests start from a real box's defaults whatever the shell has set."""
    for name in ("STACKCTL_MATRIX_LOCAL", "STACKCTL_MATRIX_PREFIX", "MATRIX_HTTP_PORT",
                 "MATRIX_HTTPS_PORT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def run_stack(path: Path) -> Stack:
    """Execute a stack.py the way a person would, and return its ``stack``."""
    namespace = runpy.run_path(str(path))
    stack = namespace.get("stack")
    assert isinstance(stack, Stack), f"{path} must define a module-level `stack`"
    return stack


def binds(service: Service) -> dict[str, Mount]:
    """Bind mounts of a service by container target."""
    return {m.target: m for m in service.volumes if m.type == "bind"}


# --------------------------------------------------------------------------- every file


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_stack_file_is_consistent(path: Path) -> None:
    stack = run_stack(path)
    assert stack.name == path.parent.name
    for service in stack.services.values():
        assert service.networks, f"{service.name} names its networks explicitly"
        for key in service.networks:
            assert key in stack.networks, f"{service.name} joins undeclared network {key}"
        for dep_name, dependency in service.depends_on.items():
            assert dep_name in stack.services, f"{service.name} depends on unknown {dep_name}"
            if dependency.condition is Condition.HEALTHY:
                check = stack.services[dep_name].healthcheck
                assert check is not None and not check.disabled, (
                    f"{service.name} waits for {dep_name} to be healthy; it needs a check"
                )
        sock = binds(service).get("/var/run/docker.sock")
        if sock is not None:
            assert sock.read_only, f"{service.name}: mount the docker socket read-only"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_config_files_that_are_mounted_exist(path: Path) -> None:
    """Config and placeholder folders ship with the stack; runtime data (./Matrix/<svc>)
    is made by the containers. A missing file source would become an empty directory."""
    stack = run_stack(path)
    for service in stack.services.values():
        for mount in binds(service).values():
            source = mount.source or ""
            if not source.startswith("./"):
                continue
            runtime_data = source.startswith("./Matrix/") and not source.endswith(".sh")
            if not runtime_data:
                assert (path.parent / source).exists(), f"{service.name}: {source} missing"


# --------------------------------------------------------------------------- examples/matrix
# Runnable on one machine (tests/integration/test_matrix.py applies it); the environment
# picks local mode, the ports and a name prefix when the stack loads.


def test_example_traefik_owns_traefik_default_and_acknowledges_the_socket() -> None:
    stack = run_stack(EXAMPLE_FILES["traefik"])
    assert list(stack.networks) == ["default"]
    assert not stack.networks["default"].external
    assert stack.network_name("default") == "traefik_default"
    traefik = stack.services["traefik"]
    assert traefik.container_name == "traefik"
    assert traefik.restart == "always"
    assert binds(traefik)["/var/run/docker.sock"].read_only
    assert [a.rule for a in traefik.acknowledge] == ["docker-socket"]
    assert "--providers.docker=true" in (traefik.command or [])


def test_example_traefik_real_box_uses_lets_encrypt_on_every_interface() -> None:
    traefik = run_stack(EXAMPLE_FILES["traefik"]).services["traefik"]
    command = traefik.command or []
    assert "--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web" in command
    assert "--entrypoints.web.http.redirections.entrypoint.to=websecure" in command
    assert [(p.host_ip, p.published, p.target) for p in traefik.ports] == [
        (None, 80, 80),
        (None, 443, 443),
    ]


def test_example_local_mode_publishes_on_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKCTL_MATRIX_LOCAL", "1")
    monkeypatch.setenv("MATRIX_HTTP_PORT", "18080")
    traefik = run_stack(EXAMPLE_FILES["traefik"]).services["traefik"]
    assert [(p.host_ip, p.published, p.target) for p in traefik.ports] == [
        ("127.0.0.1", 18080, 80),
        ("127.0.0.1", 443, 443),
    ]
    assert not any("letsencrypt" in flag for flag in traefik.command or [])
    nginx = run_stack(EXAMPLE_FILES["matrix"]).services["nginx"]
    assert nginx.labels["traefik.http.routers.matrix.rule"] == "Host(`matrix.localhost`)"
    assert nginx.labels["traefik.http.routers.matrix-secure.tls"] == "true"
    assert "/etc/nginx/matrix/admin.conf" in binds(nginx)  # shared-secret registration


def test_example_prefix_names_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKCTL_MATRIX_PREFIX", "t1-")
    traefik = run_stack(EXAMPLE_FILES["traefik"])
    matrix = run_stack(EXAMPLE_FILES["matrix"])
    assert (traefik.name, matrix.name) == ("t1-traefik", "t1-matrix")
    assert traefik.network_name("default") == matrix.network_name("traefik_default")
    assert matrix.network_name("traefik_default") == "t1-traefik_default"
    assert matrix.network_name("matrix_network") == "t1-matrix_network"
    names = {s.container_name for s in matrix.services.values()}
    assert names == {"t1-postgres", "t1-synapse", "t1-matrix-nginx"}


def test_example_matrix_networks_and_order() -> None:
    stack = run_stack(EXAMPLE_FILES["matrix"])
    assert stack.networks["traefik_default"].external
    assert stack.network_name("traefik_default") == "traefik_default"
    assert not stack.networks["matrix_network"].external  # this stack's back end
    assert stack.network_name("matrix_network") == "matrix_network"
    assert list(stack.services["postgres"].networks) == ["matrix_network"]
    assert list(stack.services["synapse"].networks) == ["matrix_network"]
    nginx = stack.services["nginx"]
    assert set(nginx.networks) == {"traefik_default", "matrix_network"}
    assert nginx.labels["traefik.docker.network"] == "traefik_default"
    assert nginx.labels["traefik.http.routers.matrix-secure.tls.certresolver"] == "letsencrypt"


def test_example_matrix_dependencies_and_health_checks() -> None:
    services = run_stack(EXAMPLE_FILES["matrix"]).services
    assert services["synapse"].depends_on["postgres"].condition is Condition.HEALTHY
    assert services["nginx"].depends_on["synapse"].condition is Condition.HEALTHY
    pg_check = services["postgres"].healthcheck
    assert pg_check is not None
    assert pg_check.test == ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U postgres"]
    syn_check = services["synapse"].healthcheck
    assert syn_check is not None
    assert syn_check.test == ["CMD-SHELL", "curl -fsS http://localhost:8008/health || exit 1"]
    volumes = {m.target: m.source for m in services["postgres"].volumes}
    assert volumes == {"/var/lib/postgresql/data": "pgdata"}


def test_example_matrix_readme_says_how_to_run_it() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    assert "STACKCTL_MATRIX_LOCAL=1" in readme
    assert "stackctl validate examples/matrix" in readme
    assert "stackctl plan examples/matrix" in readme
    assert "scripts/demo.sh matrix" in readme


# --------------------------------------------------------------------------- stacks/


def test_stacks_whoami_joins_the_network_traefik_defines() -> None:
    traefik = run_stack(STACK_FILES["traefik"])
    whoami = run_stack(STACK_FILES["whoami"])

    assert not traefik.networks["default"].external
    assert traefik.network_name("default") == "traefik_default"
    assert traefik.services["traefik"].image == "traefik:v3.1"

    assert whoami.networks["traefik_default"].external
    assert whoami.network_name("traefik_default") == "traefik_default"
    service = whoami.services["whoami"]
    assert service.image == "traefik/whoami:v1.10"
    assert service.ports == []  # Traefik reaches it; nothing is published
    assert service.labels["traefik.enable"] == "true"
    assert service.labels["traefik.docker.network"] == "traefik_default"
    assert "Host(" in service.labels["traefik.http.routers.whoami.rule"]


def test_stacks_external_networks_are_all_provided_in_the_repo() -> None:
    stacks = [run_stack(p) for p in STACK_FILES.values()]
    owned = {s.network_name(key) for s in stacks for key, n in s.networks.items() if not n.external}
    used = {s.network_name(key) for s in stacks for key, n in s.networks.items() if n.external}
    assert used <= owned, f"no stack in stacks/ defines {sorted(used - owned)}"


def test_stacks_proxy_reaches_web_by_name() -> None:
    stack = run_stack(STACK_FILES["proxy"])
    web, nginx = stack.services["web"], stack.services["nginx"]
    assert stack.network_name("default") == "proxy_default"
    assert list(web.networks) == list(nginx.networks) == ["default"]
    assert web.image == "hashicorp/http-echo:1.0"
    assert web.command == ["-listen=:8080", "-text=hello"]
    assert web.ports == []
    assert [(p.host_ip, p.published, p.target) for p in nginx.ports] == [("127.0.0.1", 8080, 80)]
    assert binds(nginx)["/etc/nginx/nginx.conf"].read_only
    assert "proxy_pass http://web:8080;" in (STACKS / "proxy" / "nginx.conf").read_text()


def test_stacks_hostgw_has_a_fixed_subnet_gateway_and_address() -> None:
    stack = run_stack(STACK_FILES["hostgw"])
    net = stack.networks["default"]
    assert net.ipam is not None
    (pool,) = net.ipam.config
    assert (pool.subnet, pool.gateway) == ("172.18.0.0/16", "172.18.0.1")

    nginx = stack.services["nginx"]
    address = nginx.networks["default"].ipv4_address
    assert address == "172.18.0.2"
    assert ipaddress.ip_address(address) in ipaddress.ip_network("172.18.0.0/16")
    assert [(p.host_ip, p.published, p.target) for p in nginx.ports] == [("127.0.0.1", 8081, 80)]
    conf = (STACKS / "hostgw" / "nginx.conf").read_text()
    assert "proxy_pass http://172.18.0.1:8080;" in conf


@pytest.mark.parametrize("path", STACK_FILES.values(), ids=lambda p: p.parent.name)
def test_stacks_pin_images_and_keep_ports_local(path: Path) -> None:
    stack = run_stack(path)
    for service in stack.services.values():
        _, _, tag = service.image.rpartition(":")
        assert ":" in service.image and tag != "latest", f"{service.name}: pin the image"
        for port in service.ports:
            if service.name != "traefik":  # the edge listens everywhere on purpose
                assert port.host_ip == "127.0.0.1", f"{service.name}: bind to 127.0.0.1"


def test_stacks_repo_keeps_env_out_of_git() -> None:
    assert ".env" in (STACKS / ".gitignore").read_text().split()
    # .env is read from beside each stack.py; whoami is the stack that uses one.
    assert (STACKS / "whoami" / ".env.example").exists()
    assert (EXAMPLES / "matrix" / ".env.example").exists()
    assert ".env" in (EXAMPLES / "matrix" / ".gitignore").read_text().split()
    assert "traefik" in (STACKS / "README.md").read_text()


# --------------------------------------------------------------------------- the loader


def _load(path: Path) -> dict[str, Stack]:
    load = pytest.importorskip("stackctl.load")
    stacks = load.load_paths([path])
    by_name = {s.name: s for s in stacks}
    assert len(by_name) == len(stacks)
    return by_name


def test_loader_reads_example_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATRIX_DOMAIN", "chat.example.org")
    monkeypatch.setenv("ACME_EMAIL", "admin@example.org")
    stacks = _load(EXAMPLES)
    assert set(stacks) == {"traefik", "matrix"}
    matrix = stacks["matrix"]
    assert matrix.networks["traefik_default"].external
    rule = matrix.services["nginx"].labels["traefik.http.routers.matrix-secure.rule"]
    assert rule == "Host(`chat.example.org`)"
    traefik = stacks["traefik"]
    assert "--certificatesresolvers.letsencrypt.acme.email=admin@example.org" in (
        traefik.services["traefik"].command or []
    )
    assert traefik.origin == EXAMPLE_FILES["traefik"]


def _copy_without_env(src: Path, dst: Path) -> Path:
    """The folder as a fresh clone has it: a developer's own .env files left out."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".env"))
    return dst


def test_loader_stops_on_a_real_box_without_a_domain(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MATRIX_DOMAIN", raising=False)
    monkeypatch.delenv("STACKCTL_MATRIX_LOCAL", raising=False)
    monkeypatch.setenv("ACME_EMAIL", "admin@example.org")
    from stackctl.errors import StackctlError

    with pytest.raises(StackctlError, match="set MATRIX_DOMAIN"):
        _load(_copy_without_env(EXAMPLES, tmp_path / "matrix"))


def test_loader_reads_stacks_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WHOAMI_HOST", raising=False)
    stacks = _load(_copy_without_env(STACKS, tmp_path / "stacks"))
    assert set(stacks) == set(STACK_FILES)
    assert stacks["traefik"].network_name("default") == "traefik_default"
    whoami = stacks["whoami"]
    assert whoami.networks["traefik_default"].external
    rule = whoami.services["whoami"].labels["traefik.http.routers.whoami.rule"]
    assert rule == "Host(`whoami.localhost`)"
