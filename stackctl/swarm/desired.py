"""From validated stacks to swarm services, overlay networks and volumes, with config hashes.

A service's canonical ``config`` (plain JSON, secrets as a hash of their value) is what the
plan diffs and what its SHA-256 ``config_hash`` covers; both are stored in the service's
labels, as for containers. The Engine API ``ServiceSpec`` sent to the daemon is built from
the same config plus the real environment values (``engine_spec``).

Names follow ``docker stack deploy``: service ``<stack>_<service>``; networks and volumes
as on one host (``<stack>_<key>`` unless ``name`` is set).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stackctl import units
from stackctl.desired import (
    LABEL_CONFIG,
    LABEL_HASH,
    LABEL_NETWORK,
    LABEL_SERVICE,
    LABEL_STACK,
    LABEL_VOLUME,
    DesiredNetwork,
    DesiredState,
    DesiredVolume,
    ExternalNetwork,
    _env,
    _healthcheck,
    _network_used,
    _secret_digest,
    canonical_json,
    desired_volume,
    process_config,
    sha256,
)
from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.model import Condition, Service, ServiceNetwork, Stack

ENGINE = "swarm"


@dataclass(frozen=True)
class SwarmService:
    """One swarm service to run: its canonical config, hash, and the real env for writes."""

    stack: str
    service: str
    name: str  # <stack>_<service>
    image: str
    config: dict[str, Any]  # canonical, secrets hashed: stored in a label, diffed by the plan
    config_hash: str
    env: dict[str, str] = field(repr=False)  # real values: for the spec sent to the daemon
    sensitive: frozenset[str]
    networks: tuple[str, ...]  # Docker network names
    depends_on: dict[str, Condition]
    has_healthcheck: bool
    oneshot: bool  # restart condition none: a clean exit means done
    replicas: int | None  # None: global mode
    labels: dict[str, str]  # service labels (deploy.labels + stackctl's)
    container_labels: dict[str, str]  # labels of its containers (service labels + stackctl's)

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.service}"

    def spec(self) -> dict[str, Any]:
        return engine_spec(self)


@dataclass(frozen=True)
class SwarmDesiredState(DesiredState):
    """DesiredState of a swarm run: ``containers`` is empty, ``services`` holds the services."""

    services: tuple[SwarmService, ...] = ()

    def service(self, stack: str, name: str) -> SwarmService | None:
        for s in self.services:
            if s.stack == stack and s.service == name:
                return s
        return None


# --------------------------------------------------------------------------- networks


def overlay_network(stack: Stack, key: str) -> DesiredNetwork:
    """An overlay network, attachable (so `docker run --network` and tests can join it)."""
    net = stack.networks[key]
    ipam: list[dict[str, str]] = []
    for pool in net.ipam.config if net.ipam else []:
        entry = {}
        if pool.subnet:
            entry["Subnet"] = pool.subnet
        if pool.gateway:
            entry["Gateway"] = pool.gateway
        if pool.ip_range:
            entry["IPRange"] = pool.ip_range
        if entry:
            ipam.append(entry)
    config: dict[str, Any] = {
        "driver": net.driver or "overlay",
        "options": dict(net.driver_opts),
        "internal": net.internal,
        "attachable": True,
        "enable_ipv6": net.enable_ipv6,
        "ipam": ipam,
        "ipam_driver": (net.ipam.driver if net.ipam and net.ipam.driver else "default"),
        "labels": dict(net.labels),
        "scope": "swarm",
    }
    digest = sha256(canonical_json(config))
    labels = {
        **net.labels,
        LABEL_STACK: stack.name,
        LABEL_NETWORK: key,
        LABEL_HASH: digest,
        LABEL_CONFIG: canonical_json(config),
    }
    return DesiredNetwork(
        stack=stack.name,
        key=key,
        name=stack.network_name(key),
        driver=config["driver"],
        options=config["options"],
        internal=net.internal,
        attachable=True,
        enable_ipv6=net.enable_ipv6,
        ipam=ipam,
        ipam_driver=config["ipam_driver"],
        labels=labels,
        config=config,
        config_hash=digest,
    )


# --------------------------------------------------------------------------- services


def service_name(stack: Stack, service: Service) -> str:
    return f"{stack.name}_{service.name}"


def _restart_policy(service: Service) -> dict[str, Any]:
    """deploy.restart_policy wins; else ``restart`` maps as on one host (no: swarm default)."""
    rp = service.deploy.restart_policy if service.deploy else None
    if rp is not None:
        out: dict[str, Any] = {}
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


def _update_config(cfg: Any) -> dict[str, Any]:
    if cfg is None:
        return {}
    out: dict[str, Any] = {}
    for name in ("parallelism", "failure_action", "max_failure_ratio", "order"):
        value = getattr(cfg, name)
        if value is not None:
            out[name] = value
    for name in ("delay", "monitor"):
        value = getattr(cfg, name)
        if value is not None:
            out[name] = units.parse_duration(value)
    return out


def _resources(service: Service) -> dict[str, Any]:
    res = service.deploy.resources if service.deploy else None
    out: dict[str, Any] = {}
    for kind, spec in (
        ("limits", res.limits if res else None),
        ("reservations", res.reservations if res else None),
    ):
        if spec is None:
            continue
        entry: dict[str, Any] = {}
        if spec.cpus is not None:
            entry["nano_cpus"] = int(spec.cpus * 1e9)
        if spec.memory is not None:
            entry["memory"] = units.parse_size(spec.memory)
        if spec.pids is not None and kind == "limits":
            entry["pids"] = spec.pids
        if entry:
            out[kind] = entry
    return out


def _mounts(stack: Stack, service: Service) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = []
    for m in service.volumes:
        entry: dict[str, Any] = {"type": m.type, "target": m.target, "read_only": m.read_only}
        if m.type == "bind" and m.source:
            from stackctl.desired import _abs_source

            entry["source"] = _abs_source(stack, m.source)
        elif m.type == "volume" and m.source:
            if m.source in stack.volumes:
                vol = stack.volumes[m.source]
                entry["source"] = stack.volume_name(m.source)
                if not vol.external:
                    entry["volume_labels"] = {
                        **vol.labels,
                        LABEL_STACK: stack.name,
                        LABEL_VOLUME: m.source,
                    }
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


def _service(stack: Stack, service: Service, problems: list[Diagnostic]) -> SwarmService:
    env, sensitive = _env(stack, service, problems)
    image = units.image_with_tag(service.image)
    attachments = service.networks or {"default": ServiceNetwork()}
    networks: dict[str, dict[str, Any]] = {}
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
    placement: dict[str, Any] = {}
    if deploy and deploy.placement:
        p = deploy.placement
        if p.constraints:
            placement["constraints"] = list(p.constraints)
        if p.preferences:
            placement["preferences"] = [dict(x) for x in p.preferences]
        if p.max_replicas_per_node is not None:
            placement["max_replicas_per_node"] = p.max_replicas_per_node
    config: dict[str, Any] = {
        "image": image,
        "mode": "global" if global_mode else "replicated",
        "replicas": replicas,
        "command": service.command,
        "entrypoint": service.entrypoint,
        "env": {k: (_secret_digest(v) if k in sensitive else v) for k, v in sorted(env.items())},
        "hostname": service.hostname,
        "user": service.user,
        "working_dir": service.working_dir,
        "labels": dict(sorted(service.labels.items())),
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
        "healthcheck": _healthcheck(service),
        "restart_policy": restart_policy,
        "resources": _resources(service),
        "placement": placement,
        "update_config": _update_config(deploy.update_config if deploy else None),
        "rollback_config": _update_config(deploy.rollback_config if deploy else None),
        "endpoint_mode": (deploy.endpoint_mode if deploy else None),
        **process_config(service),
    }
    # Drop empty values so adding a new optional field later does not change old hashes.
    config = {k: v for k, v in config.items() if v not in (None, [], {}, False)}
    config_json = canonical_json(config)
    digest = sha256(config_json)
    name = service_name(stack, service)
    ours = {LABEL_STACK: stack.name, LABEL_SERVICE: service.name}
    hc = service.healthcheck
    return SwarmService(
        stack=stack.name,
        service=service.name,
        name=name,
        image=image,
        config=config,
        config_hash=digest,
        env=env,
        sensitive=sensitive,
        networks=tuple(networks),
        depends_on={k: v.condition for k, v in service.depends_on.items()},
        has_healthcheck=hc is not None and not hc.disabled,
        oneshot=restart_policy.get("condition") == "none",
        replicas=replicas,
        labels={
            **(deploy.labels if deploy else {}),
            **ours,
            LABEL_HASH: digest,
            LABEL_CONFIG: config_json,
        },
        container_labels={**service.labels, **ours},
    )


def desire_swarm(stacks: Sequence[Stack]) -> SwarmDesiredState:
    """The desired state of all ``stacks`` on one swarm (they are planned as one)."""
    problems: list[Diagnostic] = []
    networks: list[DesiredNetwork] = []
    volumes: list[DesiredVolume] = []
    services: list[SwarmService] = []
    external: dict[str, set[str]] = {}
    external_volumes: set[str] = set()
    for stack in stacks:
        for key, net in stack.networks.items():
            if net.external:
                external.setdefault(stack.network_name(key), set()).add(stack.name)
            elif _network_used(stack, key):
                networks.append(overlay_network(stack, key))
        for key, vol in stack.volumes.items():
            name = stack.volume_name(key)
            if vol.external:
                external_volumes.add(name)
                continue
            volumes.append(desired_volume(stack, key))
        for service in stack.services.values():
            services.append(_service(stack, service, problems))
    if problems:
        raise InvalidStackError(problems)
    providers = {n.name: n.stack for n in networks}
    externals = tuple(
        ExternalNetwork(name=name, used_by=tuple(sorted(users)), provided_by=providers.get(name))
        for name, users in sorted(external.items())
    )
    return SwarmDesiredState(
        stacks=tuple(s.name for s in stacks),
        networks=tuple(networks),
        volumes=tuple(volumes),
        containers=(),
        external_networks=externals,
        external_volumes=tuple(sorted(external_volumes)),
        images=tuple(dict.fromkeys(s.image for s in services)),
        services=tuple(services),
    )


# --------------------------------------------------------------------------- engine spec


def engine_spec(svc: SwarmService) -> dict[str, Any]:
    """The Engine API ``ServiceSpec`` for ``svc`` (real env values; stackctl's labels)."""
    cfg = svc.config
    container: dict[str, Any] = {
        "Image": svc.image,
        "Labels": svc.container_labels,
        "Env": [f"{k}={v}" for k, v in sorted(svc.env.items())],
    }
    if cfg.get("entrypoint"):
        container["Command"] = cfg["entrypoint"]
        if cfg.get("command"):
            container["Args"] = cfg["command"]
    elif cfg.get("command"):
        container["Args"] = cfg["command"]
    for src, dst in (
        ("hostname", "Hostname"),
        ("user", "User"),
        ("working_dir", "Dir"),
        ("stop_signal", "StopSignal"),
        ("stop_grace_period", "StopGracePeriod"),
        ("init", "Init"),
        ("read_only", "ReadOnly"),
        ("tty", "TTY"),
        ("stdin_open", "OpenStdin"),
    ):
        if src in cfg:
            container[dst] = cfg[src]
    if cfg.get("cap_add"):
        container["CapabilityAdd"] = cfg["cap_add"]
    if cfg.get("cap_drop"):
        container["CapabilityDrop"] = cfg["cap_drop"]
    if cfg.get("sysctls"):
        container["Sysctls"] = cfg["sysctls"]
    if cfg.get("extra_hosts"):
        container["Hosts"] = [f"{ip} {host}" for host, ip in cfg["extra_hosts"].items()]
    if cfg.get("dns") or cfg.get("dns_search"):
        container["DNSConfig"] = {
            "Nameservers": cfg.get("dns", []),
            "Search": cfg.get("dns_search", []),
        }
    mounts: list[dict[str, Any]] = []
    for m in cfg.get("mounts", []):
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
        mounts.append(mount)
    if mounts:
        container["Mounts"] = mounts
    hc = cfg.get("healthcheck")
    if hc is not None:
        health: dict[str, Any] = {"Test": hc.get("test", [])}
        for src, dst in (
            ("interval", "Interval"),
            ("timeout", "Timeout"),
            ("start_period", "StartPeriod"),
            ("retries", "Retries"),
        ):
            if src in hc:
                health[dst] = hc[src]
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
        task["RestartPolicy"] = {
            dst: rp[src]
            for src, dst in (
                ("condition", "Condition"),
                ("delay", "Delay"),
                ("max_attempts", "MaxAttempts"),
                ("window", "Window"),
            )
            if src in rp
        }
    res = cfg.get("resources") or {}
    if res:
        out: dict[str, Any] = {}
        for kind, dst in (("limits", "Limits"), ("reservations", "Reservations")):
            r = res.get(kind)
            if r:
                out[dst] = {
                    k2: r[k1]
                    for k1, k2 in (
                        ("nano_cpus", "NanoCPUs"),
                        ("memory", "MemoryBytes"),
                        ("pids", "Pids"),
                    )
                    if k1 in r
                }
        task["Resources"] = out
    pl = cfg.get("placement") or {}
    if pl:
        placement: dict[str, Any] = {}
        if pl.get("constraints"):
            placement["Constraints"] = pl["constraints"]
        if pl.get("preferences"):
            placement["Preferences"] = [
                {"Spread": {"SpreadDescriptor": p.get("spread", "")}} for p in pl["preferences"]
            ]
        if "max_replicas_per_node" in pl:
            placement["MaxReplicas"] = pl["max_replicas_per_node"]
        task["Placement"] = placement
    if cfg.get("logging"):
        task["LogDriver"] = {
            "Name": cfg["logging"].get("driver") or "json-file",
            "Options": cfg["logging"].get("options") or {},
        }

    spec: dict[str, Any] = {
        "Name": svc.name,
        "Labels": svc.labels,
        "TaskTemplate": task,
        "Mode": {"Global": {}}
        if cfg.get("mode") == "global"
        else {"Replicated": {"Replicas": cfg.get("replicas", 0)}},
    }
    for src, dst in (("update_config", "UpdateConfig"), ("rollback_config", "RollbackConfig")):
        uc = cfg.get(src)
        if uc:
            spec[dst] = {
                k2: uc[k1]
                for k1, k2 in (
                    ("parallelism", "Parallelism"),
                    ("delay", "Delay"),
                    ("failure_action", "FailureAction"),
                    ("monitor", "Monitor"),
                    ("max_failure_ratio", "MaxFailureRatio"),
                    ("order", "Order"),
                )
                if k1 in uc
            }
    endpoint: dict[str, Any] = {"Mode": cfg.get("endpoint_mode") or "vip"}
    if cfg.get("ports"):
        endpoint["Ports"] = [
            {
                "TargetPort": p["target"],
                "Protocol": p["protocol"],
                "PublishMode": p["mode"],
                **({"PublishedPort": p["published"]} if p.get("published") is not None else {}),
            }
            for p in cfg["ports"]
        ]
    spec["EndpointSpec"] = endpoint
    return spec
