"""From validated stacks to the desired state of every Docker resource, with config hashes.

Pure but for reading ``env_file`` files (and the ``.env`` beside the stack, for the
variables they refer to) and secret files beside the stack. Everything that shapes a
container goes into its canonical ``config`` (a plain JSON-able dict) and its
SHA-256 ``config_hash``; nothing that does not (depends_on, stackctl's own labels). Secret
values enter the config only as a hash of the value, so the config can be stored in a
label and shown in a plan without leaking them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackctl import units
from stackctl.core.dotenv import DotenvError, Variables, chain, read_dotenv_file, variables_for
from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.model import Condition, Secret, Service, ServiceNetwork, Stack
from stackctl.secrets import looks_secret

LABEL_STACK = "io.stackctl.stack"
LABEL_SERVICE = "io.stackctl.service"
LABEL_NUMBER = "io.stackctl.container-number"
LABEL_NETWORK = "io.stackctl.network"
LABEL_VOLUME = "io.stackctl.volume"
LABEL_HASH = "io.stackctl.config-hash"
LABEL_CONFIG = "io.stackctl.config"
LABEL_ONESHOT = "io.stackctl.oneshot"

TEMP_SUFFIX = "_stackctl-new"


def temp_name(name: str) -> str:
    """The name a replacement container has until the old one is gone."""
    return f"{name}{TEMP_SUFFIX}"


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _secret_digest(value: str) -> str:
    return "sha256:" + sha256(value)[:16]


@dataclass(frozen=True)
class DesiredNetwork:
    stack: str
    key: str
    name: str
    driver: str
    options: dict[str, str]
    internal: bool
    attachable: bool
    enable_ipv6: bool
    ipam: list[dict[str, str]]  # [{"Subnet":..., "Gateway":..., "IPRange":...}]
    ipam_driver: str
    labels: dict[str, str]
    config: dict[str, Any]
    config_hash: str


@dataclass(frozen=True)
class DesiredVolume:
    stack: str
    key: str
    name: str
    driver: str
    driver_opts: dict[str, str]
    labels: dict[str, str]


@dataclass(frozen=True)
class ExternalNetwork:
    """A network a stack uses but does not create."""

    name: str
    used_by: tuple[str, ...]  # stack names
    provided_by: str | None  # a loaded stack that defines it, if any


@dataclass(frozen=True)
class ContainerNetwork:
    name: str  # Docker network name
    aliases: tuple[str, ...]
    ipv4_address: str | None
    ipv6_address: str | None


@dataclass(frozen=True)
class DesiredContainer:
    """One container to run: what to create, and the hash that says whether it changed."""

    stack: str
    service: str
    number: int
    name: str
    image: str  # reference with tag, e.g. "postgres:14"
    config: dict[str, Any]  # canonical, secrets hashed: stored in a label, diffed by the plan
    spec: dict[str, Any] = field(repr=False)  # the same with real values: for create only
    config_hash: str
    env: dict[str, str] = field(repr=False)  # real values, secrets included: for create only
    sensitive: frozenset[str]  # env keys whose values are never shown
    networks: tuple[ContainerNetwork, ...]
    depends_on: dict[str, Condition]  # service name -> condition (same stack)
    has_healthcheck: bool
    oneshot: bool  # restart "no": a clean exit means done
    volumes: tuple[str, ...]  # Docker names of named volumes used
    bind_sources: tuple[str, ...]  # absolute host paths to create if missing
    pull_policy: str | None
    labels: dict[str, str]  # every label the container carries, stackctl's included

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.name}"


@dataclass(frozen=True)
class DesiredState:
    stacks: tuple[str, ...]
    networks: tuple[DesiredNetwork, ...]
    volumes: tuple[DesiredVolume, ...]
    containers: tuple[DesiredContainer, ...]
    external_networks: tuple[ExternalNetwork, ...]
    external_volumes: tuple[str, ...]
    images: tuple[str, ...]


# --------------------------------------------------------------------------- env files


MIN_REDACTED = 4  # shorter "secrets" would blank out ordinary text everywhere


def redact(data: Any, secrets: set[str] | frozenset[str]) -> Any:
    """``data`` with every occurrence of a secret value replaced by its digest."""
    values = sorted((s for s in secrets if len(s) >= MIN_REDACTED), key=len, reverse=True)
    if not values:
        return data

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            for value in values:
                if value in item:
                    item = item.replace(value, _secret_digest(value))
            return item
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(data)


# --------------------------------------------------------------------------- networks


def _network(stack: Stack, key: str) -> DesiredNetwork | None:
    net = stack.networks[key]
    if net.external:
        return None
    name = stack.network_name(key)
    ipam = []
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
        "driver": net.driver or "bridge",
        "options": dict(net.driver_opts),
        "internal": net.internal,
        "attachable": net.attachable,
        "enable_ipv6": net.enable_ipv6,
        "ipam": ipam,
        "ipam_driver": (net.ipam.driver if net.ipam and net.ipam.driver else "default"),
        "labels": dict(net.labels),
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
        name=name,
        driver=config["driver"],
        options=config["options"],
        internal=net.internal,
        attachable=net.attachable,
        enable_ipv6=net.enable_ipv6,
        ipam=ipam,
        ipam_driver=config["ipam_driver"],
        labels=labels,
        config=config,
        config_hash=digest,
    )


# --------------------------------------------------------------------------- containers


def _abs_source(stack: Stack, source: str) -> str:
    path = Path(os.path.expanduser(source))
    if not path.is_absolute():
        path = stack.base_dir / path
    return os.path.normpath(path)


def _healthcheck(service: Service) -> dict[str, Any] | None:
    hc = service.healthcheck
    if hc is None:
        return None
    if hc.disabled:
        return {"test": ["NONE"]}
    out: dict[str, Any] = {}
    if hc.test is not None:
        out["test"] = list(hc.test)
    for name in ("interval", "timeout", "start_period", "start_interval"):
        value = getattr(hc, name)
        if value is not None:
            out[name] = units.parse_duration(value)
    if hc.retries is not None:
        out["retries"] = hc.retries
    return out


def _resources(service: Service) -> dict[str, Any]:
    limits = (
        service.deploy.resources.limits if service.deploy and service.deploy.resources else None
    )
    reservations = (
        service.deploy.resources.reservations
        if service.deploy and service.deploy.resources
        else None
    )
    out: dict[str, Any] = {}
    if limits is not None:
        if limits.cpus is not None:
            out["nano_cpus"] = int(limits.cpus * 1e9)
        if limits.memory is not None:
            out["memory"] = units.parse_size(limits.memory)
        if limits.pids is not None:
            out["pids_limit"] = limits.pids
    if reservations is not None and reservations.memory is not None:
        out["memory_reservation"] = units.parse_size(reservations.memory)
    return out


def _env(
    stack: Stack, service: Service, problems: list[Diagnostic]
) -> tuple[dict[str, str], frozenset[str]]:
    env: dict[str, str] = {}
    sensitive: set[str] = set()
    variables: Variables | None = None
    for i, rel in enumerate(service.env_file):
        path = Path(rel) if Path(rel).is_absolute() else stack.base_dir / rel
        if variables is None:
            variables = variables_for(stack.base_dir)[0]  # its problems were loading's
        try:
            values = read_dotenv_file(path, _env_file_lookup(variables, service), display=rel)
        except DotenvError as e:
            problems.append(
                Diagnostic(
                    "error",
                    e.problem,
                    file=str(path),
                    line=e.line,
                    path=f"services.{service.name}.env_file[{i}]",
                    hint=e.hint,
                    code="env-file-invalid",
                )
            )
            continue
        except OSError as e:
            problems.append(
                Diagnostic(
                    "error",
                    f"cannot read env_file {rel!r}: {e.strerror}",
                    file=str(stack.origin) if stack.origin else None,
                    line=stack.line_of(f"services.{service.name}.env_file"),
                    path=f"services.{service.name}.env_file[{i}]",
                    hint="create the file or fix the path (relative to the stack's folder)",
                    code="env-file-missing",
                )
            )
            continue
        env.update(values)
        sensitive.update(values)  # values from an env file are never shown
    for key, value in service.environment.items():
        if isinstance(value, Secret):
            env[key] = value.value
            sensitive.add(key)
        else:
            env[key] = value
            sensitive.discard(key)
            if looks_secret(key):
                sensitive.add(key)
    return env, frozenset(sensitive)


def _env_file_lookup(variables: Variables, service: Service) -> Callable[[str], str | None]:
    """What an ``env_file``'s bare keys and ``${VAR}`` references see, as in Compose: the
    stack's variables (process environment, then ``.env``), then the service's
    ``environment``."""
    own = {k: v.value if isinstance(v, Secret) else v for k, v in service.environment.items()}
    return chain(variables.lookup, own.get)


def process_config(service: Service) -> dict[str, Any]:
    """The config fields a container and a swarm service take the same way."""
    return {
        "cap_add": sorted(service.cap_add),
        "cap_drop": sorted(service.cap_drop),
        "read_only": service.read_only,
        "extra_hosts": dict(sorted(service.extra_hosts.items())),
        "dns": list(service.dns),
        "dns_search": list(service.dns_search),
        "stop_signal": service.stop_signal,
        "stop_grace_period": (
            units.parse_duration(service.stop_grace_period) if service.stop_grace_period else None
        ),
        "init": service.init,
        "logging": (
            {"driver": service.logging.driver, "options": dict(service.logging.options)}
            if service.logging
            else None
        ),
        "sysctls": dict(service.sysctls),
        "tty": service.tty,
        "stdin_open": service.stdin_open,
    }


def _container(
    stack: Stack,
    service: Service,
    number: int,
    name: str,
    problems: list[Diagnostic],
) -> DesiredContainer:
    env, sensitive = _env(stack, service, problems)
    image = units.image_with_tag(service.image)

    networks: list[ContainerNetwork] = []
    attachments = service.networks or {"default": ServiceNetwork()}
    for key, attach in attachments.items():
        if key not in stack.networks:
            continue  # reported by validation
        networks.append(
            ContainerNetwork(
                name=stack.network_name(key),
                aliases=tuple(dict.fromkeys([service.name, *attach.aliases])),
                ipv4_address=attach.ipv4_address,
                ipv6_address=attach.ipv6_address,
            )
        )

    mounts: list[dict[str, Any]] = []
    volumes: list[str] = []
    binds: list[str] = []
    for m in service.volumes:
        entry: dict[str, Any] = {"type": m.type, "target": m.target, "read_only": m.read_only}
        if m.type == "bind" and m.source:
            entry["source"] = _abs_source(stack, m.source)
            if m.create_host_path:
                binds.append(entry["source"])
            else:
                entry["create_host_path"] = False  # a missing source is an error, not a new dir
        elif m.type == "volume" and m.source:
            entry["source"] = stack.volume_name(m.source) if m.source in stack.volumes else m.source
            volumes.append(entry["source"])
            if m.nocopy:
                entry["nocopy"] = True
        elif m.type == "tmpfs" and m.tmpfs_size:
            entry["tmpfs_size"] = units.parse_size(m.tmpfs_size)
        mounts.append(entry)
    for secret in service.secrets:
        src = stack.secrets.get(secret.source)
        if src is not None and src.file:
            target = secret.target or secret.source
            if not target.startswith("/"):
                target = f"/run/secrets/{target}"
            mounts.append(
                {
                    "type": "bind",
                    "source": _abs_source(stack, src.file),
                    "target": target,
                    "read_only": True,
                }
            )
        elif src is not None and src.environment:
            value = os.environ.get(src.environment, "")
            env[f"{secret.source.upper()}"] = value
            sensitive = sensitive | {secret.source.upper()}

    config: dict[str, Any] = {
        "image": image,
        "command": service.command,
        "entrypoint": service.entrypoint,
        "env": {k: (_secret_digest(v) if k in sensitive else v) for k, v in sorted(env.items())},
        "hostname": service.hostname,
        "user": service.user,
        "working_dir": service.working_dir,
        "labels": dict(sorted(service.labels.items())),
        "ports": [
            {
                "target": p.target,
                "published": p.published,
                "host_ip": p.host_ip,
                "protocol": p.protocol,
            }
            for p in service.ports
        ],
        "expose": list(service.expose),
        "mounts": mounts,
        "networks": {
            n.name: {
                "aliases": list(n.aliases),
                "ipv4_address": n.ipv4_address,
                "ipv6_address": n.ipv6_address,
            }
            for n in networks
        },
        "healthcheck": _healthcheck(service),
        "restart": service.restart,
        "resources": _resources(service),
        "privileged": service.privileged,
        "devices": list(service.devices),
        "security_opt": list(service.security_opt),
        "shm_size": units.parse_size(service.shm_size) if service.shm_size else None,
        **process_config(service),
    }
    # Drop empty values so adding a new optional field later does not change old hashes.
    config = {k: v for k, v in config.items() if v not in (None, [], {}, False)}
    # A secret's value can also sit inside a command, a label or a URL in another variable:
    # wherever it appears, the stored and shown config carries its digest instead.
    secret_values = {v for k, v in env.items() if k in sensitive} | stack.secret_values
    spec = config
    config = redact(config, secret_values)
    config_json = canonical_json(config)
    digest = sha256(config_json)
    oneshot = service.restart == "no"
    labels = {
        **service.labels,
        LABEL_STACK: stack.name,
        LABEL_SERVICE: service.name,
        LABEL_NUMBER: str(number),
        LABEL_HASH: digest,
        LABEL_CONFIG: config_json,
    }
    if oneshot:
        labels[LABEL_ONESHOT] = "true"
    hc = service.healthcheck
    return DesiredContainer(
        stack=stack.name,
        service=service.name,
        number=number,
        name=name,
        image=image,
        config=config,
        spec=spec,
        config_hash=digest,
        env=env,
        sensitive=sensitive,
        networks=tuple(networks),
        depends_on={k: v.condition for k, v in service.depends_on.items()},
        has_healthcheck=hc is not None and not hc.disabled,
        oneshot=oneshot,
        volumes=tuple(dict.fromkeys(volumes)),
        bind_sources=tuple(dict.fromkeys(binds)),
        pull_policy=service.pull_policy,
        labels=labels,
    )


# --------------------------------------------------------------------------- state


def desire(stacks: Sequence[Stack]) -> DesiredState:
    """The desired state of all ``stacks`` together (they are planned as one)."""
    problems: list[Diagnostic] = []
    networks: list[DesiredNetwork] = []
    volumes: list[DesiredVolume] = []
    containers: list[DesiredContainer] = []
    external: dict[str, set[str]] = {}
    external_volumes: set[str] = set()

    for stack in stacks:
        for key, net in stack.networks.items():
            if net.external:
                external.setdefault(stack.network_name(key), set()).add(stack.name)
                continue
            desired_net = _network(stack, key)
            if desired_net is not None and _network_used(stack, key):
                networks.append(desired_net)
        for key, vol in stack.volumes.items():
            name = stack.volume_name(key)
            if vol.external:
                external_volumes.add(name)
                continue
            volumes.append(desired_volume(stack, key))
        for service in stack.services.values():
            for number, name in enumerate(stack.container_names(service), start=1):
                containers.append(_container(stack, service, number, name, problems))

    if problems:
        raise InvalidStackError(problems)

    providers = {n.name: n.stack for n in networks}
    externals = tuple(
        ExternalNetwork(name=name, used_by=tuple(sorted(users)), provided_by=providers.get(name))
        for name, users in sorted(external.items())
    )
    images = tuple(dict.fromkeys(c.image for c in containers))
    return DesiredState(
        stacks=tuple(s.name for s in stacks),
        networks=tuple(networks),
        volumes=tuple(volumes),
        containers=tuple(containers),
        external_networks=externals,
        external_volumes=tuple(sorted(external_volumes)),
        images=images,
    )


def desired_volume(stack: Stack, key: str) -> DesiredVolume:
    """A named volume of ``stack`` as stackctl creates it (labelled as the stack's)."""
    vol = stack.volumes[key]
    return DesiredVolume(
        stack=stack.name,
        key=key,
        name=stack.volume_name(key),
        driver=vol.driver or "local",
        driver_opts=dict(vol.driver_opts),
        labels={**vol.labels, LABEL_STACK: stack.name, LABEL_VOLUME: key},
    )


def _network_used(stack: Stack, key: str) -> bool:
    """Compose creates only the networks some service uses (and ``default`` only if used)."""
    if key != "default":
        return True
    return any(not s.networks or "default" in s.networks for s in stack.services.values())


def config_from_labels(labels: Mapping[str, str]) -> dict[str, Any] | None:
    raw = labels.get(LABEL_CONFIG)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
