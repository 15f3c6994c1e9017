"""From validated stacks to swarm services, overlay networks and volumes, with config hashes.

A service's canonical ``config`` (plain JSON, secrets as a hash of their value) is what the
plan diffs and what its SHA-256 ``config_hash`` covers; both are stored in the service's
labels, as for containers. The Engine API ``ServiceSpec`` sent to the daemon is built from
the same config plus the real environment values (``engine_spec``).

Names follow ``docker stack deploy``: service ``<stack>_<service>``; networks and volumes
as on one host (``<stack>_<key>`` unless ``name`` is set).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from stackctl import units
from stackctl.core.config import finalize
from stackctl.core.labels import (
    LABEL_CONFIG,
    LABEL_HASH,
    LABEL_SECRET,
    LABEL_SERVICE,
    LABEL_STACK,
    canonical_json,
    sha256,
)
from stackctl.core.redact import Secrets
from stackctl.core.resources import (
    DesiredNetwork,
    DesiredResources,
    desired_network,
    stack_resources,
    volume_labels,
)
from stackctl.core.service_config import (
    MountBase,
    ProcessConfig,
    host_path,
    process_config,
    secret_target,
    service_env,
    stack_secrets,
    unit_fields,
)
from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.model import Condition, Service, ServiceNetwork, Stack, UpdateConfig

ENGINE = "swarm"
SECRET_MODE = 0o444  # a file secret's mode unless the service says otherwise


class PortConfig(TypedDict):
    target: int
    published: int | str | None
    protocol: str
    mode: str  # ingress | host


class MountConfig(MountBase, total=False):
    volume_labels: dict[str, str]
    volume_driver: str
    volume_driver_opts: dict[str, str]


class AttachmentConfig(TypedDict):
    aliases: list[str]


class RestartPolicyConfig(TypedDict, total=False):
    condition: str
    delay: int
    max_attempts: int
    window: int


class LimitsConfig(TypedDict, total=False):
    nano_cpus: int
    memory: int
    pids: int


class ResourcesConfig(TypedDict, total=False):
    limits: LimitsConfig
    reservations: LimitsConfig


class PlacementConfig(TypedDict, total=False):
    constraints: list[str]
    preferences: list[dict[str, str]]
    max_replicas_per_node: int


class UpdateConfigConfig(TypedDict, total=False):
    parallelism: int
    failure_action: str
    max_failure_ratio: float
    order: str
    delay: int
    monitor: int


class SecretConfig(TypedDict):
    name: str  # holds a digest of the content: a changed file is a changed config
    target: str
    mode: int


class ServiceConfig(ProcessConfig, total=False):
    """A swarm service's canonical config: the shared process fields and a service's own."""

    mode: str  # replicated | global
    replicas: int | None
    deploy_labels: dict[str, str]
    ports: list[PortConfig]
    mounts: list[MountConfig]
    networks: dict[str, AttachmentConfig]  # Docker network name -> attachment
    restart_policy: RestartPolicyConfig
    resources: ResourcesConfig
    placement: PlacementConfig
    update_config: UpdateConfigConfig
    rollback_config: UpdateConfigConfig
    endpoint_mode: str | None
    secrets: list[SecretConfig]


@dataclass(frozen=True)
class SwarmSecret:
    """A Docker swarm secret made from a stack's file secret (``secrets.x.file``).

    Named ``<stack>_<key>_<12 hex of a digest of the content>``: a changed file is a new
    secret (swarm secrets are immutable) and the services using it are updated to it. The
    content (``data``) goes to the daemon only; labels, plans and errors carry the name.
    Shaped like a desired unit (stack, service, name, config_hash, depends_on) so that a
    ``create-secret`` operation carries it; its ``service`` is the secret's key.
    An ``external`` one already exists on the swarm: referenced by name, never created.
    """

    stack: str
    key: str
    name: str
    digest: str  # hex SHA-256 of the content salted with stack and key ("" if external)
    data: bytes = field(repr=False)
    external: bool = False

    @property
    def service(self) -> str:
        return self.key

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL_STACK: self.stack, LABEL_SECRET: self.key}

    @property
    def config_hash(self) -> str:
        return sha256(canonical_json({"name": self.name, "labels": self.labels}))

    @property
    def depends_on(self) -> dict[str, Condition]:
        return {}


@dataclass(frozen=True)
class SecretRef:
    """A service's use of a swarm secret: the file it appears as in its tasks."""

    name: str  # the swarm secret's name (its id is looked up when the spec is sent)
    target: str  # absolute path in the container (/run/secrets/<key> by default)
    mode: int


def secret_digest_of(stack: str, key: str, data: bytes) -> str:
    """A digest of a file secret's content, salted with where it belongs (the same content
    in two stacks gives unrelated names)."""
    return hashlib.sha256(f"stackctl-secret\0{stack}\0{key}\0".encode() + data).hexdigest()


@dataclass(frozen=True)
class SwarmService:
    """One swarm service to run: its canonical config, hash, and the real env for writes."""

    stack: str
    service: str
    name: str  # <stack>_<service>
    image: str
    config: dict[str, Any]  # canonical, secrets hashed: stored in a label, diffed by the plan
    spec_config: ServiceConfig = field(repr=False)  # the same with real values: for writes
    config_hash: str
    legacy_hash: str  # see core/config.py
    env: dict[str, str] = field(repr=False)  # real values: for the spec sent to the daemon
    sensitive: frozenset[str]
    networks: tuple[str, ...]  # Docker network names
    depends_on: dict[str, Condition]
    has_healthcheck: bool
    oneshot: bool  # restart condition none: a clean exit means done
    replicas: int | None  # None: global mode
    labels: dict[str, str]  # service labels (deploy.labels + stackctl's)
    container_labels: dict[str, str]  # labels of its containers (service labels + stackctl's)
    secrets: tuple[SecretRef, ...] = ()  # file secrets, as swarm secrets

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.service}"

    def spec(self) -> dict[str, Any]:
        return engine_spec(self)


@dataclass(frozen=True)
class SwarmDesiredState(DesiredResources):
    """The swarm backend's desired state: the stacks' networks, volumes and services."""

    services: tuple[SwarmService, ...] = ()
    secrets: tuple[SwarmSecret, ...] = ()  # the swarm secrets the services use

    def service(self, stack: str, name: str) -> SwarmService | None:
        for s in self.services:
            if s.stack == stack and s.service == name:
                return s
        return None


# --------------------------------------------------------------------------- networks


def overlay_network(stack: Stack, key: str) -> DesiredNetwork:
    """An overlay network, attachable (so `docker run --network` and tests can join it)."""
    return desired_network(stack, key, driver="overlay", attachable=True, scope="swarm")


# --------------------------------------------------------------------------- services


def service_name(stack: Stack, service: Service) -> str:
    return f"{stack.name}_{service.name}"


def _restart_policy(service: Service) -> RestartPolicyConfig:
    """deploy.restart_policy wins; else ``restart`` maps as on one host (no: swarm default)."""
    rp = service.deploy.restart_policy if service.deploy else None
    if rp is not None:
        out: RestartPolicyConfig = {}
        if rp.condition:
            out["condition"] = rp.condition
        if rp.delay:
            out["delay"] = units.parse_duration(rp.delay)
        if rp.max_attempts is not None:
            out["max_attempts"] = rp.max_attempts
        if rp.window:
            out["window"] = units.parse_duration(rp.window)
        return out
    name, _, count = service.restart.partition(":")
    if name in ("always", "unless-stopped"):
        return {"condition": "any"}
    if name == "on-failure":
        return {"condition": "on-failure", **({"max_attempts": int(count)} if count else {})}
    return {}  # "no" (the default): Swarm's own default, condition any


def _update_config(cfg: UpdateConfig | None) -> UpdateConfigConfig:
    if cfg is None:
        return {}
    out: UpdateConfigConfig = {}
    if cfg.parallelism is not None:
        out["parallelism"] = cfg.parallelism
    if cfg.failure_action is not None:
        out["failure_action"] = cfg.failure_action
    if cfg.max_failure_ratio is not None:
        out["max_failure_ratio"] = cfg.max_failure_ratio
    if cfg.order is not None:
        out["order"] = cfg.order
    if cfg.delay is not None:
        out["delay"] = units.parse_duration(cfg.delay)
    if cfg.monitor is not None:
        out["monitor"] = units.parse_duration(cfg.monitor)
    return out


def _resources(service: Service) -> ResourcesConfig:
    res = service.deploy.resources if service.deploy else None
    out: ResourcesConfig = {}
    for kind, spec in (
        ("limits", res.limits if res else None),
        ("reservations", res.reservations if res else None),
    ):
        if spec is None:
            continue
        entry: LimitsConfig = {}
        if spec.cpus is not None:
            entry["nano_cpus"] = int(spec.cpus * 1e9)
        if spec.memory is not None:
            entry["memory"] = units.parse_size(spec.memory)
        if spec.pids is not None and kind == "limits":
            entry["pids"] = spec.pids
        if entry and kind == "limits":
            out["limits"] = entry
        elif entry:
            out["reservations"] = entry
    return out


def _mounts(stack: Stack, service: Service) -> list[MountConfig]:
    mounts: list[MountConfig] = []
    for m in service.volumes:
        entry: MountConfig = {"type": m.type, "target": m.target, "read_only": m.read_only}
        if m.type == "bind" and m.source:
            entry["source"] = host_path(stack, m.source)
        elif m.type == "volume" and m.source:
            if m.source in stack.volumes:
                vol = stack.volumes[m.source]
                entry["source"] = stack.volume_name(m.source)
                if not vol.external:
                    entry["volume_labels"] = volume_labels(stack, m.source)
                    if vol.driver:
                        entry["volume_driver"] = vol.driver
                    if vol.driver_opts:
                        entry["volume_driver_opts"] = dict(vol.driver_opts)
            else:
                entry["source"] = m.source
            if m.nocopy:
                entry["nocopy"] = True
        elif m.type == "tmpfs" and m.tmpfs_size:
            entry["tmpfs_size"] = units.parse_size(m.tmpfs_size)
        mounts.append(entry)
    return mounts


def _secrets(
    stack: Stack, service: Service, problems: list[Diagnostic]
) -> tuple[list[SecretRef], list[SwarmSecret]]:
    """The service's file secrets (and external ones) as swarm secrets; unreadable files
    become ``problems`` (naming the file, never its content)."""
    refs: list[SecretRef] = []
    made: list[SwarmSecret] = []
    for i, use in enumerate(service.secrets):
        src = stack.secrets.get(use.source)
        if src is None:
            continue  # reported by validation
        if src.external:
            secret = SwarmSecret(stack.name, src.key, src.name or src.key, "", b"", external=True)
        elif src.file:
            path = host_path(stack, src.file)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                problems.append(
                    Diagnostic(
                        "error",
                        f"cannot read the file of secret {src.key!r} ({src.file}): {e.strerror}",
                        file=str(stack.origin) if stack.origin else None,
                        line=stack.line_of(f"secrets.{src.key}.file"),
                        path=f"services.{service.name}.secrets[{i}]",
                        hint="create the file or fix the path (relative to the stack's folder)",
                        code="secret-file-missing",
                    )
                )
                continue
            digest = secret_digest_of(stack.name, src.key, data)
            name = f"{stack.name}_{src.key}_{digest[:12]}"
            secret = SwarmSecret(stack.name, src.key, name, digest, data)
        else:
            continue  # an environment secret: in the service's env (service_env)
        made.append(secret)
        target = secret_target(use.source, use.target)
        refs.append(
            SecretRef(secret.name, target, use.mode if use.mode is not None else SECRET_MODE)
        )
    return refs, made


def _service(
    stack: Stack,
    service: Service,
    problems: list[Diagnostic],
    made_here: list[SwarmSecret],
    secrets: Secrets,
) -> SwarmService:
    env = service_env(stack, service, problems)
    refs, made = _secrets(stack, service, problems)
    made_here.extend(made)
    attachments = service.networks or {"default": ServiceNetwork()}
    networks: dict[str, AttachmentConfig] = {}
    for key, attach in attachments.items():
        if key not in stack.networks:
            continue  # reported by validation
        networks[stack.network_name(key)] = {
            "aliases": list(dict.fromkeys([service.name, *attach.aliases])),
        }
    deploy = service.deploy
    global_mode = bool(deploy and deploy.mode == "global")
    replicas = None if global_mode else service.replica_count
    restart_policy = _restart_policy(service)
    placement: PlacementConfig = {}
    if deploy and deploy.placement:
        p = deploy.placement
        if p.constraints:
            placement["constraints"] = list(p.constraints)
        if p.preferences:
            placement["preferences"] = [dict(x) for x in p.preferences]
        if p.max_replicas_per_node is not None:
            placement["max_replicas_per_node"] = p.max_replicas_per_node
    raw: ServiceConfig = {
        **process_config(service, stack.image_name(service)),
        "mode": "global" if global_mode else "replicated",
        "replicas": replicas,
        "env": env.canonical(),
        "deploy_labels": dict(sorted((deploy.labels if deploy else {}).items())),
        "ports": [
            {
                "target": p.target,
                "published": p.published,
                "protocol": p.protocol,
                "mode": p.mode or "ingress",
            }
            for p in service.ports
        ],
        "mounts": _mounts(stack, service),
        "networks": networks,
        "restart_policy": restart_policy,
        "resources": _resources(service),
        "placement": placement,
        "update_config": _update_config(deploy.update_config if deploy else None),
        "rollback_config": _update_config(deploy.rollback_config if deploy else None),
        "endpoint_mode": (deploy.endpoint_mode if deploy else None),
        # the name holds a digest of the content: a changed file is a changed config
        "secrets": [{"name": r.name, "target": r.target, "mode": r.mode} for r in refs],
    }
    # A secret's value can also sit inside a command, a label or a URL in another variable:
    # the stored and shown config carries its digest wherever it appears.
    # Of this service or another one: the stack's whole set (made secrets' data included).
    final = finalize(raw, secrets, env.sensitive)
    ours = {LABEL_STACK: stack.name, LABEL_SERVICE: service.name}
    return SwarmService(
        **unit_fields(stack, service, final, env),
        name=service_name(stack, service),
        spec_config=final.real,
        networks=tuple(networks),
        oneshot=restart_policy.get("condition") == "none",
        replicas=replicas,
        labels={
            **secrets.data(dict(deploy.labels) if deploy else {}),
            **ours,
            LABEL_HASH: final.hash,
            LABEL_CONFIG: final.json,
        },
        container_labels={**secrets.data(dict(service.labels)), **ours},
        secrets=tuple(refs),
    )


def desire_swarm(stacks: Sequence[Stack]) -> SwarmDesiredState:
    """The desired state of all ``stacks`` on one swarm (they are planned as one)."""
    problems: list[Diagnostic] = []
    resources = stack_resources(stacks, overlay_network)
    secrets: list[SwarmSecret] = []
    known = {s.name: stack_secrets(s) for s in stacks}
    services = [
        _service(s, svc, problems, secrets, known[s.name])
        for s in stacks
        for svc in s.services.values()
    ]
    if problems:
        raise InvalidStackError(problems)
    return SwarmDesiredState(
        **resources.fields(s.image for s in services),
        services=tuple(services),
        secrets=tuple({s.name: s for s in secrets}.values()),
    )


# --------------------------------------------------------------------------- engine spec


def _durations_ns(
    pairs: Sequence[tuple[str, int | None]],
) -> dict[str, int]:
    return {dst: value for dst, value in pairs if value is not None}


def _update_spec(uc: UpdateConfigConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "parallelism" in uc:
        out["Parallelism"] = uc["parallelism"]
    if "delay" in uc:
        out["Delay"] = uc["delay"]
    if "failure_action" in uc:
        out["FailureAction"] = uc["failure_action"]
    if "monitor" in uc:
        out["Monitor"] = uc["monitor"]
    if "max_failure_ratio" in uc:
        out["MaxFailureRatio"] = uc["max_failure_ratio"]
    if "order" in uc:
        out["Order"] = uc["order"]
    return out


def _limits_spec(r: LimitsConfig) -> dict[str, int]:
    out: dict[str, int] = {}
    if "nano_cpus" in r:
        out["NanoCPUs"] = r["nano_cpus"]
    if "memory" in r:
        out["MemoryBytes"] = r["memory"]
    if "pids" in r:
        out["Pids"] = r["pids"]
    return out


def _mount_spec(m: MountConfig) -> dict[str, Any]:
    mount: dict[str, Any] = {
        "Type": m["type"],
        "Target": m["target"],
        "ReadOnly": bool(m.get("read_only")),
    }
    if m.get("source"):
        mount["Source"] = m["source"]
    if m["type"] == "volume":
        opts: dict[str, Any] = {}
        if m.get("volume_labels"):
            opts["Labels"] = m["volume_labels"]
        if m.get("nocopy"):
            opts["NoCopy"] = True
        if m.get("volume_driver") or m.get("volume_driver_opts"):
            opts["DriverConfig"] = {
                "Name": m.get("volume_driver") or "local",
                "Options": m.get("volume_driver_opts") or {},
            }
        if opts:
            mount["VolumeOptions"] = opts
    if m["type"] == "tmpfs" and m.get("tmpfs_size"):
        mount["TmpfsOptions"] = {"SizeBytes": m["tmpfs_size"]}
    return mount


def engine_spec(svc: SwarmService) -> dict[str, Any]:
    """The Engine API ``ServiceSpec`` for ``svc`` (real values; stackctl's labels)."""
    cfg = svc.spec_config
    container: dict[str, Any] = {
        "Image": svc.image,
        "Labels": svc.container_labels,
        "Env": [f"{k}={v}" for k, v in sorted(svc.env.items())],
    }
    # Typed locals: a misspelt key reads as ``object`` and mypy refuses it.
    entrypoint: list[str] | None = cfg.get("entrypoint")
    command: list[str] | None = cfg.get("command")
    dns: list[str] = cfg.get("dns", [])
    dns_search: list[str] = cfg.get("dns_search", [])
    mode: str | None = cfg.get("mode")
    replicas: int | None = cfg.get("replicas", 0)
    endpoint_mode: str | None = cfg.get("endpoint_mode")
    if entrypoint:
        container["Command"] = entrypoint
    if command:
        container["Args"] = command
    if "hostname" in cfg:
        container["Hostname"] = cfg["hostname"]
    if "user" in cfg:
        container["User"] = cfg["user"]
    if "working_dir" in cfg:
        container["Dir"] = cfg["working_dir"]
    if "stop_signal" in cfg:
        container["StopSignal"] = cfg["stop_signal"]
    if "stop_grace_period" in cfg:
        container["StopGracePeriod"] = cfg["stop_grace_period"]
    if "init" in cfg:
        container["Init"] = cfg["init"]
    if "read_only" in cfg:
        container["ReadOnly"] = cfg["read_only"]
    if "tty" in cfg:
        container["TTY"] = cfg["tty"]
    if "stdin_open" in cfg:
        container["OpenStdin"] = cfg["stdin_open"]
    if cfg.get("cap_add"):
        container["CapabilityAdd"] = cfg["cap_add"]
    if cfg.get("cap_drop"):
        container["CapabilityDrop"] = cfg["cap_drop"]
    if cfg.get("sysctls"):
        container["Sysctls"] = cfg["sysctls"]
    extra_hosts = cfg.get("extra_hosts") or {}
    if extra_hosts:
        container["Hosts"] = [f"{ip} {host}" for host, ip in extra_hosts.items()]
    if dns or dns_search:
        container["DNSConfig"] = {"Nameservers": dns, "Search": dns_search}
    mounts = [_mount_spec(m) for m in cfg.get("mounts", [])]
    if mounts:
        container["Mounts"] = mounts
    if svc.secrets:  # SecretID: looked up by name when the spec is sent (engine/swarm.py)
        container["Secrets"] = [
            {
                "SecretName": r.name,
                "File": {"Name": r.target, "UID": "0", "GID": "0", "Mode": r.mode},
            }
            for r in svc.secrets
        ]
    hc = cfg.get("healthcheck")
    if hc is not None:
        health: dict[str, Any] = {"Test": hc.get("test", [])}
        health.update(
            _durations_ns(
                [
                    ("Interval", hc.get("interval")),
                    ("Timeout", hc.get("timeout")),
                    ("StartPeriod", hc.get("start_period")),
                    ("Retries", hc.get("retries")),
                ]
            )
        )
        container["Healthcheck"] = health

    task: dict[str, Any] = {
        "ContainerSpec": container,
        "Networks": [
            {"Target": name, "Aliases": att["aliases"]}
            for name, att in cfg.get("networks", {}).items()
        ],
        "ForceUpdate": 0,
    }
    rp = cfg.get("restart_policy") or {}
    if rp:
        policy: dict[str, Any] = {}
        if "condition" in rp:
            policy["Condition"] = rp["condition"]
        if "delay" in rp:
            policy["Delay"] = rp["delay"]
        if "max_attempts" in rp:
            policy["MaxAttempts"] = rp["max_attempts"]
        if "window" in rp:
            policy["Window"] = rp["window"]
        task["RestartPolicy"] = policy
    res = cfg.get("resources")
    if res:
        out: dict[str, Any] = {}
        if res.get("limits"):
            out["Limits"] = _limits_spec(res["limits"])
        if res.get("reservations"):
            out["Reservations"] = _limits_spec(res["reservations"])
        task["Resources"] = out
    pl = cfg.get("placement")
    if pl:
        placement: dict[str, Any] = {}
        if pl.get("constraints"):
            placement["Constraints"] = pl["constraints"]
        if pl.get("preferences"):
            placement["Preferences"] = [
                {"Spread": {"SpreadDescriptor": p.get("spread", "")}}
                for p in pl.get("preferences", [])
            ]
        if "max_replicas_per_node" in pl:
            placement["MaxReplicas"] = pl["max_replicas_per_node"]
        task["Placement"] = placement
    logging = cfg.get("logging")
    if logging:
        task["LogDriver"] = {
            "Name": logging.get("driver") or "json-file",
            "Options": logging.get("options") or {},
        }

    spec: dict[str, Any] = {
        "Name": svc.name,
        "Labels": svc.labels,
        "TaskTemplate": task,
        "Mode": {"Global": {}} if mode == "global" else {"Replicated": {"Replicas": replicas}},
    }
    update_config = cfg.get("update_config")
    if update_config:
        spec["UpdateConfig"] = _update_spec(update_config)
    rollback_config = cfg.get("rollback_config")
    if rollback_config:
        spec["RollbackConfig"] = _update_spec(rollback_config)
    endpoint: dict[str, Any] = {"Mode": endpoint_mode or "vip"}
    ports = cfg.get("ports")
    if ports:
        endpoint["Ports"] = [
            {
                "TargetPort": p["target"],
                "Protocol": p["protocol"],
                "PublishMode": p["mode"],
                **({"PublishedPort": p["published"]} if p.get("published") is not None else {}),
            }
            for p in ports
        ]
    spec["EndpointSpec"] = endpoint
    return spec
