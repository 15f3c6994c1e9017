"""From validated stacks to the desired state of every Docker resource, with config hashes.

Pure but for reading ``env_file`` files and secret files beside the stack. Everything that
shapes a container goes into its canonical ``config`` (a plain JSON-able dict) and its
SHA-256 ``config_hash``; nothing that does not (depends_on, stackctl's own labels). Secret
values enter the config only as a hash of the value, so the config can be stored in a
label and shown in a plan without leaking them. So do ``content:``/``environment:``
configs: the config holds a keyed digest; the text itself is in ``DesiredContainer.copies``,
which only the engine reads (it uploads the file before the container starts).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict

from stackctl import units
from stackctl.core.build import LABEL_BUILD, LABEL_BUILD_HASH, DesiredBuild, build_hash
from stackctl.core.config import finalize
from stackctl.core.dotenv import variables_for
from stackctl.core.labels import (
    LABEL_CONFIG,
    LABEL_HASH,
    LABEL_NUMBER,
    LABEL_ONESHOT,
    LABEL_SERVICE,
    LABEL_STACK,
    canonical_json,
    sha256,
)
from stackctl.core.redact import Secrets, remember
from stackctl.core.resources import (
    DesiredNetwork,
    DesiredResources,
    desired_network,
    stack_resources,
)
from stackctl.core.service_config import (
    MountBase,
    ProcessConfig,
    config_files,
    host_path,
    process_config,
    secret_target,
    service_env,
    stack_secrets,
    unit_fields,
)
from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.model import Build, Condition, Service, ServiceNetwork, Stack
from stackctl.model.build import url_credential
from stackctl.model.service import shared_service
from stackctl.secrets import looks_secret


class PortConfig(TypedDict):
    target: int
    published: int | str | None
    host_ip: str | None
    protocol: str


class MountConfig(MountBase, total=False):
    create_host_path: bool  # present (False) only when a missing source is an error
    # Each present only when set, so configs without them keep their hash:
    propagation: str  # bind: rprivate, private, rshared, shared, rslave, slave
    selinux: str  # bind or named volume: z or Z (sent in the Binds form, as Compose does)
    subpath: str  # volume: a folder of the volume (Engine API 1.45+, checked by the plan)
    tmpfs_mode: int  # tmpfs: the permission bits of its root


class AttachmentConfig(TypedDict):
    aliases: list[str]
    ipv4_address: str | None
    ipv6_address: str | None


class ResourcesConfig(TypedDict, total=False):
    nano_cpus: int
    memory: int
    pids_limit: int
    memory_reservation: int
    memory_swap: int
    cpu_shares: int
    cpu_quota: int
    cpu_period: int
    cpuset_cpus: str


class DeviceRequestConfig(TypedDict):
    driver: str
    count: int  # -1: all
    device_ids: list[str]
    capabilities: list[str]
    options: dict[str, str]


class UlimitConfig(TypedDict):
    name: str
    soft: int
    hard: int


class ContainerConfig(ProcessConfig, total=False):
    """A container's canonical config: the shared process fields and a host's own."""

    ports: list[PortConfig]
    expose: list[str]
    mounts: list[MountConfig]
    networks: dict[str, AttachmentConfig]  # Docker network name -> attachment
    restart: str
    resources: ResourcesConfig
    privileged: bool
    devices: list[str]
    device_requests: list[DeviceRequestConfig]  # GPUs: reservations.devices, then gpus
    security_opt: list[str]
    shm_size: int | None
    # config files bind-mounted from the stack's folder -> content digest; and configs
    # copied in (content:, environment:): their target -> "<digest> mode=0444[ uid=..]"
    files: dict[str, str]
    network_mode: str | None  # as written: host, none, bridge, container:NAME, service:NAME
    ulimits: list[UlimitConfig]
    runtime: str | None
    platform: str | None
    oom_score_adj: int | None
    group_add: list[str]
    ipc: str | None
    pid: str | None
    userns_mode: str | None
    cgroup_parent: str | None
    storage_opt: dict[str, str]
    domainname: str | None


@dataclass(frozen=True)
class ContainerNetwork:
    name: str  # Docker network name
    aliases: tuple[str, ...]
    ipv4_address: str | None
    ipv6_address: str | None


@dataclass(frozen=True)
class ConfigCopy:
    """A ``content:`` or ``environment:`` config: a file the engine copies into the
    container after creating it and before starting it (Compose's CopyToContainer).
    ``data`` is the real text: it goes to the daemon only, never to a label or a plan."""

    target: str  # absolute path in the container
    data: bytes = field(repr=False)
    mode: int  # 0o444 unless the service's config sets it
    uid: int | None
    gid: int | None


@dataclass(frozen=True)
class DesiredContainer:
    """One container to run: what to create, and the hash that says whether it changed."""

    stack: str
    service: str
    number: int
    name: str
    image: str  # reference with tag, e.g. "postgres:14"
    config: dict[str, Any]  # canonical, secrets hashed: stored in a label, diffed by the plan
    spec: ContainerConfig = field(repr=False)  # the same with real values: for create only
    config_hash: str
    legacy_hash: str  # see core/config.py
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
    # How a replace goes (deploy.update_config; not part of the config): the order, what a
    # failure does, and why the old and the new could not run side by side ("" if they can)
    update_order: str = "stop-first"  # stop-first | start-first
    failure_action: str = "rollback"  # rollback | pause | continue
    runs_alone: str = ""  # "publishes host port 8080", "container_name is set", ...
    # Docker's NetworkMode when not the stack's networks: host, none, bridge or
    # container:NAME (``service:X`` resolved to the name of X's first container).
    network_mode: str | None = None
    # The services whose first container this one shares a namespace with (network_mode,
    # ipc or pid ``service:X``): it is created after them, and replaced when they are.
    namespace_owners: tuple[str, ...] = ()
    # Docker's IpcMode and PidMode, ``service:X`` resolved as for network_mode.
    ipc: str | None = None
    pid: str | None = None
    copies: tuple[ConfigCopy, ...] = field(default=(), repr=False)  # for the engine only

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.name}"

    def mount_targets(self) -> set[str]:
        return {m["target"] for m in self.spec.get("mounts", [])}

    def anonymous_targets(self) -> set[str]:
        """Where it mounts an anonymous volume (``- /data``: a volume without a source)."""
        return {
            m["target"]
            for m in self.spec.get("mounts", [])
            if m["type"] == "volume" and not m.get("source")
        }

    def keeping(self, volumes: Mapping[str, str]) -> DesiredContainer:
        """The same container created with the anonymous volumes ``volumes`` (target ->
        volume name) of the one it replaces, as Compose does: the data stays. The config
        and its hash are unchanged; only what is sent to the daemon names the volumes."""
        if not volumes:
            return self
        mounts: list[MountConfig] = []
        for m in self.spec.get("mounts", []):
            name = volumes.get(m["target"])
            mounts.append({**m, "source": name} if name and m["type"] == "volume" else m)
        for target, name in sorted(volumes.items()):
            if target not in self.mount_targets():  # an image's VOLUME: mounted as before
                mounts.append({"type": "volume", "target": target, "source": name})
        spec: ContainerConfig = {**self.spec, "mounts": mounts}
        return replace(self, spec=spec)


@dataclass(frozen=True)
class DesiredState(DesiredResources):
    """The docker backend's desired state: the stacks' networks, volumes and containers."""

    containers: tuple[DesiredContainer, ...] = ()
    builds: tuple[DesiredBuild, ...] = ()  # images built here (never pulled)

    @property
    def always_pulled(self) -> tuple[str, ...]:
        return tuple(sorted({c.image for c in self.containers if c.pull_policy == "always"}))


# --------------------------------------------------------------------------- containers


def _device_requests(service: Service) -> list[DeviceRequestConfig]:
    """As Compose sends them: ``deploy.resources.reservations.devices``, then ``gpus``
    (whose capabilities always include ``gpu``)."""
    resources = service.deploy.resources if service.deploy else None
    reserved = resources.reservations.devices if resources and resources.reservations else []
    out: list[DeviceRequestConfig] = []
    for request, gpu in [(r, False) for r in reserved] + [(r, True) for r in service.gpus]:
        capabilities = list(request.capabilities)
        if gpu and "gpu" not in capabilities:
            capabilities.append("gpu")
        out.append(
            {
                "driver": request.driver or "",
                "count": request.engine_count,
                "device_ids": list(request.device_ids),
                "capabilities": capabilities,
                "options": dict(sorted(request.options.items())),
            }
        )
    return out


def _resources(service: Service) -> ResourcesConfig:
    """``deploy.resources``, or Compose's service-level keys for the same limits
    (``mem_limit``, ``cpus``, ``pids_limit``, ``mem_reservation``; a conflict between the
    two is a validate error), so either spelling gives the same config; and the keys
    only the service level has (swap, CPU shares, quota, period and set)."""
    limits = (
        service.deploy.resources.limits if service.deploy and service.deploy.resources else None
    )
    reservations = (
        service.deploy.resources.reservations
        if service.deploy and service.deploy.resources
        else None
    )
    cpus = limits.cpus if limits is not None and limits.cpus is not None else service.cpus
    memory = limits.memory if limits is not None and limits.memory else service.mem_limit
    pids = limits.pids if limits is not None and limits.pids is not None else service.pids_limit
    reserved = (
        reservations.memory
        if reservations is not None and reservations.memory
        else service.mem_reservation
    )
    out: ResourcesConfig = {}
    if cpus is not None:
        out["nano_cpus"] = int(cpus * 1e9)
    if memory:
        out["memory"] = units.parse_size(memory)
    if pids is not None:
        out["pids_limit"] = pids
    if reserved:
        out["memory_reservation"] = units.parse_size(reserved)
    if service.memswap_limit:
        swap = service.memswap_limit
        out["memory_swap"] = -1 if swap == "-1" else units.parse_size(swap)
    if service.cpu_shares is not None:
        out["cpu_shares"] = service.cpu_shares
    if service.cpu_quota is not None:
        out["cpu_quota"] = service.cpu_quota
    if service.cpu_period is not None:
        out["cpu_period"] = service.cpu_period
    if service.cpuset:
        out["cpuset_cpus"] = service.cpuset
    return out


def _shared_mode(stack: Stack, mode: str | None) -> str | None:
    """A namespace mode for Docker: ``service:X`` becomes ``container:<X's first container>``
    (Compose uses its id; Docker resolves a name to the id at create)."""
    owner = shared_service(mode)
    if owner is None or owner not in stack.services:
        return mode  # an unknown service is reported by validation
    return f"container:{stack.container_names(stack.services[owner])[0]}"


def _link_aliases(stack: Stack) -> dict[tuple[str, str], list[str]]:
    """(service, network key) -> the aliases other services' ``links`` give it there:
    Compose's ``links: [db:database]`` as an alias of db on each network both join."""
    out: dict[tuple[str, str], list[str]] = {}
    for other in stack.services.values():
        for target, alias in other.link_targets:
            if target == other.name:
                continue
            for key in _attachments(other):
                out.setdefault((target, key), []).append(alias)
    return out


def _attachments(service: Service) -> dict[str, ServiceNetwork]:
    """The stack networks the service's containers join (none with a ``network_mode``)."""
    if not service.joins_networks:
        return {}
    return service.networks or {"default": ServiceNetwork()}


def config_texts(stack: Stack, problems: list[Diagnostic]) -> dict[str, str]:
    """The text of each ``content:`` or ``environment:`` config a service of ``stack``
    uses, by config key. ``environment:`` reads the variable as Compose does (the process
    environment, then ``.env``): its value may be a secret, so it is redacted from every
    message of the run; unset, it is a problem (Compose refuses it too)."""
    used = {use.source for svc in stack.services.values() for use in svc.configs}
    out: dict[str, str] = {}
    variables = None
    for key in sorted(used):
        cfg = stack.configs.get(key)
        if cfg is None or cfg.file or cfg.external:
            continue
        if cfg.content is not None:
            out[key] = cfg.content
        elif cfg.environment:
            if variables is None:
                variables = variables_for(stack.base_dir)[0]  # its problems were loading's
            name = cfg.environment
            value = variables.process.get(name, variables.dotenv.get(name))
            if value is None:
                problems.append(
                    Diagnostic(
                        "error",
                        f"config '{key}' is the value of the variable {name}, which is not set",
                        file=str(stack.origin) if stack.origin else None,
                        line=stack.line_of(f"configs.{key}.environment"),
                        path=f"configs.{key}.environment",
                        hint=variables.where_to_set(name),
                        code="config-environment-unset",
                    )
                )
                continue
            remember(value)
            out[key] = value
    return out


def _copies(
    service: Service, texts: Mapping[str, str], secrets: Secrets
) -> tuple[list[ConfigCopy], dict[str, str]]:
    """The service's ``content:``/``environment:`` configs as files to copy in, and their
    entries for the config's ``files``: target -> keyed digest of the text (never the
    text: an ``environment:`` config may hold a secret), mode, uid and gid. An empty text
    is no file, as in Compose."""
    copies: list[ConfigCopy] = []
    files: dict[str, str] = {}
    for use in service.configs:
        text = texts.get(use.source)
        if not text:
            continue
        target = "/" + use.path.lstrip("/")
        mode = 0o444 if use.mode is None else use.mode
        uid = int(use.uid) if use.uid and use.uid.isdigit() else None  # else: validate says
        gid = int(use.gid) if use.gid and use.gid.isdigit() else None
        data = text.encode()
        entry = f"{secrets.digest(hashlib.sha256(data).hexdigest())} mode={mode:04o}"
        entry += "".join(f" {k}={v}" for k, v in (("uid", uid), ("gid", gid)) if v is not None)
        copies.append(ConfigCopy(target, data, mode, uid, gid))
        files[target] = entry
    return copies, files


def _container(
    stack: Stack,
    service: Service,
    number: int,
    name: str,
    problems: list[Diagnostic],
    secrets: Secrets,
    links: dict[tuple[str, str], list[str]],
    texts: Mapping[str, str],
) -> DesiredContainer:
    env = service_env(stack, service, problems)
    copies, copied = _copies(service, texts, secrets)
    networks: list[ContainerNetwork] = []
    for key, attach in _attachments(service).items():
        if key not in stack.networks:
            continue  # reported by validation
        linked = links.get((service.name, key), [])
        networks.append(
            ContainerNetwork(
                name=stack.network_name(key),
                aliases=tuple(dict.fromkeys([service.name, *attach.aliases, *linked])),
                ipv4_address=attach.ipv4_address,
                ipv6_address=attach.ipv6_address,
            )
        )

    mounts: list[MountConfig] = []
    volumes: list[str] = []
    binds: list[str] = []
    for m in service.volumes:
        entry: MountConfig = {"type": m.type, "target": m.target, "read_only": m.read_only}
        if m.type == "bind" and m.source:
            entry["source"] = host_path(stack, m.source)
            if m.create_host_path:
                binds.append(host_path(stack, m.source))
            else:
                entry["create_host_path"] = False  # a missing source is an error, not a new dir
        elif m.type == "volume" and m.source:
            entry["source"] = stack.volume_name(m.source) if m.source in stack.volumes else m.source
            volumes.append(entry["source"])
            if m.nocopy:
                entry["nocopy"] = True
            if m.subpath:
                entry["subpath"] = m.subpath
        elif m.type == "tmpfs":
            if m.tmpfs_size:
                entry["tmpfs_size"] = units.parse_size(m.tmpfs_size)
            if m.tmpfs_mode is not None:
                entry["tmpfs_mode"] = m.tmpfs_mode
        if m.propagation:
            entry["propagation"] = m.propagation
        if m.selinux:
            entry["selinux"] = m.selinux
        mounts.append(entry)
    for secret in service.secrets:  # file secrets: bind-mounted read-only, as Compose does
        src = stack.secrets.get(secret.source)
        if src is not None and src.file:
            mounts.append(
                {
                    "type": "bind",
                    "source": host_path(stack, src.file),
                    "target": secret_target(secret.source, secret.target),
                    "read_only": True,
                }
            )

    for config in service.configs:  # file configs: bind-mounted read-only, as Compose does
        cfg = stack.configs.get(config.source)
        if cfg is not None and cfg.file:
            mounts.append(
                {
                    "type": "bind",
                    "source": host_path(stack, cfg.file),
                    "target": config.path,
                    "read_only": True,
                    "create_host_path": False,  # a missing file fails, never becomes a dir
                }
            )

    raw: ContainerConfig = {
        **process_config(service, stack.image_name(service)),
        "env": env.canonical(),
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
        "restart": service.restart,
        "resources": _resources(service),
        "privileged": service.privileged,
        "devices": list(service.devices),
        "device_requests": _device_requests(service),
        "security_opt": list(service.security_opt),
        "shm_size": units.parse_size(service.shm_size) if service.shm_size else None,
        "files": {
            **config_files(
                stack, (m["source"] for m in mounts if m["type"] == "bind"), secrets.digest
            ),
            **copied,
        },
        "network_mode": service.network_mode,
        "ulimits": [
            {"name": name, "soft": u.soft, "hard": u.hard}
            for name, u in sorted(service.ulimits.items())
        ],
        "runtime": service.runtime,
        "platform": service.platform,
        "oom_score_adj": service.oom_score_adj,
        "group_add": list(service.group_add),
        "ipc": service.ipc,
        "pid": service.pid,
        "userns_mode": service.userns_mode,
        "cgroup_parent": service.cgroup_parent,
        "storage_opt": dict(sorted(service.storage_opt.items())),
        "domainname": service.domainname,
    }
    # A secret's value can also sit inside a command, a label or a URL in another variable,
    # of this service or of another one: the stack's whole set is used.
    final = finalize(raw, secrets, env.sensitive)
    oneshot = service.restart == "no"
    labels = {
        **secrets.data(dict(service.labels)),
        LABEL_STACK: stack.name,
        LABEL_SERVICE: service.name,
        LABEL_NUMBER: str(number),
        LABEL_HASH: final.hash,
        LABEL_CONFIG: final.json,
    }
    if oneshot:
        labels[LABEL_ONESHOT] = "true"
    update = service.deploy.update_config if service.deploy else None
    owners = (shared_service(m) for m in (service.network_mode, service.ipc, service.pid))
    fields = unit_fields(stack, service, final, env)
    # As Compose: links and service:X modes start the service after X has started.
    implied = {s: Condition.STARTED for s in service.implied_dependencies if s in stack.services}
    fields["depends_on"] = {**implied, **fields["depends_on"]}
    return DesiredContainer(
        **fields,
        update_order=(update.order if update and update.order else "stop-first"),
        failure_action=(update.failure_action if update and update.failure_action else "rollback"),
        runs_alone=_runs_alone(service, networks),
        number=number,
        name=name,
        spec=final.real,
        networks=tuple(networks),
        oneshot=oneshot,
        volumes=tuple(dict.fromkeys(volumes)),
        bind_sources=tuple(dict.fromkeys(binds)),
        pull_policy=service.pull_policy,
        labels=labels,
        network_mode=_shared_mode(stack, service.network_mode),
        namespace_owners=tuple(dict.fromkeys(o for o in owners if o and o in stack.services)),
        ipc=_shared_mode(stack, service.ipc),
        pid=_shared_mode(stack, service.pid),
        copies=tuple(copies),
    )


def _runs_alone(service: Service, networks: Sequence[ContainerNetwork]) -> str:
    """Why two containers of ``service`` cannot run at once on one host ("" if they can):
    a fixed name, a published host port or a static address would be held by the old."""
    if service.container_name:
        return f"container_name is set ({service.container_name})"
    if service.network_mode and service.network_mode not in ("bridge", "none"):
        return f"shares a network namespace (network_mode: {service.network_mode}): the old "
        "would hold its ports"
    published = [p for p in service.ports if p.published is not None]
    if published:
        return f"publishes host port {published[0].published}"
    for n in networks:
        if n.ipv4_address or n.ipv6_address:
            return f"has a static address on {n.name}"
    return ""


# --------------------------------------------------------------------------- builds


def _build(
    stack: Stack, service: Service, problems: list[Diagnostic], secrets: Secrets
) -> DesiredBuild | None:
    """The image ``service`` builds, with the digests of its parts; None (and a problem)
    when its context or Dockerfile cannot be read."""
    build = service.build
    assert build is not None
    where = f"services.{service.name}.build"

    def problem(message: str, hint: str, sub: str = "context") -> None:
        problems.append(
            Diagnostic(
                "error",
                message,
                file=str(stack.origin) if stack.origin else None,
                line=stack.line_of(f"{where}.{sub}") or stack.line_of(where),
                path=f"{where}.{sub}",
                hint=hint,
                code="build-context",
            )
        )

    if build.remote:
        return _remote_build(stack, service, secrets)
    context = Path(host_path(stack, build.context))
    if context.resolve() == Path("/") or context.resolve().parts[1:2] in (
        ("proc",),
        ("sys",),
        ("dev",),
    ):
        problem(
            f"build context {build.context!r} of service {service.name!r} is {context}: "
            "a build would send the whole of it to the daemon",
            "give the folder that holds the Dockerfile and what it copies",
        )
        return None
    if not context.is_dir():
        problem(
            f"build context {build.context!r} of service {service.name!r} is not a folder "
            f"({context})",
            "create it, or fix the path (relative to the stack's folder)",
        )
        return None
    text: str | None = build.dockerfile_inline
    name = build.dockerfile or "Dockerfile"
    if text is None:
        path = Path(name) if Path(name).is_absolute() else context / name
        try:
            inside = os.path.relpath(path, context)
            data = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
            problem(
                f"cannot read the Dockerfile {name!r} of service {service.name!r} ({why})",
                "create it, or set `dockerfile:` (a path relative to the build context)",
                "dockerfile" if build.dockerfile else "context",
            )
            return None
        if inside.startswith(".."):
            text = data  # outside the context: sent inside the tar, as the SDK does
            name = ".stackctl.Dockerfile"
        else:
            name = inside
    else:
        name = ".stackctl.Dockerfile"
        data = text

    from stackctl.engine.build_context import context_digest  # the SDK's .dockerignore rules

    args = _build_args(build)
    options = _build_options(build, name if text is None else None)
    try:
        context_part = context_digest(context, name)
    except OSError as e:
        problem(
            f"cannot read the build context {build.context!r} of service {service.name!r}: "
            f"{e.strerror or e} ({e.filename})",
            "make its files readable, or exclude them in .dockerignore",
        )
        return None
    digests = {
        "context": context_part,
        "dockerfile": sha256(data),
        # keyed: a build argument may be a secret (and a reader of the label has no key)
        "args": secrets.digest(canonical_json(dict(sorted(args.items())))),
        "options": sha256(canonical_json(options)),
    }
    return _desired_build(
        stack, service, secrets, args, digests, context=str(context), dockerfile=name, text=text
    )


def _remote_build(stack: Stack, service: Service, secrets: Secrets) -> DesiredBuild:
    """A build from a remote context (a Git or HTTP(S) URL the daemon fetches): nothing
    local to read, so its identity is the URL, the Dockerfile's path in it, the arguments
    and the options (core/build.py says when it is built again)."""
    build = service.build
    assert build is not None
    name = build.dockerfile or "Dockerfile"
    credential = url_credential(build.context)
    if credential is not None:
        remember(credential)  # the daemon's own errors may quote the URL
    args = _build_args(build)
    digests = {
        "context": secrets.digest(build.context),  # keyed: the URL may hold a token
        "dockerfile": sha256(name),
        "args": secrets.digest(canonical_json(dict(sorted(args.items())))),
        "options": sha256(canonical_json(_build_options(build, name))),
    }
    return _desired_build(
        stack, service, secrets, args, digests, context="", dockerfile=name, remote=build.context
    )


def _build_args(build: Build) -> dict[str, str]:
    """The build arguments as the daemon gets them (a secret-looking one remembered, so
    that every output hides its value)."""
    args = {k: str(v) for k, v in build.args.items()}
    remember(*(v for k, v in args.items() if looks_secret(k)))
    return args


def _build_options(build: Build, dockerfile: str | None) -> dict[str, object]:
    """The options that shape the image (their digest is the build's ``options`` part)."""
    return {
        "target": build.target,
        "labels": dict(sorted(build.labels.items())),
        "network": build.network,
        "shm_size": build.shm_size,
        "extra_hosts": dict(sorted(build.extra_hosts.items())),
        "dockerfile": dockerfile,
    }


def _desired_build(
    stack: Stack,
    service: Service,
    secrets: Secrets,
    args: dict[str, str],
    digests: dict[str, str],
    *,
    context: str,
    dockerfile: str,
    text: str | None = None,
    remote: str | None = None,
) -> DesiredBuild:
    """The build with its labels: the digests, which a later plan compares."""
    build = service.build
    assert build is not None
    labels = {
        **secrets.data(dict(build.labels)),
        LABEL_STACK: stack.name,
        LABEL_BUILD: canonical_json(digests),
        LABEL_BUILD_HASH: build_hash(digests),
    }
    return DesiredBuild(
        image=stack.image_name(service),
        stack=stack.name,
        services=(service.name,),
        context=context,
        dockerfile=dockerfile,
        dockerfile_text=text,
        args=args,
        target=build.target,
        labels=labels,
        no_cache=build.no_cache,
        pull=build.pull,
        network=build.network,
        shm_size=units.parse_size(build.shm_size) if build.shm_size else None,
        extra_hosts=dict(build.extra_hosts),
        cache_from=tuple(build.cache_from),
        always=service.pull_policy == "build",
        digests=digests,
        remote=remote,
    )


def _builds(
    stacks: Sequence[Stack], problems: list[Diagnostic], secrets: dict[str, Secrets]
) -> tuple[DesiredBuild, ...]:
    """One build per image: services that build one image the same way share it; two
    different builds of one image are a problem."""
    out: dict[str, DesiredBuild] = {}
    for stack in stacks:
        for service in stack.services.values():
            if service.build is None:
                continue
            build = _build(stack, service, problems, secrets[stack.name])
            if build is None:
                continue
            seen = out.get(build.image)
            if seen is None:
                out[build.image] = build
            elif seen.digest == build.digest and seen.stack == build.stack:
                out[build.image] = replace(seen, services=(*seen.services, service.name))
            else:
                problems.append(
                    Diagnostic(
                        "error",
                        f"image {build.image!r} is built by service {service.name!r} of stack "
                        f"{stack.name!r} and, differently, by service {seen.services[0]!r} of "
                        f"stack {seen.stack!r}",
                        file=str(stack.origin) if stack.origin else None,
                        line=stack.line_of(f"services.{service.name}.build"),
                        path=f"services.{service.name}.image",
                        hint="give one of them another `image:` name",
                        code="build-image-twice",
                    )
                )
    return tuple(out.values())


# --------------------------------------------------------------------------- state


def desire(stacks: Sequence[Stack]) -> DesiredState:
    """The desired state of all ``stacks`` together (they are planned as one)."""
    problems: list[Diagnostic] = []
    resources = stack_resources(stacks, bridge_network)
    secrets = {stack.name: stack_secrets(stack) for stack in stacks}
    links = {stack.name: _link_aliases(stack) for stack in stacks}
    texts = {stack.name: config_texts(stack, problems) for stack in stacks}
    containers = [
        _container(
            stack,
            service,
            number,
            name,
            problems,
            secrets[stack.name],
            links[stack.name],
            texts[stack.name],
        )
        for stack in stacks
        for service in stack.services.values()
        for number, name in enumerate(stack.container_names(service), start=1)
    ]
    builds = _builds(stacks, problems, secrets)
    if problems:
        raise InvalidStackError(problems)
    return DesiredState(
        **resources.fields(c.image for c in containers),
        containers=tuple(containers),
        builds=builds,
    )


def bridge_network(stack: Stack, key: str) -> DesiredNetwork:
    """A network on one host: ``bridge`` unless the stack names a driver."""
    return desired_network(stack, key, driver="bridge")
