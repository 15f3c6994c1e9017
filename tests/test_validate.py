"""Semantic validation: one stack (or set of stacks) per rule, each breaking only that rule.

Every case says which rule fires, in which stack's file, at which attribute path; the
stacks get an origin and a line for that path, so the diagnostic must carry both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stackctl import (
    Deploy,
    Healthcheck,
    Mount,
    Network,
    Secret,
    SecretSource,
    Service,
    Stack,
    Volume,
    completed,
    healthy,
    started,
)
from stackctl.errors import Diagnostic
from stackctl.rules import (
    ENGINES,
    RULES,
    has_errors,
    looks_like_inline_secret,
    resolve_engine,
    validate,
)

LINE = 42
SOCK = "/var/run/docker.sock"
EDGE = Network("edge", external=True)
PG = Healthcheck.shell("pg_isready", interval="5s")


def origin(name: str) -> Path:
    return Path(f"/srv/stacks/{name}/stack.yaml")


def located(stacks: list[Stack], path: str) -> list[Stack]:
    """Give every stack a file, and line LINE for ``path``."""
    return [s.with_origin(origin(s.name), {"name": 1, path: LINE}) for s in stacks]


def svc(name: str, image: str = "nginx:1.25", **kw: object) -> Service:
    return Service(name, image=image, **kw)


def net(key: str, subnet: str | None = None, **kw: object) -> Network:
    if subnet is not None:
        gateway = {"gateway": kw.pop("gateway")} if "gateway" in kw else {}
        kw["ipam"] = {"subnet": subnet, **gateway}
    return Network(key, **kw)


def stack(name: str, *services: Service, **kw: object) -> Stack:
    return Stack(name, services=list(services), **kw)


def fixed(key: str, address: str) -> dict[str, dict[str, str]]:
    return {key: {"ipv4_address": address}}


Build = Callable[[], list[Stack]]

# (rule id, severity, blamed stack, attribute path, words the message or hint must hold, stacks)
CASES: list[tuple[str, str, str, str, tuple[str, ...], Build]] = [
    (
        "relabel-anonymous-volume", "error", "app", "services.web.volumes.0",
        ("empty source", "unset variable", ":z", "set the variable"),
        lambda: [stack("app", svc("web", volumes=[":/var/run/docker.sock:ro,z"]))],
    ),
    (
        "relabel-anonymous-volume", "error", "app", "services.web.volumes.0",
        ("anonymous volume at /data", ":Z", "give the volume a name"),
        lambda: [stack("app", svc("web", volumes=[
            {"type": "volume", "target": "/data", "bind": {"selinux": "Z"}}]))],
    ),
    (
        "unknown-network", "error", "app", "services.web.networks.bakend",
        ("bakend", "did you mean 'backend'"),
        lambda: [stack("app", svc("web", networks=["bakend"]), networks=[net("backend")])],
    ),
    (
        "unknown-volume", "error", "app", "services.db.volumes.0",
        ("pgdata", "did you mean 'pg_data'"),
        lambda: [stack("app", svc("db", volumes=["pgdata:/var/lib/postgresql/data"]),
                       volumes=[Volume("pg_data")])],
    ),
    (
        "unknown-volume", "error", "app", "services.web.volumes.0",
        ("'data/html'", "./data/html"),
        lambda: [stack("app", svc("web", volumes=["data/html:/usr/share/nginx/html"]))],
    ),
    (
        "unknown-secret", "error", "app", "services.db.secrets.0",
        ("db_pass", "did you mean 'db_password'"),
        lambda: [stack("app", svc("db", secrets=["db_pass"]),
                       secrets=[SecretSource("db_password", file="./pw")])],
    ),
    (
        "unknown-service", "error", "app", "services.app.depends_on.postgress",
        ("postgress", "did you mean 'postgres'"),
        lambda: [stack("app", svc("app", depends_on={"postgress": started}),
                       svc("postgres", "postgres:16"))],
    ),
    (
        "dependency-cycle", "error", "app", "services.a.depends_on.b",
        ("a -> b -> a",),
        lambda: [stack("app", svc("a", depends_on=["b"]), svc("b", depends_on=["a"]))],
    ),
    (
        "dependency-cycle", "error", "app", "services.a.depends_on.a",
        ("a -> a",),
        lambda: [stack("app", svc("a", depends_on=["a"]))],
    ),
    (
        "healthcheck-missing", "warning", "app", "services.synapse.depends_on.postgres",
        ("healthy", "is not defined in the stack", "add a healthcheck to 'postgres'"),
        lambda: [stack("app", svc("synapse", depends_on={"postgres": healthy}),
                       svc("postgres", "postgres:16"))],
    ),
    (
        "healthcheck-disabled", "error", "app", "services.synapse.depends_on.postgres",
        ("is disabled", "never becomes healthy"),
        lambda: [stack("app", svc("synapse", depends_on={"postgres": healthy}),
                       svc("postgres", "postgres:16", healthcheck=Healthcheck.none()))],
    ),
    (
        "invalid-address", "error", "app", "services.web.networks.lan.ipv4_address",
        ("172.18.0.300", "not an IPv4 address"),
        lambda: [stack("app", svc("web", networks=fixed("lan", "172.18.0.300")),
                       networks=[net("lan", "172.18.0.0/16")])],
    ),
    (
        "address-without-subnet", "error", "app", "services.web.networks.lan.ipv4_address",
        ("no IPv4 subnet", "ipam"),
        lambda: [stack("app", svc("web", networks=fixed("lan", "172.18.0.2")),
                       networks=[net("lan")])],
    ),
    (
        "address-outside-subnet", "error", "app", "services.web.networks.lan.ipv4_address",
        ("172.19.0.2", "172.18.0.0/16"),
        lambda: [stack("app", svc("web", networks=fixed("lan", "172.19.0.2")),
                       networks=[net("lan", "172.18.0.0/16")])],
    ),
    (
        "address-outside-subnet", "error", "app", "services.web.networks.lan.ipv4_address",
        ("not a host address",),
        lambda: [stack("app", svc("web", networks=fixed("lan", "172.18.255.255")),
                       networks=[net("lan", "172.18.0.0/16")])],
    ),
    (
        "address-is-gateway", "error", "app", "services.web.networks.lan.ipv4_address",
        ("gateway", "first host address of 172.18.0.0/16"),
        lambda: [stack("app", svc("web", networks=fixed("lan", "172.18.0.1")),
                       networks=[net("lan", "172.18.0.0/16")])],
    ),
    (
        "address-is-gateway", "error", "app", "services.web.networks.lan.ipv4_address",
        ("the network's gateway",),
        lambda: [stack("app", svc("web", networks=fixed("lan", "172.18.0.254")),
                       networks=[net("lan", "172.18.0.0/16", gateway="172.18.0.254")])],
    ),
    (
        "duplicate-address", "error", "app", "services.b.networks.lan.ipv4_address",
        ("172.18.0.5", "already taken by service 'a'"),
        lambda: [stack("app", svc("a", networks=fixed("lan", "172.18.0.5")),
                       svc("b", networks=fixed("lan", "172.18.0.5")),
                       networks=[net("lan", "172.18.0.0/16")])],
    ),
    (
        # across stacks: proxy joins edge's network as external and takes the same address
        "duplicate-address", "error", "proxy", "services.nginx.networks.edge_lan.ipv4_address",
        ("already taken by service 'traefik' of stack 'edge'",),
        lambda: [
            stack("edge", svc("traefik", networks=fixed("lan", "10.5.0.2")),
                  networks=[net("lan", "10.5.0.0/24")]),
            stack("proxy", svc("nginx", networks=fixed("edge_lan", "10.5.0.2")),
                  networks=[Network("edge_lan", external=True)]),
        ],
    ),
    (
        # the provider's subnet applies to the external user
        "address-outside-subnet", "error", "proxy",
        "services.nginx.networks.edge_lan.ipv4_address",
        ("10.6.0.2", "defined by stack 'edge'"),
        lambda: [
            stack("edge", svc("traefik"), networks=[net("lan", "10.5.0.0/24")]),
            stack("proxy", svc("nginx", networks=fixed("edge_lan", "10.6.0.2")),
                  networks=[Network("edge_lan", external=True)]),
        ],
    ),
    (
        "duplicate-address", "error", "app", "services.web.networks.lan.ipv4_address",
        ("3 replicas",),
        lambda: [stack("app", svc("web", replicas=3, networks=fixed("lan", "172.18.0.5")),
                       networks=[net("lan", "172.18.0.0/16")])],
    ),
    (
        "invalid-ipam", "error", "app", "networks.lan.ipam.config.0.subnet",
        ("'172.18.0/33'", "not a network"),
        lambda: [stack("app", svc("web", networks=["lan"]), networks=[net("lan", "172.18.0/33")])],
    ),
    (
        "invalid-ipam", "error", "app", "networks.lan.ipam.config.0.subnet",
        ("host bits", "write 172.18.0.0/16"),
        lambda: [stack("app", svc("web", networks=["lan"]),
                       networks=[net("lan", "172.18.0.1/16")])],
    ),
    (
        "invalid-ipam", "error", "app", "networks.lan.ipam.config.0.gateway",
        ("gateway 10.0.0.1 is outside the subnet 172.18.0.0/16",),
        lambda: [stack("app", svc("web", networks=["lan"]),
                       networks=[net("lan", "172.18.0.0/16", gateway="10.0.0.1")])],
    ),
    (
        "invalid-ipam", "error", "app", "networks.lan.ipam.config.0.ip_range",
        ("ip_range 172.19.0.0/24 is not inside",),
        lambda: [stack("app", svc("web", networks=["lan"]), networks=[Network(
            "lan", ipam={"config": [{"subnet": "172.18.0.0/16", "ip_range": "172.19.0.0/24"}]})])],
    ),
    (
        "invalid-ipam", "error", "app", "networks.lan.ipam.config.0",
        ("needs a subnet",),
        lambda: [stack("app", svc("web", networks=["lan"]),
                       networks=[Network("lan", ipam={"config": [{"gateway": "10.0.0.1"}]})])],
    ),
    (
        "ipam-not-allowed", "error", "app", "networks.hostnet.ipam",
        ("driver 'host'",),
        lambda: [stack("app", svc("web", networks=["hostnet"]),
                       networks=[net("hostnet", "10.0.0.0/24", driver="host")])],
    ),
    (
        "overlapping-subnets", "error", "b", "networks.lan.ipam.config.0.subnet",
        ("10.1.0.0/24 of network 'lan' overlaps 10.1.0.0/16", "stack 'a'"),
        lambda: [
            stack("a", svc("web", networks=["lan"]), networks=[net("lan", "10.1.0.0/16")]),
            stack("b", svc("web", networks=["lan"]), networks=[net("lan", "10.1.0.0/24")]),
        ],
    ),
    (
        "duplicate-network", "error", "b", "networks.shared",
        ("Docker network 'shared'", "stack 'a'"),
        lambda: [
            stack("a", svc("web", networks=["shared"]), networks=[net("shared", name="shared")]),
            stack("b", svc("api", networks=["shared"]), networks=[net("shared", name="shared")]),
        ],
    ),
    (
        "duplicate-volume", "error", "x_a", "volumes.b",
        ("Docker volume 'x_a_b'", "volume 'a_b' of stack 'x'", "external: true"),
        lambda: [
            stack("x", svc("db", volumes=["a_b:/d"]), volumes=[Volume("a_b")]),
            stack("x_a", svc("app", volumes=["b:/d"]), volumes=[Volume("b")]),
        ],
    ),
    (
        "duplicate-volume", "error", "y", "volumes.logs.name",
        ("Docker volume 'shared'", "volume 'data' of stack 'y'"),
        lambda: [
            stack("y", svc("db", volumes=["data:/d", "logs:/l"]),
                  volumes=[Volume("data", name="shared"), Volume("logs", name="shared")]),
        ],
    ),
    (
        "duplicate-host-port", "error", "b", "services.web.ports.0",
        ("host port 80/tcp", "service 'proxy' of stack 'a'", "/srv/stacks/a/stack.yaml"),
        lambda: [stack("a", svc("proxy", ports=["80:80"])),
                 stack("b", svc("web", ports=["80:8080"]))],
    ),
    (
        "duplicate-host-port", "error", "app", "services.b.ports.0",
        ("127.0.0.1:8080/tcp",),
        lambda: [stack("app", svc("a", ports=["0.0.0.0:8080:80"]),
                       svc("b", ports=["127.0.0.1:8080:80"]))],
    ),
    (
        "duplicate-host-port", "error", "app", "services.web.ports.0",
        ("2 replicas",),
        lambda: [stack("app", svc("web", ports=["8080:80"], deploy=Deploy(replicas=2)))],
    ),
    (
        "duplicate-container-name", "error", "b", "services.web.container_name",
        ("'nginx'", "stack 'a'"),
        lambda: [stack("a", svc("proxy", container_name="nginx")),
                 stack("b", svc("web", container_name="nginx"))],
    ),
    (
        # default names can clash too: a-b + c and a + b-c both give a-b-c-1
        "duplicate-container-name", "error", "a", "services.b-c",
        ("'a-b-c-1'",),
        lambda: [stack("a-b", svc("c")), stack("a", svc("b-c"))],
    ),
    (
        "container-name-with-replicas", "error", "app", "services.web.container_name",
        ("3 replicas",),
        lambda: [stack("app", svc("web", container_name="web", replicas=3))],
    ),
    (
        "invalid-extra-host", "error", "app", "services.web.extra_hosts.db",
        ("'db.local'", "host-gateway"),
        lambda: [stack("app", svc("web", extra_hosts={"db": "db.local"}))],
    ),
    (
        "invalid-dns", "error", "app", "services.web.dns.1",
        ("'dns.google'",),
        lambda: [stack("app", svc("web", dns=["1.1.1.1", "dns.google"]))],
    ),
    (
        "nul-character", "error", "app", "services.web.environment.GREETING",
        ("NUL character", "remove it"),
        lambda: [stack("app", svc("web", environment={"GREETING": "hello\x00world"}))],
    ),
    (
        "nul-character", "error", "app", "services.web.environment.PASSWORD",
        ("NUL character",),
        lambda: [stack("app", svc("web", environment={"PASSWORD": Secret("pw\x00")}))],
    ),
    (
        "nul-character", "error", "app", "services.web.command.2",
        ("NUL character",),
        lambda: [stack("app", svc("web", command=["sh", "-c", "echo \x00"]))],
    ),
    (
        "nul-character", "error", "app", "services.web.hostname",
        ("NUL character",),
        lambda: [stack("app", svc("web", hostname="h\x00"))],
    ),
    (
        "predefined-network", "error", "app", "services.web.networks.edge",
        ("predefined network 'host'", "user-defined network"),
        lambda: [stack("app", svc("web", networks=["edge"]),
                       networks=[net("edge", name="host", external=True)])],
    ),
    (
        "predefined-network", "error", "app", "services.web.networks.bridge",
        ("predefined network 'bridge'",),
        lambda: [stack("app", svc("web", networks=["bridge"]),
                       networks=[net("bridge", external=True)])],
    ),
    (
        "predefined-network", "error", "app", "services.web.networks.none",
        ("predefined network 'none'",),
        lambda: [stack("app", svc("web", networks=["none"]),
                       networks=[net("none", external=True)])],
    ),
    (
        "predefined-network", "error", "app", "networks.lan",
        ("driver 'host'", "refuses a second"),
        lambda: [stack("app", svc("web", networks=["lan"]),
                       networks=[net("lan", driver="host")])],
    ),
    (
        "network-mode-conflict", "error", "app", "services.web.networks",
        ("`network_mode` and `networks`", "keep one of them"),
        lambda: [stack("app", svc("web", network_mode="host", networks=["lan"]),
                       networks=[net("lan")])],
    ),
    (
        "network-mode-conflict", "error", "app", "services.web.ports",
        ("host's ports directly", "remove `ports`"),
        lambda: [stack("app", svc("web", network_mode="host", ports=["8080:80"]))],
    ),
    (
        "network-mode-conflict", "error", "app", "services.web.ports",
        ("refuses to publish", "on the service that owns the namespace (service:vpn)"),
        lambda: [stack("app", svc("vpn"), svc("web", network_mode="service:vpn",
                                              ports=["8080:80"]))],
    ),
    (
        "network-mode-conflict", "error", "app", "services.web.hostname",
        ("another container's network namespace",),
        lambda: [stack("app", svc("web", network_mode="container:gluetun", hostname="w"))],
    ),
    (
        "network-mode-conflict", "error", "app", "services.web.dns",
        ("DNS servers",),
        lambda: [stack("app", svc("vpn"), svc("web", network_mode="service:vpn",
                                              dns=["1.1.1.1"]))],
    ),
    (
        "unknown-shared-service", "error", "app", "services.web.network_mode",
        ("'vnp'", "did you mean 'vpn'"),
        lambda: [stack("app", svc("vpn"), svc("web", network_mode="service:vnp"))],
    ),
    (
        "unknown-shared-service", "error", "app", "services.web.network_mode",
        ("itself",),
        lambda: [stack("app", svc("web", network_mode="service:web"))],
    ),
    (
        "unknown-shared-service", "error", "app", "services.web.links.0",
        ("links to 'dbb'", "did you mean 'db'"),
        lambda: [stack("app", svc("db"), svc("web", links=["dbb:database"]))],
    ),
    (
        "link-no-network", "error", "app", "services.web.links.0",
        ("share no network", "as 'database'"),
        lambda: [stack("app", svc("db", networks=["a"]), svc("web", links=["db:database"],
                                                              networks=["b"]),
                       networks=[net("a"), net("b")])],
    ),
    (
        "limits-conflict", "error", "app", "services.web.mem_limit",
        ("deploy.resources.limits.memory", "different values"),
        lambda: [stack("app", svc("web", mem_limit="512m",
                                  deploy={"resources": {"limits": {"memory": "1g"}}}))],
    ),
    (
        "limits-conflict", "error", "app", "services.web.cpus",
        ("deploy.resources.limits.cpus",),
        lambda: [stack("app", svc("web", cpus=0.5,
                                  deploy={"resources": {"limits": {"cpus": "1"}}}))],
    ),
    (
        "dependency-cycle", "error", "app", "services.a",
        ("dependency cycle", "shared namespace"),
        lambda: [stack("app", svc("a", network_mode="service:b"),
                       svc("b", network_mode="service:a"))],
    ),
    (
        "unknown-config", "error", "app", "services.web.configs.0",
        ("config 'ap'", "did you mean 'app'"),
        lambda: [stack("app", svc("web", configs=["ap"]),
                       configs={"app": {"file": "./app.conf"}})],
    ),
    (
        "config-source", "error", "app", "configs.app.external",
        ("`external`", "use `file: ./NAME`"),
        lambda: [stack("app", svc("web", configs=["app"]), configs={"app": {"external": True}})],
    ),
    (
        "config-copy", "error", "app", "services.web.configs.0",
        ("read_only", "cannot be copied"),
        lambda: [stack("app", svc("web", configs=["app"], read_only=True),
                       configs={"app": {"content": "x"}})],
    ),
    (
        "config-copy", "error", "app", "services.web.configs.0.uid",
        ("uid 'www'", "numeric uid"),
        lambda: [stack("app", svc("web", configs=[{"source": "app", "uid": "www"}]),
                       configs={"app": {"environment": "APP_CONF"}})],
    ),
    (
        "swarm-unsupported-host-setting", "error", "app", "services.web.network_mode",
        ("not supported on Swarm", "overlay networks"),
        lambda: [stack("app", svc("web", network_mode="host"), engine="swarm")],
    ),
    (
        "swarm-unsupported-mount-option", "error", "app", "services.web.volumes.1",
        ("tmpfs.mode on the mount at /t", "not supported on Swarm", "docker engine"),
        lambda: [stack("app", svc("web", volumes=["/srv:/srv", {
            "type": "tmpfs", "target": "/t", "tmpfs": {"mode": "0o700"}}]), engine="swarm")],
    ),
    (
        "swarm-unsupported-host-setting", "error", "app", "services.web.mem_limit",
        ("deploy.resources.limits.memory",),
        lambda: [stack("app", svc("web", mem_limit="1g"), engine="swarm")],
    ),
    (
        "duplicate-stack", "error", "app", "name",
        ("'app'", "/srv/stacks/app/stack.yaml"),
        lambda: [stack("app", svc("web", networks=["edge"]), networks=[EDGE]),
                 stack("app", svc("api", networks=["edge"]), networks=[EDGE])],
    ),
    (
        "missing-env-file", "error", "app", "services.web.env_file.0",
        ("./web.env", "/srv/stacks/app/web.env"),
        lambda: [stack("app", svc("web", env_file="./web.env"))],
    ),
    (
        "stack-cycle", "error", "a", "networks.b_default",
        ("a -> b -> a", "a uses network 'b_default' that b defines"),
        lambda: [
            stack("a", svc("web", networks=["default", "b_default"]),
                  networks=[Network("default"), Network("b_default", external=True)]),
            stack("b", svc("web", networks=["default", "a_default"]),
                  networks=[Network("default"), Network("a_default", external=True)]),
        ],
    ),
    (
        "bind-outside-stack", "warning", "app", "services.web.volumes.1",
        ("'../../etc'", "outside the stack's folder", "use an absolute path"),
        lambda: [stack("app", svc("web", volumes=["./data:/data", "../../etc:/host-etc:ro"]))],
    ),
    (
        "invalid-name", "error", "app", "services.wéb",
        ("'app-wéb-1'", "not a name Docker accepts", "rename the service"),
        lambda: [stack("app", svc("wéb"))],
    ),
    (
        "invalid-name", "error", "app", "volumes.v:x",
        ("'app_v:x'", "rename the volume"),
        lambda: [stack("app", svc("web"), volumes=[Volume("v:x")])],
    ),
    # warnings
    (
        "docker-socket", "warning", "app", "services.traefik.volumes.0",
        ("read-write", "socket proxy"),
        lambda: [stack("app", svc("traefik", volumes=[f"/var/run/docker.sock:{SOCK}"]))],
    ),
    (
        "docker-socket", "warning", "app", "services.traefik.volumes.0",
        ("read-only",),
        lambda: [stack("app", svc("traefik", volumes=[f"/run/docker.sock:{SOCK}:ro"]))],
    ),
    *(
        (
            "docker-socket", "warning", "app", "services.web.volumes.0", words,
            lambda source=source: [stack("app", svc("web", volumes=[f"{source}:/s"]))],
        )
        for source, words in [
            ("//var/run/docker.sock", ("the Docker socket", "'//var/run/docker.sock'")),
            ("/var/run/../run/./docker.sock", ("the Docker socket",)),
            ("/proc/1/root/var/run/docker.sock", ("the Docker socket",)),
            ("/proc/self/root/run/docker.sock", ("the Docker socket",)),
            ("/var/run", ("which holds the socket /run/docker.sock", "file itself")),
            ("/run", ("which holds the socket /run/docker.sock",)),
            ("/run/containerd", ("containerd.sock",)),
            ("/run/user/1000", ("/run/user/1000/docker.sock",)),
            ("/home/me/.docker/run/docker.sock", ("the Docker socket",)),
        ]
    ),
    (
        "docker-socket", "warning", "app", "services.web.volumes.0",
        ("the Docker socket",),
        lambda: [stack("app", svc("web", volumes=["sock:/s"]),
                       volumes=[Volume("sock", driver_opts={"type": "none", "o": "bind",
                                                            "device": "/var/run/docker.sock"})])],
    ),
    *(
        (
            "host-root", "warning", "app", "services.web.volumes.0", words,
            lambda source=source: [stack("app", svc("web", volumes=[f"{source}:/host"]))],
        )
        for source, words in [
            ("/", ("root folder", "read-write")),
            ("//", ("root folder",)),
            ("/proc/1/root", ("root folder",)),
            ("/etc/..", ("root folder",)),
        ]
    ),
    *(
        (
            "sensitive-host-path", "warning", "app", "services.web.volumes.0", words,
            lambda source=source: [stack("app", svc("web", volumes=[f"{source}:/x:ro"]))],
        )
        for source, words in [
            ("/etc/shadow", ("/etc/shadow", "read-only")),
            ("/etc", ("which holds /etc/shadow",)),
            ("/etc/ssh/", ("/etc/ssh",)),
            ("/root", ("/root",)),
            ("/proc/1/root/etc/sudoers", ("/etc/sudoers",)),
            ("/var/lib/docker/volumes", ("/var/lib/docker",)),
            ("/var", ("which holds /var/lib/docker",)),
            ("/sys", ("/sys",)),
            ("/proc", ("/proc",)),
            ("/boot", ("/boot",)),
        ]
    ),
    *(
        (
            "host-devices", "warning", "app", path, words,
            lambda kw=kw: [stack("app", svc("web", **kw))],
        )
        for path, words, kw in [
            ("services.web.volumes.0", ("every host device",), {"volumes": ["/dev:/dev"]}),
            ("services.web.volumes.0", ("raw device /dev/sda",), {"volumes": ["/dev/sda:/d"]}),
            ("services.web.devices.0", ("/dev/mem",), {"devices": ["/dev/mem:/dev/mem"]}),
            ("services.web.devices.0", ("/dev/nvme0n1",), {"devices": ["/dev/nvme0n1"]}),
        ]
    ),
    *(
        (
            "dangerous-capability", "warning", "app", "services.web.cap_add.0", words,
            lambda cap=cap: [stack("app", svc("web", cap_add=[cap]))],
        )
        for cap, words in [
            ("ALL", ("every capability", "only the capabilities it needs")),
            ("all", ("every capability",)),
            ("CAP_SYS_ADMIN", ("SYS_ADMIN",)),
            ("SYS_MODULE", ("SYS_MODULE",)),
        ]
    ),
    *(
        (
            "unconfined-profile", "warning", "app", "services.web.security_opt.0", words,
            lambda opt=opt: [stack("app", svc("web", security_opt=[opt]))],
        )
        for opt, words in [
            ("seccomp=unconfined", ("seccomp filter", "profile of your own")),
            ("seccomp:unconfined", ("seccomp filter",)),
            ("apparmor=unconfined", ("AppArmor",)),
            ("apparmor:unconfined", ("AppArmor",)),
            ("label=disable", ("SELinux",)),
            ("label:disable", ("SELinux",)),
            ("systempaths=unconfined", ("/proc and /sys",)),
            (" Seccomp = Unconfined ", ("seccomp filter",)),
        ]
    ),
    (
        "privileged", "warning", "app", "services.web.privileged",
        ("privileged", "cap_add"),
        lambda: [stack("app", svc("web", privileged=True))],
    ),
    (
        "exposed-database-port", "warning", "app", "services.db.ports.0",
        ("5432", "127.0.0.1:5432:5432"),
        lambda: [stack("app", svc("db", "postgres:16", ports=["5432:5432"]))],
    ),
    (
        "exposed-database-port", "warning", "app", "services.cache.ports.0",
        ("16379",),
        lambda: [stack("app", svc("cache", "redis:7", ports=["0.0.0.0:16379:6379"]))],
    ),
    (
        "unpinned-image", "warning", "app", "services.web.image",
        ("has no tag",),
        lambda: [stack("app", svc("web", "nginx"))],
    ),
    (
        "unpinned-image", "warning", "app", "services.web.image",
        ("uses :latest",),
        lambda: [stack("app", svc("web", "ghcr.io/owner/web:latest"))],
    ),
    (
        "unpinned-build-context", "warning", "app", "services.web.build.context",
        ("names the ref 'main'", "o/web.git#<commit or tag>:app", "if 'main' is a tag"),
        lambda: [stack("app", Service("web", build="https://github.com/o/web.git#main:app"))],
    ),
    (
        "unpinned-build-context", "warning", "app", "services.web.build.context",
        ("names no ref", "'git@github.com:o/web.git'", "git@github.com:o/web.git#<commit"),
        lambda: [stack("app", Service("web", build="git@github.com:o/web.git"))],
    ),
    (
        "unpinned-build-context", "warning", "app", "services.web.build.context",
        ("https://u:***@git.example/o/web.git", "default branch"),
        lambda: [stack("app", Service("web", build="https://u:tok@git.example/o/web.git"))],
    ),
    (
        "inline-secret", "warning", "app", "services.db.environment.POSTGRES_PASSWORD",
        ("POSTGRES_PASSWORD", "Secret.env('POSTGRES_PASSWORD')"),
        lambda: [stack("app", svc("db", "postgres:16",
                                  environment={"POSTGRES_PASSWORD": "hunter2"}))],
    ),
    # swarm: the stacks say engine: swarm, so the run's engine is swarm
    (
        "swarm-unsupported-container-name", "error", "app", "services.web.container_name",
        ("container_name is not supported on Swarm", "remove container_name"),
        lambda: [stack("app", svc("web", container_name="web"), engine="swarm")],
    ),
    (
        "swarm-unsupported-build", "error", "app", "services.web.build",
        ("not on the other nodes", "docker push"),
        lambda: [stack("app", svc("web", build="./app"), engine="swarm")],
    ),
    (
        "swarm-unsupported-privileged", "error", "app", "services.web.privileged",
        ("cannot run privileged",),
        lambda: [stack("app", svc("web", privileged=True), engine="swarm")],
    ),
    (
        "swarm-unsupported-devices", "error", "app", "services.web.devices",
        ("cannot map host devices",),
        lambda: [stack("app", svc("web", devices=["/dev/fuse"]), engine="swarm")],
    ),
    (
        "swarm-unsupported-gpus", "error", "app", "services.web.gpus",
        ("cannot request devices",),
        lambda: [stack("app", svc("web", gpus="all"), engine="swarm")],
    ),
    (
        "swarm-unsupported-gpus", "error", "app",
        "services.web.deploy.resources.reservations.devices",
        ("deploy.resources.reservations.devices is not supported on Swarm",),
        lambda: [stack("app", svc("web", deploy={"resources": {"reservations": {
            "devices": [{"capabilities": ["gpu"]}]}}}), engine="swarm")],
    ),
    (
        "swarm-unsupported-security-opt", "error", "app", "services.web.security_opt",
        ("take no security_opt",),
        lambda: [stack("app", svc("web", security_opt=["no-new-privileges:true"]),
                       engine="swarm")],
    ),
    (
        "swarm-unsupported-shm-size", "error", "app", "services.web.shm_size",
        ("tmpfs at /dev/shm",),
        lambda: [stack("app", svc("web", shm_size="64m"), engine="swarm")],
    ),
    (
        "swarm-unsupported-pull-policy", "warning", "app", "services.web.pull_policy",
        ("every node",),
        lambda: [stack("app", svc("web", pull_policy="always"), engine="swarm")],
    ),
    (
        "swarm-unsupported-expose", "warning", "app", "services.web.expose",
        ("no effect on a swarm",),
        lambda: [stack("app", svc("web", expose=["80"]), engine="swarm")],
    ),
    (
        "swarm-unsupported-static-address", "error", "app",
        "services.web.networks.lan.ipv4_address",
        ("overlay network's pool",),
        lambda: [stack("app", svc("web", networks=fixed("lan", "10.0.0.5")),
                       networks=[net("lan", "10.0.0.0/24")], engine="swarm")],
    ),
    (
        "swarm-unsupported-host-ip", "error", "app", "services.web.ports.0",
        ("host_ip 127.0.0.1", "firewall"),
        lambda: [stack("app", svc("web", ports=["127.0.0.1:8080:80"]), engine="swarm")],
    ),
    (
        "swarm-bind-mount", "warning", "app", "services.web.volumes.0",
        ("must exist on every node",),
        lambda: [stack("app", svc("web", volumes=["./data:/data"]), engine="swarm")],
    ),
    (
        "swarm-global-replicas", "error", "app", "services.web.deploy.replicas",
        ("mode: global",),
        lambda: [stack("app", svc("web", deploy=Deploy(mode="global", replicas=2)),
                       engine="swarm")],
    ),
    (
        "swarm-dnsrr-ingress", "error", "app", "services.web.ports.0",
        ("endpoint_mode: vip",),
        lambda: [stack("app", svc("web", ports=["8080:80"],
                                  deploy=Deploy(endpoint_mode="dnsrr")), engine="swarm")],
    ),
    (
        "swarm-network-driver", "error", "app", "networks.lan.driver",
        ("cannot span a swarm",),
        lambda: [stack("app", svc("web", networks=["lan"]),
                       networks=[net("lan", driver="bridge")], engine="swarm")],
    ),
]  # fmt: skip


def _find(diagnostics: list[Diagnostic], code: str, path: str) -> Diagnostic:
    for d in diagnostics:
        if d.code == code and d.path == path:
            return d
    shown = "\n".join(f"  {d.code} {d.path}: {d.message}" for d in diagnostics)
    raise AssertionError(f"no {code} at {path}; got:\n{shown}")


@pytest.mark.parametrize(
    ("code", "severity", "blamed", "path", "words", "build"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_rule_fires_with_file_line_and_path(
    code: str, severity: str, blamed: str, path: str, words: tuple[str, ...], build: Build
) -> None:
    stacks = located(build(), path)
    engine, conflicts = resolve_engine("docker", stacks)
    diagnostics = [*conflicts, *validate(stacks, engine=engine)]
    d = _find(diagnostics, code, path)
    assert d.severity == severity
    assert d.file == str(origin(blamed))
    assert d.line == LINE
    text = d.format()
    assert f"{origin(blamed)}:{LINE}: {path}: " in text
    for word in words:
        assert word in text
    # each case breaks one rule only (warnings about the test's own images aside); a host
    # network's ipam is also a second host network, which Docker refuses
    also = {"predefined-network"} if code == "ipam-not-allowed" else set()
    assert {x.code for x in diagnostics if x.severity == "error"} <= {code} | also


def test_every_rule_has_a_case() -> None:
    covered = {case[0] for case in CASES}
    assert {r.code for r in RULES} | {"stack-cycle"} <= covered


def test_rule_ids_are_unique_and_severities_known() -> None:
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes))
    assert {r.severity for r in RULES} == {"error", "warning"}  # "acknowledged": a service's


def test_rules_say_their_engines() -> None:
    """The swarm rules run on a swarm only; every other rule on every engine."""
    for r in RULES:
        assert r.engines == (("swarm",) if r.code.startswith("swarm-") else ENGINES), r.code


def test_swarm_rules_run_only_for_the_swarm_engine() -> None:
    s = stack("app", svc("web", container_name="web", ports=["127.0.0.1:8080:80"]))
    assert validate([s]) == []
    on_swarm = {d.code for d in validate([s], engine="swarm")}
    assert on_swarm == {"swarm-unsupported-container-name", "swarm-unsupported-host-ip"}


def test_the_engine_wide_rules_run_on_a_swarm_too() -> None:
    s = stack("app", svc("web", networks=["nope"]), engine="swarm")
    assert {d.code for d in validate([s], engine="swarm")} == {"unknown-network"}


# --------------------------------------------------------------------------- no false alarms


def homelab() -> list[Stack]:
    """A clean set: pinned images, health checks, addresses that fit, local-only db port."""
    edge = stack(
        "traefik",
        svc("traefik", "traefik:v3.1", ports=["80:80", "443:443"]),
    )
    matrix = stack(
        "matrix",
        svc(
            "postgres",
            "postgres:16.2",
            healthcheck=PG,
            networks=["matrix"],
            ports=["127.0.0.1:5432:5432"],
            environment={
                "POSTGRES_PASSWORD": Secret("x"),
                "POSTGRES_PASSWORD_FILE": "/run/s",
                "POSTGRES_USER": "synapse",
                "EMPTY_TOKEN": "",
            },
        ),
        svc(
            "synapse",
            "matrixdotorg/synapse:v1.99.0",
            networks=["matrix", "traefik_default"],
            depends_on={"postgres": healthy, "migrate": completed},
            healthcheck=Healthcheck.cmd("curl", "-f", "http://localhost:8008/health"),
        ),
        svc("migrate", "matrixdotorg/synapse:v1.99.0", networks=["matrix"]),
        svc(
            "nginx",
            "nginx@sha256:" + "a" * 64,
            networks={"matrix": {"ipv4_address": "172.30.0.10"}, "traefik_default": None},
            extra_hosts={"host.docker.internal": "host-gateway", "v6": "::1"},
            dns=["1.1.1.1", "2606:4700:4700::1111"],
            ports=["127.0.0.1:8080:80", "192.168.1.2:8080:80", "8080:80/udp"],
        ),
        networks=[
            net("matrix", "172.30.0.0/24", gateway="172.30.0.1"),
            Network("traefik_default", external=True),
            Network("dashboard", external=True),
        ],
        volumes=[Volume("pgdata")],
        secrets=[SecretSource("db", file="./db.txt")],
    )
    return [edge, matrix]


def test_clean_homelab_has_no_findings() -> None:
    assert validate(homelab()) == []


def test_all_findings_are_collected_not_only_the_first() -> None:
    s = stack(
        "app",
        svc("web", "nginx", networks=["nope"], privileged=True, depends_on=["ghost"]),
    )
    codes = {d.code for d in validate([s])}
    assert {"unknown-network", "unknown-service", "privileged", "unpinned-image"} <= codes
    assert has_errors(validate([s]))


@pytest.mark.parametrize(
    "build",
    [
        # an external network made by hand: its subnet is unknown, so no address rule fires
        lambda: stack(
            "app",
            svc("web", networks=fixed("lan", "10.9.9.1")),
            networks=[Network("lan", external=True)],
        ),
        # ports on different host addresses or protocols do not clash
        lambda: stack(
            "app",
            svc("a", ports=["127.0.0.1:80:80"]),
            svc("b", ports=["192.168.1.2:80:80", "80:80/udp"]),
        ),
        # no host port: Docker picks one
        lambda: stack("app", svc("a", ports=["80"], replicas=3)),
        # service_healthy on a service with a health check
        lambda: stack("app", svc("a", depends_on={"b": healthy}), svc("b", healthcheck=PG)),
        # an anonymous volume and a tmpfs need no declaration
        lambda: stack("app", svc("a", volumes=["/cache", Mount.tmpfs("/run")])),
        # host paths that are neither the socket, secrets, software nor devices
        lambda: stack(
            "app",
            svc(
                "a",
                volumes=[
                    "/etc/localtime:/etc/localtime:ro",
                    "/etc/timezone:/etc/timezone:ro",
                    "/etc/ssl/certs:/etc/ssl/certs:ro",
                    "/home/me/media:/media",
                    "/srv/data:/data",
                    "/var/log/nginx:/logs",
                    "/dev/shm:/dev/shm",
                    "/run/docker.sock.d:/x",
                    "/mnt/disk:/disk",
                    "./data:/data",
                    "~/music:/music",
                ],
                devices=["/dev/dri:/dev/dri", "/dev/fuse"],
                cap_add=["NET_ADMIN", "NET_BIND_SERVICE", "CHOWN"],
                security_opt=[
                    "no-new-privileges:true",
                    "seccomp=./profile.json",
                    "apparmor=docker-default",
                    "label=type:container_t",
                ],
            ),
        ),
        # network modes with what they allow; links on a shared network; equal limits
        lambda: stack(
            "app",
            svc("ha", network_mode="host", dns=["1.1.1.1"], hostname="ha"),
            svc("vpn", ports=["8080:8080"], cap_add=["NET_ADMIN"]),
            svc("qbit", network_mode="service:vpn", dns_search=["lan"]),
            svc("db"),
            svc(
                "web",
                links=["db:database", "db"],
                mem_limit="1g",
                cpus=0.5,
                deploy={"resources": {"limits": {"memory": "1024m", "cpus": "0.5"}}},
            ),
            svc("off", network_mode="none"),
        ),
        # remote build contexts pinned to a commit or a tag, and a tarball URL
        lambda: stack(
            "app",
            Service("a", build="https://github.com/o/a.git#" + "1a" * 20 + ":sub"),
            Service("b", build="git@github.com:o/b.git#v2.1.0"),
            Service("c", build="git://git.example/c.git#refs/tags/stable"),
            Service("d", build="https://releases.example/d-1.2.tar.gz"),
        ),
    ],
)
def test_no_false_alarm(build: Callable[[], Stack]) -> None:
    assert validate([build()]) == []


def test_several_cycles_are_all_reported() -> None:
    s = stack(
        "app",
        svc("a", depends_on=["b"]), svc("b", depends_on=["a"]),
        svc("c", depends_on=["d"]), svc("d", depends_on=["c"]),
    )  # fmt: skip
    cycles = [d.message for d in validate([s]) if d.code == "dependency-cycle"]
    assert len(cycles) == 2


def test_env_file_relative_to_stack_folder(tmp_path: Path) -> None:
    (tmp_path / "web.env").write_text("A=1\n")
    s = stack("app", svc("web", env_file=["./web.env", "missing.env"]))
    s.with_origin(tmp_path / "stack.yaml")
    found = [d for d in validate([s]) if d.code == "missing-env-file"]
    assert [d.path for d in found] == ["services.web.env_file.1"]


def _codes(s: Stack) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for d in validate([s]):
        found.setdefault(d.code or "", []).append(d.message)
    return found


def test_a_symlink_in_the_stack_folder_is_judged_by_where_it_leads(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    (folder / "data").mkdir(parents=True)
    (folder / "etc").symlink_to("/etc")
    (folder / "inside").symlink_to(folder / "data")
    (folder / "chain").symlink_to(folder / "etc")
    s = stack("app", svc("web", volumes=["./inside:/a", "./etc:/b:ro", "./chain/ssh:/c:ro"]))
    s.with_origin(folder / "stack.yaml")
    found = [d for d in validate([s]) if d.code == "bind-outside-stack"]
    assert [d.path for d in found] == ["services.web.volumes.1", "services.web.volumes.2"]
    assert "through a symlink, to /etc" in found[0].message
    assert not has_errors(found) and all(d.severity == "warning" for d in found)
    # and where it leads is judged too: /etc holds /etc/shadow
    assert "sensitive-host-path" in _codes(s)


def test_a_symlink_to_the_socket_is_the_socket(tmp_path: Path) -> None:
    (tmp_path / "sock").symlink_to(SOCK)
    (tmp_path / "runlink").symlink_to("/var/run")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # a loop resolves to itself, no crash
    s = stack(
        "app",
        svc(
            "web",
            volumes=[f"{tmp_path}/sock:/s:ro", f"{tmp_path}/runlink:/r", f"{tmp_path}/loop:/l"],
        ),
    )
    s.with_origin(tmp_path / "stack.yaml")
    socket = [d for d in validate([s]) if d.code == "docker-socket"]
    assert [d.path for d in socket] == ["services.web.volumes.0", "services.web.volumes.1"]
    assert "mounts the Docker socket read-only" in socket[0].message


def test_the_reference_traefik_socket_mount_reports_what_it_did() -> None:
    """/var/run/docker.sock:ro in stacks/traefik: one docker-socket warning, nothing more."""
    s = stack("traefik", svc("traefik", volumes=[f"{SOCK}:{SOCK}:ro", "./config:/etc/traefik"]))
    assert _codes(s) == {"docker-socket": [_codes(s)["docker-socket"][0]]}


def test_stack_without_origin_names_the_attribute() -> None:
    d = validate([stack("app", svc("web", networks=["nope"]))])[0]
    assert d.file is None and d.line is None
    assert d.format().startswith("error: services.web.networks.nope: ")


def test_line_falls_back_to_the_nearest_parent() -> None:
    s = stack("app", svc("db", "postgres:16", ports=["5432:5432"]))
    s.with_origin(origin("app"), {"services.db.ports": 7})
    [d] = validate([s])
    assert (d.path, d.line) == ("services.db.ports.0", 7)


def test_list_form_keys_take_the_line_of_their_item() -> None:
    # networks: [front, bakend] -> the loader knows networks.1, not networks.bakend
    s = stack("app", svc("web", networks=["front", "bakend"]), networks=[net("front")])
    s.with_origin(origin("app"), {"services.web.networks": 5, "services.web.networks.1": 7})
    [d] = validate([s])
    assert (d.path, d.line) == ("services.web.networks.bakend", 7)


def test_diagnostics_come_in_file_and_line_order() -> None:
    s = stack("app", svc("a", networks=["x"]), svc("b", networks=["y"]))
    s.with_origin(origin("app"), {"services.a.networks.x": 9, "services.b.networks.y": 3})
    assert [d.line for d in validate([s])] == [3, 9]


@pytest.mark.parametrize(
    ("key", "value", "flagged"),
    [
        ("POSTGRES_PASSWORD", "hunter2", True),
        ("GITHUB_TOKEN", "ghp_x", True),
        ("AWS_SECRET_ACCESS_KEY", "x", True),
        ("api_key", "x", True),
        ("SSH_PRIVATE", "x", True),
        ("DB_PASSWD", "x", True),
        ("POSTGRES_PASSWORD", "", False),
        ("POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:?set it}", False),
        ("POSTGRES_PASSWORD", Secret("hunter2"), False),
        ("POSTGRES_PASSWORD_FILE", "/run/secrets/db", False),
        ("POSTGRES_USER", "synapse", False),
    ],
)
def test_inline_secret_heuristic(key: str, value: str | Secret, flagged: bool) -> None:
    assert looks_like_inline_secret(key, value) is flagged


# --------------------------------------------------------------------------- acknowledge


def test_an_acknowledged_warning_stays_in_the_report_with_its_reason() -> None:
    from stackctl import Acknowledge

    why = "Traefik routes by container labels"
    s = stack(
        "edge",
        svc(
            "traefik",
            volumes=[f"{SOCK}:{SOCK}:ro"],
            acknowledge=[Acknowledge("docker-socket", reason=why)],
        ),
    )
    [d] = validate([s])
    assert (d.code, d.severity, d.path) == (
        "docker-socket",
        "acknowledged",
        "services.traefik.volumes.0",
    )
    assert d.message.endswith(f"; accepted: {why}") and d.hint is None
    assert d.format().startswith("acknowledged: ")
    assert not has_errors([d])


def test_an_acknowledgement_covers_its_own_service_only() -> None:
    ack = [{"rule": "docker-socket", "reason": "watches containers"}]
    s = stack(
        "edge",
        svc("a", volumes=[f"{SOCK}:{SOCK}:ro"], acknowledge=ack),
        svc("b", volumes=[f"{SOCK}:{SOCK}:ro"]),
    )
    found = {(d.path, d.severity) for d in validate([s])}
    assert found == {("services.a.volumes.0", "acknowledged"), ("services.b.volumes.0", "warning")}


@pytest.mark.parametrize(
    ("rule", "severity", "words"),
    [
        ("docker-sockets", "error", "which is no rule"),
        ("unknown-network", "error", "only warnings can be accepted"),
        ("privileged", "warning", "finds nothing about it"),
    ],
)
def test_an_acknowledgement_that_accepts_nothing_is_reported(
    rule: str, severity: str, words: str
) -> None:
    s = stack("app", svc("web", acknowledge=[{"rule": rule, "reason": "because"}]))
    s.with_origin(origin("app"), {"name": 1, "services.web.acknowledge.0": 9})
    [d] = validate([s])
    assert (d.code, d.severity, d.path, d.line) == (
        "acknowledge",
        severity,
        "services.web.acknowledge.0",
        9,
    )
    assert words in d.message


def test_an_acknowledgement_needs_a_reason() -> None:
    from pydantic import ValidationError

    from stackctl import Acknowledge

    with pytest.raises(ValidationError):
        Acknowledge("docker-socket", reason=" ")
    assert Acknowledge(rule="privileged", reason="x").rule == "privileged"
