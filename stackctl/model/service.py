"""A service and its parts: ports, mounts, health check, dependencies, deploy, secrets."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from stackctl import units
from stackctl.core.redact import remember
from stackctl.model.build import Build, build_form
from stackctl.model.fields import (
    Command,
    Duration,
    ImageRef,
    Scalar,
    Size,
    StrList,
    StrMap,
    _check_restart,
    _extra_hosts,
    _Model,
    _restart,
)
from stackctl.model.network import ConfigSource, Network, SecretSource, Volume

if TYPE_CHECKING:
    from typing import TypeAlias

    from stackctl.model.fields import (
        _CommandIn,
        _DurationIn,
        _MappingIn,
        _ScalarIn,
        _SizeIn,
        _StrListIn,
        _StrMapIn,
    )


# --------------------------------------------------------------------------- secrets


class Secret(_Model):
    """A value that must never be shown: in plans, JSON, labels, progress or logs.

    ``Secret("hunter2")`` or ``Secret.env("POSTGRES_PASSWORD")`` (read when the stack loads).
    Its config-hash contribution is a hash of the value, never the value.
    """

    value: str = Field(repr=False)

    @field_validator("value")
    @classmethod
    def _remembered(cls, value: str) -> str:
        remember(value)  # hidden from everything this run prints (core/redact.py)
        return value

    if TYPE_CHECKING:

        def __init__(self, value: str) -> None: ...

    else:

        def __init__(self, value: str | None = None, /, **data: Any) -> None:
            if value is not None:
                data["value"] = value
            super().__init__(**data)

    @classmethod
    def env(cls, name: str, default: str | None = None) -> Secret:
        import os

        if name in os.environ:
            return cls(os.environ[name])
        if default is not None:
            return cls(default)
        raise ValueError(f"secret variable {name} is not set; export it or put it in .env")

    def __str__(self) -> str:
        return "(sensitive value)"


EnvValue = Scalar | Secret


def _environment(value: Any) -> Any:
    """Map or list form; ``KEY`` alone (no ``=``) takes the value from the process environment."""
    import os

    if value is None:
        return {}
    if isinstance(value, list | tuple):
        out: dict[str, Any] = {}
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"expected 'KEY=VALUE' strings, got {item!r}")
            key, sep, val = item.partition("=")
            if sep:
                out[key] = val
            elif key in os.environ:
                out[key] = os.environ[key]
        return out
    if isinstance(value, Mapping):
        return {
            k: (os.environ.get(k, "") if v is None else v)
            for k, v in value.items()
            if v is not None or k in os.environ
        }
    return value


Environment = Annotated[dict[str, EnvValue], BeforeValidator(_environment)]


# --------------------------------------------------------------------------- health


class Healthcheck(_Model):
    """How Docker decides a container is healthy.

    ``test`` is ``["CMD", ...]``, ``["CMD-SHELL", "..."]`` or ``["NONE"]``; a plain string
    means CMD-SHELL. ``disable=True`` (or test NONE) turns off the image's own check.
    """

    test: list[str] | None = None
    interval: Duration | None = None
    timeout: Duration | None = None
    retries: int | None = Field(default=None, ge=0)
    start_period: Duration | None = None
    start_interval: Duration | None = None
    disable: bool = False

    @field_validator("test", mode="before")
    @classmethod
    def _test_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            return ["CMD-SHELL", value]
        return value

    @field_validator("test")
    @classmethod
    def _test_kind(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if not value or value[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise ValueError("test must start with CMD, CMD-SHELL or NONE (or be a string)")
        if value[0] in ("CMD", "CMD-SHELL") and len(value) < 2:
            raise ValueError(f"{value[0]} needs a command after it")
        return value

    @classmethod
    def shell(cls, command: str, **options: Any) -> Healthcheck:
        """A check run by the container's shell: ``Healthcheck.shell("pg_isready")``."""
        return cls(test=["CMD-SHELL", command], **options)

    @classmethod
    def cmd(cls, *argv: str, **options: Any) -> Healthcheck:
        """A check run without a shell: ``Healthcheck.cmd("curl", "-f", "http://localhost")``."""
        return cls(test=["CMD", *argv], **options)

    @classmethod
    def none(cls) -> Healthcheck:
        """Disable the image's own health check."""
        return cls(disable=True)

    @property
    def disabled(self) -> bool:
        return self.disable or (self.test is not None and self.test[0] == "NONE")


# --------------------------------------------------------------------------- dependencies


class Condition(StrEnum):
    STARTED = "service_started"
    HEALTHY = "service_healthy"
    COMPLETED = "service_completed_successfully"

    @property
    def short(self) -> str:
        """The typed stack's helper name (``started``, ``healthy``, ``completed``)."""
        return self.value.removeprefix("service_").removesuffix("_successfully")

    @property
    def verb(self) -> str:
        """What the dependency must be, in plans and wait messages (``running``,
        ``healthy``, ``completed successfully``)."""
        return {"service_started": "running", "service_healthy": "healthy"}.get(
            self.value, "completed successfully"
        )


started = Condition.STARTED
healthy = Condition.HEALTHY
completed = Condition.COMPLETED


class Dependency(_Model):
    """``depends_on`` entry: wait for ``condition`` before starting the dependent."""

    condition: Condition = Condition.STARTED
    required: bool = True
    restart: bool = False


# --------------------------------------------------------------------------- ports


_PORT_PART = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")
_PORT_FORMS = (
    "use 'TARGET', 'HOST:TARGET', 'IP:HOST:TARGET' or '[IPv6]:HOST:TARGET', each with an "
    "optional '/tcp', '/udp' or '/sctp'"
)


class Port(_Model):
    """A published port: container ``target``, host ``published`` (None: any free port)."""

    target: int = Field(ge=1, le=65535)
    published: int | None = Field(default=None, ge=0, le=65535)
    host_ip: str | None = None
    protocol: Literal["tcp", "udp", "sctp"] = "tcp"
    mode: Literal["ingress", "host"] | None = None

    @field_validator("published", mode="before")
    @classmethod
    def _published(cls, value: Any) -> Any:
        if isinstance(value, str) and value.isdigit():
            return int(value)
        if value == "":
            return None
        return value

    @field_validator("host_ip", mode="before")
    @classmethod
    def _host_ip(cls, value: Any) -> Any:
        """An IP address (IPv6 with or without brackets), as Docker's HostIp must be."""
        if value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return str(ipaddress.ip_address(value.strip().removeprefix("[").removesuffix("]")))
        except ValueError:
            raise ValueError("host_ip must be an IP address (e.g. 127.0.0.1 or ::1)") from None


def _host_ip(text: str, spec: str) -> str:
    """The host address of a short port spec, as Docker reads it: an IPv4 address or a
    bracketed IPv6 one (``[::1]``). An unbracketed IPv6 address is refused: its colons
    cannot be told from the port separators by eye (Docker would take ``::1:80:80`` as
    ``[::1]:80:80``, and ``8080:80:90`` as host address ``8080``, which it then refuses)."""
    bracketed = text.startswith("[") and text.endswith("]")
    inner = text[1:-1] if bracketed else text
    try:
        ip = ipaddress.ip_address(inner)
    except ValueError:
        raise ValueError(
            f"malformed port {spec!r}: {text!r} is not a host IP address; {_PORT_FORMS}"
        ) from None
    if ip.version == 6 and not bracketed:
        raise ValueError(
            f"malformed port {spec!r}: write the IPv6 host address in brackets ('[{inner}]:...')"
        )
    if ip.version == 4 and bracketed:
        raise ValueError(f"malformed port {spec!r}: brackets are for IPv6 addresses only")
    return str(ip)


def _port_range(text: str, spec: str, *, low: int) -> range:
    """``8080`` or ``8000-8010``: every number between ``low`` and 65535, the range in order."""
    m = _PORT_PART.match(text)
    if not m:
        raise ValueError(f"malformed port {spec!r}: {text!r} is not a port or a port range")
    a = int(m.group(1))
    b = int(m.group(2) or a)
    if not low <= a <= 65535 or not low <= b <= 65535:
        raise ValueError(f"port {text!r} in {spec!r} is out of range ({low}-65535)")
    if b < a:
        raise ValueError(f"malformed port range {text!r} in {spec!r}")
    return range(a, b + 1)


def parse_port_short(spec: str) -> list[dict[str, Any]]:
    """Docker's (and Compose's) short port syntax, split as ``nat.ParsePortSpec`` does: the
    last ``:`` part is the container port (with ``/proto``), the one before it the host
    port, everything before that the host address. Ranges are checked before they are
    expanded, so no spec can ask for more than 65535 entries."""
    if len(spec) > 128:  # the longest real spec is ~75 characters
        raise ValueError(f"malformed port {spec[:40]!r}...: too long; {_PORT_FORMS}")
    text = spec.strip()
    body, slash, proto = text.partition("/")
    if slash and proto not in ("tcp", "udp", "sctp"):
        raise ValueError(f"malformed port {spec!r}: the protocol must be tcp, udp or sctp")
    parts = body.split(":")
    target_text = parts[-1]
    published_text = parts[-2] if len(parts) >= 2 else None
    ip_text = ":".join(parts[:-2]) if len(parts) >= 3 else None
    if not target_text:
        raise ValueError(f"malformed port {spec!r}: no container port; {_PORT_FORMS}")
    ip = _host_ip(ip_text, spec) if ip_text else None
    targets = _port_range(target_text, spec, low=1)
    published = _port_range(published_text, spec, low=0) if published_text else None
    if published is not None and len(published) != len(targets):
        if len(targets) == 1:  # "8000-8010:80": any host port of the range; take the first
            published = published[:1]
        else:
            raise ValueError(f"port ranges of different lengths in {spec!r}")
    out: list[dict[str, Any]] = []
    for i, target in enumerate(targets):
        entry: dict[str, Any] = {"target": target, "protocol": proto or "tcp"}
        if published is not None:
            entry["published"] = published[i]
        if ip:
            entry["host_ip"] = ip
        out.append(entry)
    return out


def _ports(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        return value
    out: list[Any] = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            out.append({"target": item})
        elif isinstance(item, str):
            out.extend(parse_port_short(item))
        elif isinstance(item, Mapping) and isinstance(item.get("published"), str):
            pub = item["published"]
            if "-" in pub:
                raise ValueError(f"published port range {pub!r} needs the short form")
            out.append(item)
        else:
            out.append(item)
    return out


Ports = Annotated[list[Port], BeforeValidator(_ports)]


# --------------------------------------------------------------------------- mounts


PROPAGATIONS = ("rprivate", "private", "rshared", "shared", "rslave", "slave")
Propagation = Literal["rprivate", "private", "rshared", "shared", "rslave", "slave"]


class Mount(_Model):
    """A bind mount, a named volume or a tmpfs at ``target``.

    Bind sources are paths, relative ones to the stack's folder (``./data``).
    Volume sources name a volume of the stack (or an external one).
    """

    type: Literal["bind", "volume", "tmpfs"]
    target: str
    source: str | None = None
    read_only: bool = False
    create_host_path: bool = True
    nocopy: bool = False
    tmpfs_size: Size | None = None
    propagation: Propagation | None = None  # bind.propagation / short form ``:rshared``
    selinux: Literal["z", "Z"] | None = None  # bind.selinux / short form ``:z``, ``:Z``
    subpath: str | None = None  # volume.subpath: a folder of the volume (Engine API 1.45+)
    tmpfs_mode: int | None = None  # tmpfs.mode: the tmpfs root's permission bits

    @field_validator("tmpfs_mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        # As compose-go: a number is taken as written, a string as Go reads it (``0o1777``
        # or ``01777``: octal; ``1777``: decimal): write ``0o1777`` for the usual octal.
        if isinstance(value, str):
            text = value.strip().lower()
            try:
                if text.startswith("0o"):
                    return int(text[2:], 8)
                if text.startswith("0") and len(text) > 1:
                    return int(text[1:], 8)
                return int(text)
            except ValueError:
                raise ValueError(
                    f"tmpfs mode {value!r} is not a number; write it as 0o1777"
                ) from None
        return value

    @field_validator("tmpfs_mode")
    @classmethod
    def _mode_range(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 0o7777:
            raise ValueError(f"tmpfs mode {value} is not a file mode (0 to 0o7777)")
        return value

    @field_validator("target")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"mount target {value!r} must be an absolute path in the container")
        return value

    @model_validator(mode="after")
    def _source_needed(self) -> Mount:
        if self.type == "bind" and not self.source:
            raise ValueError("a bind mount needs a source path")
        if self.type == "tmpfs" and self.source:
            raise ValueError("a tmpfs mount takes no source")
        if self.propagation and self.type != "bind":
            raise ValueError(f"propagation {self.propagation!r} applies to bind mounts only")
        if self.selinux and self.type == "tmpfs":
            raise ValueError("SELinux relabel (z, Z) applies to bind mounts and named volumes")
        if self.selinux and self.type == "bind" and not self.create_host_path:
            raise ValueError(
                "SELinux relabel (z, Z) cannot go with create_host_path: false (the Engine "
                "API relabels only through its Binds form, which creates a missing source)"
            )
        if self.subpath and self.type != "volume":
            raise ValueError("subpath applies to volume mounts only")
        if self.subpath and self.selinux:
            raise ValueError(
                "subpath cannot go with SELinux relabel (z, Z): no Engine API form has both"
            )
        if self.tmpfs_mode is not None and self.type != "tmpfs":
            raise ValueError("tmpfs mode applies to tmpfs mounts only")
        return self

    @classmethod
    def bind(cls, source: str, target: str, *, read_only: bool = False) -> Mount:
        return cls(type="bind", source=source, target=target, read_only=read_only)

    @classmethod
    def volume(cls, source: Volume | str, target: str, *, read_only: bool = False) -> Mount:
        name = source.key if isinstance(source, Volume) else source
        return cls(type="volume", source=name, target=target, read_only=read_only)

    @classmethod
    def tmpfs(cls, target: str, *, size: str | None = None) -> Mount:
        return cls(type="tmpfs", target=target, tmpfs_size=size)


def _is_path(source: str) -> bool:
    """compose-go's ``isFilePath``: a source starting with ``.``, ``/`` or ``~`` is a host
    path (``.env``, ``..``, ``./data``); anything else names a volume."""
    return source.startswith((".", "/", "~"))


def parse_mount_short(spec: str) -> dict[str, Any]:
    parts = spec.split(":")
    # Windows drive letters are not a concern on a Linux daemon.
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}  # anonymous volume
    if len(parts) > 3:
        raise ValueError(f"malformed volume {spec!r}; use 'SOURCE:TARGET[:ro|rw]'")
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    options = set(mode.split(",")) if mode else set()
    known = {"ro", "rw", "z", "Z", "nocopy", "cached", "delegated", "consistent", *PROPAGATIONS}
    unknown = options - known
    if unknown:
        raise ValueError(
            f"unknown volume option {sorted(unknown)[0]!r} in {spec!r}; use ro or rw, z or Z, "
            f"nocopy, or a propagation ({', '.join(PROPAGATIONS)})"
        )
    entry: dict[str, Any] = {
        "type": "bind" if _is_path(source) else "volume",
        "source": source,
        "target": target,
        "read_only": "ro" in options,
    }
    if "nocopy" in options:
        entry["nocopy"] = True
    for option in mode.split(","):  # as compose-go: the last one written wins
        if option in ("z", "Z"):
            entry["selinux"] = option
        elif option in PROPAGATIONS:
            entry["propagation"] = option
    return entry


def _long_mount(item: Mapping[str, Any]) -> dict[str, Any]:
    """Compose's long volume syntax -> Mount fields."""
    entry = {k: v for k, v in item.items() if k not in ("bind", "volume", "tmpfs", "consistency")}
    if isinstance(item.get("bind"), Mapping):
        bind = item["bind"]
        for key in ("create_host_path", "propagation", "selinux"):
            if key in bind:
                entry[key] = bind[key]
    if isinstance(item.get("volume"), Mapping):
        for key in ("nocopy", "subpath"):
            if key in item["volume"]:
                entry[key] = item["volume"][key]
    if isinstance(item.get("tmpfs"), Mapping):
        for key, field in (("size", "tmpfs_size"), ("mode", "tmpfs_mode")):
            if key in item["tmpfs"]:
                entry[field] = item["tmpfs"][key]
    if isinstance(entry.get("source"), Volume):
        entry["source"] = entry["source"].key
    return entry


def _mounts(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, Mapping):  # {"./data": "/data", pgdata: "/var/lib/postgresql/data"}
        items: list[Any] = []
        for source, target in value.items():
            if isinstance(source, Volume):
                items.append({"type": "volume", "source": source.key, "target": target})
            else:
                items.append(f"{source}:{target}")
        value = items
    if not isinstance(value, list | tuple):
        return value
    out: list[Any] = []
    for item in value:
        if isinstance(item, str):
            out.append(parse_mount_short(item))
        elif isinstance(item, Mapping) and not isinstance(item, Mount):
            out.append(_long_mount(item))
        else:
            out.append(item)
    return out


Mounts = Annotated[list[Mount], BeforeValidator(_mounts)]


# --------------------------------------------------------------------------- networks


class ServiceNetwork(_Model):
    """How one service joins one network."""

    aliases: list[str] = Field(default_factory=list)
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    priority: int | None = None


def _service_networks(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, list | tuple):
        return {(n.key if isinstance(n, Network) else n): {} for n in value}
    if isinstance(value, Mapping):
        return {
            (k.key if isinstance(k, Network) else k): ({} if v is None else v)
            for k, v in value.items()
        }
    return value


# --------------------------------------------------------------------------- secrets


class ServiceSecret(_Model):
    source: str
    target: str | None = None
    mode: int | None = None


def _service_secrets(value: Any) -> Any:
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            if isinstance(item, SecretSource):
                out.append({"source": item.key})
            elif isinstance(item, str):
                out.append({"source": item})
            else:
                out.append(item)
        return out
    return value


def _file_mode(value: Any) -> Any:
    """A file mode as Compose reads one: a string is octal (``"0440"``)."""
    if isinstance(value, str) and re.fullmatch(r"(0o?)?[0-7]+", value.strip()):
        return int(value.strip().removeprefix("0o"), 8)
    return value


class ServiceConfig(_Model):
    """A config the service sees at ``target`` (default ``/<source>``): a file config
    bind-mounted read-only, a ``content``/``environment`` one copied in before the start
    with ``mode`` (default 0444), ``uid`` and ``gid``."""

    source: str
    target: str | None = None
    mode: Annotated[int, BeforeValidator(_file_mode)] | None = None
    uid: str | None = None
    gid: str | None = None

    @property
    def path(self) -> str:
        """Where it appears in the container, as in Compose: ``/<source>`` by default."""
        return self.target or f"/{self.source}"


def _service_configs(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [
            {"source": item.key}
            if isinstance(item, ConfigSource)
            else {"source": item}
            if isinstance(item, str)
            else item
            for item in value
        ]
    return value


# --------------------------------------------------------------------------- deploy


class DeviceRequest(_Model):
    """Devices such as GPUs, asked of a device driver (the Engine's ``DeviceRequests``):
    Compose's ``deploy.resources.reservations.devices`` and ``gpus``.

    ``count`` (a number, or ``"all"``) and ``device_ids`` exclude each other; with
    neither, every matching device is requested, as in Compose.
    """

    capabilities: StrList = Field(default_factory=list)
    driver: str | None = None
    count: int | Literal["all"] | None = None
    device_ids: StrList = Field(default_factory=list)
    options: StrMap = Field(default_factory=dict)

    @field_validator("count", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().lower() == "all":
                return "all"
            try:
                return int(value)
            except ValueError as e:
                raise ValueError(f"count takes a number or 'all', got {value!r}") from e
        if value == -1 and not isinstance(value, bool):
            return "all"  # the Engine API's spelling
        return value

    @field_validator("count")
    @classmethod
    def _positive(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and value < 0:
            raise ValueError(f"count takes a number of devices or 'all', got {value}")
        return value

    @model_validator(mode="after")
    def _count_or_ids(self) -> DeviceRequest:
        if self.count is not None and self.device_ids:
            raise ValueError(
                "count and device_ids exclude each other: request a number of devices, or "
                "the devices by id"
            )
        return self

    @property
    def engine_count(self) -> int:
        """The Engine API's ``Count``: -1 for all (also when neither count nor ids is set)."""
        count = self.count
        if isinstance(count, int):
            return count
        return 0 if count is None and self.device_ids else -1


def _gpus(value: Any) -> Any:
    """Compose's ``gpus: all``: one request for every GPU."""
    if isinstance(value, str):
        if value.strip().lower() != "all":
            raise ValueError(f"gpus takes 'all' or a list of device requests, got {value!r}")
        return [{"count": "all"}]
    return value


class ResourceSpec(_Model):
    cpus: float | None = Field(default=None, gt=0)
    memory: Size | None = None
    pids: int | None = None
    devices: list[DeviceRequest] = Field(default_factory=list)  # reservations only

    @field_validator("cpus", mode="before")
    @classmethod
    def _cpus(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError as e:
                raise ValueError(f"cpus must be a number such as '0.5', got {value!r}") from e
        return value


class Resources(_Model):
    limits: ResourceSpec | None = None
    reservations: ResourceSpec | None = None

    @model_validator(mode="after")
    def _devices_are_reserved(self) -> Resources:
        if self.limits is not None and self.limits.devices:
            raise ValueError(
                "limits.devices: devices are reserved, not limited: move them under "
                "deploy.resources.reservations.devices"
            )
        return self


class RestartPolicy(_Model):
    condition: Literal["none", "on-failure", "any"] | None = None
    delay: Duration | None = None
    max_attempts: int | None = None
    window: Duration | None = None


class UpdateConfig(_Model):
    parallelism: int | None = None
    delay: Duration | None = None
    failure_action: Literal["continue", "rollback", "pause"] | None = None
    monitor: Duration | None = None
    max_failure_ratio: float | None = None
    order: Literal["stop-first", "start-first"] | None = None


class Placement(_Model):
    constraints: list[str] = Field(default_factory=list)
    preferences: list[dict[str, str]] = Field(default_factory=list)
    max_replicas_per_node: int | None = None


class Deploy(_Model):
    """Compose's ``deploy``: resources on one host; the rest matters on Swarm."""

    mode: Literal["replicated", "global"] | None = None
    replicas: int | None = Field(default=None, ge=0)
    resources: Resources | None = None
    restart_policy: RestartPolicy | None = None
    placement: Placement | None = None
    update_config: UpdateConfig | None = None
    rollback_config: UpdateConfig | None = None
    endpoint_mode: Literal["vip", "dnsrr"] | None = None
    labels: StrMap = Field(default_factory=dict)


class Logging(_Model):
    driver: str | None = None
    options: StrMap = Field(default_factory=dict)


class Acknowledge(_Model):
    """A validation warning accepted on purpose: the rule's id and why, shown by validate.

    ``Acknowledge("docker-socket", reason="Traefik routes by container labels")``. Only
    warnings can be acknowledged; one that no longer matches a finding is reported.
    """

    rule: str = Field(min_length=1)
    reason: str = Field(min_length=1, pattern=r"\S")

    if TYPE_CHECKING:

        def __init__(self, rule: str, *, reason: str) -> None: ...

    else:

        def __init__(self, rule: str | None = None, /, **data: Any) -> None:
            if rule is not None:
                data["rule"] = rule
            super().__init__(**data)


# --------------------------------------------------------------------------- host settings


_NAMESPACE_MODE = re.compile(r"^(host|none|bridge|container:.+|service:.+)$")


def _check_network_mode(value: str) -> str:
    if not _NAMESPACE_MODE.match(value):
        raise ValueError(
            f"network_mode {value!r} is not one of host, none, bridge, container:NAME, service:NAME"
        )
    return value


NetworkMode = Annotated[str, AfterValidator(_check_network_mode)]
"""Docker's network mode: ``host``, ``none``, ``bridge``, ``container:NAME`` (a container
outside the stack) or ``service:NAME`` (the first container of a service of the stack)."""


def shared_service(mode: str | None) -> str | None:
    """The service named by a ``service:NAME`` mode (network_mode, ipc, pid), else None."""
    if mode is not None and mode.startswith("service:"):
        return mode.removeprefix("service:")
    return None


class Ulimit(_Model):
    """A resource limit (``ulimit``) inside the container: ``soft`` and ``hard``."""

    soft: int
    hard: int

    @model_validator(mode="after")
    def _order(self) -> Ulimit:
        if self.soft > self.hard:
            raise ValueError(f"the soft limit {self.soft} is above the hard limit {self.hard}")
        return self


def _ulimits(value: Any) -> Any:
    """Compose's ``nofile: 65536`` (soft and hard alike) or ``{soft: .., hard: ..}``."""
    if isinstance(value, Mapping):
        return {
            k: ({"soft": v, "hard": v} if isinstance(v, int) and not isinstance(v, bool) else v)
            for k, v in value.items()
        }
    return value


def _links(value: Any) -> Any:
    """``[db, "db:database"]``; Service objects for the typed stack."""
    if isinstance(value, list | tuple):
        return [v.name if isinstance(v, Service) else v for v in value]
    return value


def _check_links(value: list[str]) -> list[str]:
    for link in value:
        service, _, alias = link.partition(":")
        if not service or (":" in link and not alias) or ":" in alias:
            raise ValueError(f"malformed link {link!r}; use 'SERVICE' or 'SERVICE:ALIAS'")
    return value


def _cpus(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError as e:
            raise ValueError(f"cpus must be a number such as '0.5', got {value!r}") from e
    return value


def _swap(value: Any) -> Any:
    """``memswap_limit: -1`` (unlimited swap) is kept as the string ``-1``."""
    if value == -1 or value == "-1":
        return "-1"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_swap(value: str) -> str:
    return value if value == "-1" else _check_size_text(value)


def _check_size_text(value: str) -> str:
    units.parse_size(value)
    return value


# --------------------------------------------------------------------------- service


def _depends_on(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, list | tuple):
        return {(s.name if isinstance(s, Service) else s): {} for s in value}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = k.name if isinstance(k, Service) else k
            if isinstance(v, Condition | str):
                out[key] = {"condition": v}
            elif v is None:
                out[key] = {}
            else:
                out[key] = v
        return out
    return value


if TYPE_CHECKING:
    # Service's input forms (quoted "Service": it is defined below).
    _EnvironmentIn: TypeAlias = Mapping[str, _ScalarIn | Secret | None] | Sequence[str]
    _PortsIn: TypeAlias = Sequence[str | int | Port | Mapping[str, Any]]
    _MountsIn: TypeAlias = Sequence[str | Mount | Mapping[str, Any]] | _MappingIn[Volume | str, str]
    _AttachIn: TypeAlias = ServiceNetwork | Mapping[str, Any] | None
    _NetworksIn: TypeAlias = Sequence[Network | str] | _MappingIn[Network | str, _AttachIn]
    _DependencyIn: TypeAlias = Condition | str | Dependency | Mapping[str, Any] | None
    _DependsOnIn: TypeAlias = Sequence["Service | str"] | _MappingIn["Service | str", _DependencyIn]
    _SecretsIn: TypeAlias = Sequence[SecretSource | str | ServiceSecret | Mapping[str, Any]]


class Service(_Model):
    """One service: one container on a host (``<stack>-<name>-1`` unless ``container_name``)."""

    name: str
    image: ImageRef | None = None  # None: built (``build``) as ``<stack>-<service>``
    build: Annotated[Build | None, BeforeValidator(build_form)] = None
    container_name: str | None = None
    hostname: str | None = None
    command: Command | None = None
    entrypoint: Command | None = None
    environment: Environment = Field(default_factory=dict)
    env_file: StrList = Field(default_factory=list)
    ports: Ports = Field(default_factory=list)
    expose: list[Scalar] = Field(default_factory=list)
    volumes: Mounts = Field(default_factory=list)
    networks: Annotated[dict[str, ServiceNetwork], BeforeValidator(_service_networks)] = Field(
        default_factory=dict
    )
    restart: Annotated[str, BeforeValidator(_restart), AfterValidator(_check_restart)] = "no"
    depends_on: Annotated[dict[str, Dependency], BeforeValidator(_depends_on)] = Field(
        default_factory=dict
    )
    healthcheck: Healthcheck | None = None
    deploy: Deploy | None = None
    replicas: int | None = Field(default=None, ge=0)
    labels: StrMap = Field(default_factory=dict)
    user: Scalar | None = None
    working_dir: str | None = None
    cap_add: list[str] = Field(default_factory=list)
    cap_drop: list[str] = Field(default_factory=list)
    privileged: bool = False
    read_only: bool = False
    extra_hosts: Annotated[dict[str, str], BeforeValidator(_extra_hosts)] = Field(
        default_factory=dict
    )
    dns: StrList = Field(default_factory=list)
    dns_search: StrList = Field(default_factory=list)
    stop_signal: str | None = None
    stop_grace_period: Duration | None = None
    init: bool | None = None
    logging: Logging | None = None
    secrets: Annotated[list[ServiceSecret], BeforeValidator(_service_secrets)] = Field(
        default_factory=list
    )
    configs: Annotated[list[ServiceConfig], BeforeValidator(_service_configs)] = Field(
        default_factory=list
    )
    devices: list[str] = Field(default_factory=list)
    gpus: Annotated[list[DeviceRequest], BeforeValidator(_gpus)] = Field(default_factory=list)
    sysctls: StrMap = Field(default_factory=dict)
    security_opt: list[str] = Field(default_factory=list)
    shm_size: Size | None = None
    tty: bool = False
    stdin_open: bool = False
    pull_policy: Literal["always", "never", "missing", "if_not_present", "build"] | None = None
    network_mode: NetworkMode | None = None
    links: Annotated[list[str], BeforeValidator(_links), AfterValidator(_check_links)] = Field(
        default_factory=list
    )
    ulimits: Annotated[dict[str, Ulimit], BeforeValidator(_ulimits)] = Field(default_factory=dict)
    pids_limit: int | None = None
    runtime: str | None = None
    platform: str | None = None
    mem_limit: Size | None = None
    memswap_limit: Annotated[str, BeforeValidator(_swap), AfterValidator(_check_swap)] | None = None
    mem_reservation: Size | None = None
    cpus: Annotated[float, BeforeValidator(_cpus), Field(gt=0)] | None = None
    cpu_shares: int | None = Field(default=None, ge=0)
    cpu_quota: int | None = None
    cpu_period: int | None = Field(default=None, ge=0)
    cpuset: str | None = None
    oom_score_adj: int | None = Field(default=None, ge=-1000, le=1000)
    group_add: list[Scalar] = Field(default_factory=list)
    ipc: str | None = None
    pid: str | None = None
    userns_mode: str | None = None
    cgroup_parent: str | None = None
    storage_opt: StrMap = Field(default_factory=dict)
    domainname: str | None = None
    engine: Literal["docker", "swarm"] | None = None
    acknowledge: list[Acknowledge] = Field(default_factory=list)  # validation only

    if TYPE_CHECKING:
        # Positional or keyword; the rest keyword-only. The type checker's view only.
        def __init__(
            self,
            name: str,
            *,
            image: str | None = ...,
            build: Build | str | None = ...,
            container_name: str | None = ...,
            hostname: str | None = ...,
            command: _CommandIn | None = ...,
            entrypoint: _CommandIn | None = ...,
            environment: _EnvironmentIn | None = ...,
            env_file: _StrListIn = ...,
            ports: _PortsIn = ...,
            expose: Sequence[str | int] = ...,
            volumes: _MountsIn | None = ...,
            networks: _NetworksIn | None = ...,
            restart: str = ...,
            depends_on: _DependsOnIn | None = ...,
            healthcheck: Healthcheck | Mapping[str, Any] | None = ...,
            deploy: Deploy | Mapping[str, Any] | None = ...,
            replicas: int | None = ...,
            labels: _StrMapIn = ...,
            user: str | int | None = ...,
            working_dir: str | None = ...,
            cap_add: Sequence[str] = ...,
            cap_drop: Sequence[str] = ...,
            privileged: bool = ...,
            read_only: bool = ...,
            extra_hosts: Mapping[str, str] | Sequence[str] = ...,
            dns: _StrListIn = ...,
            dns_search: _StrListIn = ...,
            stop_signal: str | None = ...,
            stop_grace_period: _DurationIn | None = ...,
            init: bool | None = ...,
            logging: Logging | Mapping[str, Any] | None = ...,
            secrets: _SecretsIn = ...,
            configs: Sequence[ConfigSource | str | ServiceConfig | Mapping[str, Any]] = ...,
            devices: Sequence[str] = ...,
            gpus: Literal["all"] | Sequence[DeviceRequest | Mapping[str, Any]] = ...,
            sysctls: _StrMapIn = ...,
            security_opt: Sequence[str] = ...,
            shm_size: _SizeIn | None = ...,
            tty: bool = ...,
            stdin_open: bool = ...,
            pull_policy: Literal["always", "never", "missing", "if_not_present", "build"]
            | None = ...,
            network_mode: str | None = ...,
            links: Sequence[Service | str] = ...,
            ulimits: Mapping[str, int | Ulimit | Mapping[str, int]] = ...,
            pids_limit: int | None = ...,
            runtime: str | None = ...,
            platform: str | None = ...,
            mem_limit: _SizeIn | None = ...,
            memswap_limit: _SizeIn | None = ...,
            mem_reservation: _SizeIn | None = ...,
            cpus: float | str | None = ...,
            cpu_shares: int | None = ...,
            cpu_quota: int | None = ...,
            cpu_period: int | None = ...,
            cpuset: str | None = ...,
            oom_score_adj: int | None = ...,
            group_add: Sequence[str | int] = ...,
            ipc: str | None = ...,
            pid: str | None = ...,
            userns_mode: str | None = ...,
            cgroup_parent: str | None = ...,
            storage_opt: _StrMapIn = ...,
            domainname: str | None = ...,
            engine: Literal["docker", "swarm"] | None = ...,
            acknowledge: Sequence[Acknowledge | Mapping[str, str]] = ...,
            tmpfs: str | Sequence[str] | None = ...,  # not a field: folded into volumes
        ) -> None: ...

    else:

        def __init__(self, name: str | None = None, /, **data: Any) -> None:
            if name is not None:
                data["name"] = name
            super().__init__(**data)

    def __hash__(self) -> int:
        return hash(("service", self.name))

    @model_validator(mode="after")
    def _image_or_build(self) -> Service:
        if self.image is None and self.build is None:
            raise ValueError(
                "a service needs `image` (what to run) or `build` (a folder with a "
                "Dockerfile to build it from)"
            )
        if self.pull_policy == "build" and self.build is None:
            raise ValueError("pull_policy `build` needs a `build` section to build the image")
        return self

    @model_validator(mode="before")
    @classmethod
    def _fold_tmpfs(cls, data: Any) -> Any:
        """Compose's service-level ``tmpfs: [/run]`` becomes tmpfs mounts."""
        if isinstance(data, Mapping) and "tmpfs" in data:
            data = dict(data)
            tmpfs = data.pop("tmpfs")
            paths = [tmpfs] if isinstance(tmpfs, str) else tmpfs or []
            mounts = _mounts(data.get("volumes")) or []
            if not isinstance(paths, list | tuple):
                raise ValueError(f"tmpfs takes a path or a list of paths, got {tmpfs!r}")
            if not isinstance(mounts, list):
                return data  # bad volumes: their own validator reports them
            for p in paths:
                if not isinstance(p, str):
                    raise ValueError(f"tmpfs takes paths such as '/run:size=64m', got {p!r}")
                target, _, opts = p.partition(":")
                mount: dict[str, Any] = {"type": "tmpfs", "target": target, "tmpfs_size": None}
                for opt in opts.split(","):
                    if opt.startswith("size="):
                        mount["tmpfs_size"] = opt[5:]
                    elif opt.startswith("mode="):  # the daemon reads it as octal
                        mount["tmpfs_mode"] = "0o" + opt[5:].removeprefix("0o")
                mounts.append(mount)
            data["volumes"] = mounts
        return data

    @property
    def joins_networks(self) -> bool:
        """Whether the container joins the stack's networks (no ``network_mode``)."""
        return self.network_mode is None

    @property
    def joins_default(self) -> bool:
        """Whether the service is on the stack's ``default`` network, as in Compose: it
        names no network (or names ``default``) and has no ``network_mode``."""
        return self.network_mode is None and (not self.networks or "default" in self.networks)

    @property
    def link_targets(self) -> list[tuple[str, str]]:
        """``links`` as (service, alias) pairs (``db`` alone: the alias is ``db``)."""
        out: list[tuple[str, str]] = []
        for link in self.links:
            service, _, alias = link.partition(":")
            out.append((service, alias or service))
        return out

    @property
    def implied_dependencies(self) -> list[str]:
        """The services this one starts after without a ``depends_on`` entry, as in
        Compose: those it ``links`` to and those whose namespace it shares (``service:X``)."""
        modes = (self.network_mode, self.ipc, self.pid)
        names = [t for t, _ in self.link_targets]
        names += [m.removeprefix("service:") for m in modes if m and m.startswith("service:")]
        return [n for n in dict.fromkeys(names) if n != self.name and n not in self.depends_on]

    @property
    def replica_count(self) -> int:
        if self.replicas is not None:
            return self.replicas
        if self.deploy is not None and self.deploy.replicas is not None:
            return self.deploy.replicas
        return 1
