"""A running container's config read back from the daemon, in the desired config's terms.

Adopting a container that docker compose made (``backends/docker/adopt.py``) means
comparing what it runs with what the stack wants, field by field, without a config label
to read: the container's inspect is turned into the shape of a desired container's config
(the fields below, :data:`COMPARED`), and so is the desired one, and both leave out what
the image gives by default (its Env, Cmd, Entrypoint, Healthcheck, User, WorkingDir,
StopSignal, Labels, VOLUMEs), what compose and stackctl label for themselves, and the
aliases the daemon adds (the container's short id). Everything here is pure: an inspect is
read once by ``observe``; the comparison is the planner's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stackctl.core.plan import Change, diff_config

# The fields compared, in the desired config's names.
COMPARED = (
    "image",
    "command",
    "entrypoint",
    "env",
    "mounts",
    "networks",
    "network_mode",
    "ports",
    "healthcheck",
    "restart",
    "resources",
    "labels",
    "user",
    "working_dir",
    "init",
    "privileged",
    "stop_signal",
    "cap_add",
    "cap_drop",
    "read_only",
    "extra_hosts",
    "dns",
    "dns_search",
    "sysctls",
    "security_opt",
    "tty",
    "stdin_open",
)

# Labels that say who made a container, not how it runs: never compared.
OWN_LABEL_PREFIXES = ("com.docker.compose.", "io.stackctl.")

# HostConfig field -> the desired config's ``resources`` key (0 or less: no limit).
RESOURCES = (
    ("NanoCpus", "nano_cpus"),
    ("Memory", "memory"),
    ("MemoryReservation", "memory_reservation"),
    ("PidsLimit", "pids_limit"),
    ("MemorySwap", "memory_swap"),
    ("CpuShares", "cpu_shares"),
    ("CpuQuota", "cpu_quota"),
    ("CpuPeriod", "cpu_period"),
)

_HEALTH = (
    ("Test", "test"),
    ("Interval", "interval"),
    ("Timeout", "timeout"),
    ("StartPeriod", "start_period"),
    ("StartInterval", "start_interval"),
    ("Retries", "retries"),
)


def image_ref(ref: str) -> str:
    """``busybox`` and ``docker.io/library/busybox:latest`` alike: ``busybox:latest``."""
    ref = ref.removeprefix("docker.io/").removeprefix("library/")
    if "@" in ref:
        return ref
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else f"{ref}:latest"


def _env(entries: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries or []:
        key, _, value = str(entry).partition("=")
        out[key] = value
    return out


def _health(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    out: dict[str, Any] = {}
    for field, key in _HEALTH:
        value = raw.get(field)
        if value:  # the daemon's zero is "not set"
            out[key] = list(value) if key == "test" else int(value)
    return out or None


def _caps(names: Sequence[str] | None) -> list[str]:
    """Capabilities as a sorted set without the ``CAP_`` prefix (the daemon may store
    either spelling)."""
    return sorted({str(n).upper().removeprefix("CAP_") for n in names or []})


def _extra_hosts(entries: Sequence[str] | None) -> dict[str, str]:
    """``host:ip`` or ``host=ip`` (the daemon keeps what the client wrote) as host -> ip."""
    out: dict[str, str] = {}
    for entry in entries or []:
        text = str(entry)
        host, _, ip = text.partition("=") if "=" in text else text.partition(":")
        out[host] = ip
    return out


def _host_settings(
    cap_add: Sequence[str] | None,
    cap_drop: Sequence[str] | None,
    read_only: Any,
    extra_hosts: Mapping[str, str],
    dns: Sequence[str] | None,
    dns_search: Sequence[str] | None,
    sysctls: Mapping[str, Any] | None,
    security_opt: Sequence[str] | None,
    tty: Any,
    stdin_open: Any,
) -> dict[str, Any]:
    """The host settings both sides compare, each in one canonical form."""
    return {
        "cap_add": _caps(cap_add),
        "cap_drop": _caps(cap_drop),
        "read_only": bool(read_only),
        "extra_hosts": dict(sorted(extra_hosts.items())),
        "dns": [str(d) for d in dns or []],
        "dns_search": [str(d) for d in dns_search or []],
        "sysctls": {str(k): str(v) for k, v in sorted((sysctls or {}).items())},
        "security_opt": sorted(str(o) for o in security_opt or []),
        "tty": bool(tty),
        "stdin_open": bool(stdin_open),
    }


def read_image(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What an image gives a container that does not say otherwise (its inspect's Config)."""
    config = raw.get("Config") or {}
    return {
        "command": list(config.get("Cmd") or []) or None,
        "entrypoint": list(config.get("Entrypoint") or []) or None,
        "env": _env(config.get("Env")),
        "healthcheck": _health(config.get("Healthcheck")),
        "user": config.get("User") or None,
        "working_dir": config.get("WorkingDir") or None,
        "stop_signal": config.get("StopSignal") or None,
        "labels": dict(config.get("Labels") or {}),
        "volumes": sorted((config.get("Volumes") or {}).keys()),
    }


def read_container(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A container's inspect in the desired config's terms (the :data:`COMPARED` fields),
    image defaults still in: :func:`comparable` takes them out."""
    config = raw.get("Config") or {}
    host = raw.get("HostConfig") or {}
    short_id = str(raw.get("Id") or "")[:12]
    policy = host.get("RestartPolicy") or {}
    restart = str(policy.get("Name") or "no")
    if restart == "on-failure" and policy.get("MaximumRetryCount"):
        restart = f"on-failure:{policy['MaximumRetryCount']}"
    mounts: list[dict[str, Any]] = []
    for m in raw.get("Mounts") or []:
        kind = str(m.get("Type") or "")
        entry: dict[str, Any] = {"type": kind, "target": str(m.get("Destination") or "")}
        if kind == "volume" and m.get("Name"):
            entry["source"] = str(m["Name"])
        elif kind == "bind":
            entry["source"] = str(m.get("Source") or "")
        entry["read_only"] = not m.get("RW", True)
        mounts.append(entry)
    for target in host.get("Tmpfs") or {}:
        mounts.append({"type": "tmpfs", "target": str(target), "read_only": False})
    networks: dict[str, Any] = {}
    for name, net in ((raw.get("NetworkSettings") or {}).get("Networks") or {}).items():
        net = net or {}
        ipam = net.get("IPAMConfig") or {}
        aliases = [a for a in net.get("Aliases") or [] if a != short_id]
        networks[name] = {
            "aliases": sorted(set(aliases)),
            "ipv4_address": ipam.get("IPv4Address") or None,
            "ipv6_address": ipam.get("IPv6Address") or None,
        }
    ports: list[dict[str, Any]] = []
    for key, bindings in sorted((host.get("PortBindings") or {}).items()):
        target, _, protocol = str(key).partition("/")
        for b in bindings or [{}]:
            ports.append(
                {
                    "target": int(target),
                    "published": str(b.get("HostPort") or "") or None,
                    "host_ip": b.get("HostIp") or None,
                    "protocol": protocol or "tcp",
                }
            )
    mode = str(host.get("NetworkMode") or "")
    return {
        "image": image_ref(str(config.get("Image") or "")),
        "command": list(config.get("Cmd") or []) or None,
        "entrypoint": list(config.get("Entrypoint") or []) or None,
        "env": _env(config.get("Env")),
        "mounts": mounts,
        "networks": networks,
        "network_mode": mode if mode in ("host", "none") or mode.startswith("container:") else None,
        "ports": ports,
        "healthcheck": _health(config.get("Healthcheck")),
        "restart": restart,
        "resources": {
            key: host[field]
            for field, key in RESOURCES
            if isinstance(host.get(field), int) and host[field] > 0
        },
        "labels": dict(config.get("Labels") or {}),
        "user": config.get("User") or None,
        "working_dir": config.get("WorkingDir") or None,
        "init": bool(host.get("Init")),
        "privileged": bool(host.get("Privileged")),
        "stop_signal": config.get("StopSignal") or None,
        **_host_settings(
            host.get("CapAdd"),
            host.get("CapDrop"),
            host.get("ReadonlyRootfs"),
            _extra_hosts(host.get("ExtraHosts")),
            host.get("Dns"),
            host.get("DnsSearch"),
            host.get("Sysctls"),
            host.get("SecurityOpt"),
            config.get("Tty"),
            config.get("OpenStdin"),
        ),
    }


def wanted(spec: Mapping[str, Any], env: Mapping[str, str], image: str) -> dict[str, Any]:
    """A desired container's config (``spec``: real values; ``env``: its environment) in
    the same terms as :func:`read_container`."""
    mounts: list[dict[str, Any]] = []
    for m in spec.get("mounts") or []:
        entry: dict[str, Any] = {"type": m["type"], "target": m["target"]}
        if m.get("source") and m["type"] in ("volume", "bind"):
            entry["source"] = m["source"]
        entry["read_only"] = bool(m.get("read_only"))
        mounts.append(entry)
    networks = {
        name: {
            "aliases": sorted(set(att.get("aliases") or [])),
            "ipv4_address": att.get("ipv4_address") or None,
            "ipv6_address": att.get("ipv6_address") or None,
        }
        for name, att in (spec.get("networks") or {}).items()
    }
    ports = [
        {
            "target": int(p["target"]),
            "published": None if p.get("published") is None else str(p["published"]),
            "host_ip": p.get("host_ip") or None,
            "protocol": p.get("protocol") or "tcp",
        }
        for p in spec.get("ports") or []
    ]
    mode = spec.get("network_mode")
    return {
        "image": image_ref(image),
        "command": list(spec.get("command") or []) or None,
        "entrypoint": list(spec.get("entrypoint") or []) or None,
        "env": dict(env),
        "mounts": mounts,
        "networks": networks,
        "network_mode": mode if mode in ("host", "none") else None,
        "ports": ports,
        "healthcheck": dict(spec["healthcheck"]) if spec.get("healthcheck") else None,
        "restart": str(spec.get("restart") or "no"),
        "resources": dict(spec.get("resources") or {}),
        "labels": dict(spec.get("labels") or {}),
        "user": spec.get("user") or None,
        "working_dir": spec.get("working_dir") or None,
        "init": bool(spec.get("init")),
        "privileged": bool(spec.get("privileged")),
        "stop_signal": spec.get("stop_signal") or None,
        **_host_settings(
            spec.get("cap_add"),
            spec.get("cap_drop"),
            spec.get("read_only"),
            dict(spec.get("extra_hosts") or {}),
            spec.get("dns"),
            spec.get("dns_search"),
            spec.get("sysctls"),
            spec.get("security_opt"),
            spec.get("tty"),
            spec.get("stdin_open"),
        ),
    }


def comparable(
    config: Mapping[str, Any], image: Mapping[str, Any] | None, anonymous: Sequence[str] = ()
) -> dict[str, Any]:
    """``config`` (either side) without what the image gives by default, nor labels of
    who made it, in a canonical order. ``image``: :func:`read_image` of the image it runs
    (None when unknown: nothing is taken out); ``anonymous``: the targets where the stack
    wants an anonymous volume (the image's own VOLUMEs are dropped elsewhere)."""
    img = image or {}
    out = dict(config)
    for key in ("command", "entrypoint", "healthcheck", "user", "working_dir", "stop_signal"):
        if image is not None and out.get(key) == img.get(key):
            out[key] = None
    image_env = img.get("env") or {}
    out["env"] = {k: v for k, v in (out.get("env") or {}).items() if image_env.get(k) != v}
    image_labels = img.get("labels") or {}
    out["labels"] = {
        k: v
        for k, v in (out.get("labels") or {}).items()
        if not k.startswith(OWN_LABEL_PREFIXES) and image_labels.get(k) != v
    }
    image_volumes = set(img.get("volumes") or [])
    mounts = []
    for m in out.get("mounts") or []:
        named = m.get("source")
        if m["type"] == "volume" and named and _anonymous(named):
            if m["target"] in image_volumes and m["target"] not in anonymous:
                continue  # the image's VOLUME: not the stack's to say
            m = {k: v for k, v in m.items() if k != "source"}
        mounts.append(m)
    out["mounts"] = sorted(mounts, key=lambda m: (m["target"], m["type"]))
    out["ports"] = sorted(
        out.get("ports") or [],
        key=lambda p: (p["target"], p["protocol"], p["host_ip"] or "", p["published"] or ""),
    )
    return out


def _anonymous(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def differences(
    running: Mapping[str, Any],
    desired: Mapping[str, Any],
    image: Mapping[str, Any] | None,
    *,
    anonymous: Sequence[str] = (),
    sensitive: Sequence[str] = (),
) -> tuple[Change, ...]:
    """The fields where the running container (:func:`read_container`) and the desired
    one (:func:`wanted`) differ, once image defaults are out: the plan's field changes
    (``env.FOO``, ``ports[0].published``); () when they match."""
    old = comparable(running, image, anonymous)
    new = comparable(desired, image, anonymous)
    return diff_config(
        {k: old.get(k) for k in COMPARED}, {k: new.get(k) for k in COMPARED}, sensitive
    )
