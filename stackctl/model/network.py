"""The stack-level resources services refer to: networks (with ipam), volumes, secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from stackctl.model.fields import StrMap, _Model

if TYPE_CHECKING:
    from stackctl.model.fields import _StrMapIn


# --------------------------------------------------------------------------- networks


class IpamPool(_Model):
    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None
    aux_addresses: dict[str, str] = Field(default_factory=dict)


class Ipam(_Model):
    driver: str | None = None
    config: list[IpamPool] = Field(default_factory=list)
    options: dict[str, str] = Field(default_factory=dict)


class Network(_Model):
    """A network of the stack, or an ``external`` one that must already exist.

    ``key`` is how services name it; the Docker name is ``name`` if set, else the key for
    an external network, else ``<stack>_<key>`` (as Compose does).
    """

    key: str
    name: str | None = None
    external: bool = False
    driver: Literal["bridge", "overlay", "macvlan", "ipvlan", "host", "none"] | None = None
    driver_opts: StrMap = Field(default_factory=dict)
    internal: bool = False
    attachable: bool = False
    enable_ipv6: bool = False
    ipam: Ipam | None = None
    labels: StrMap = Field(default_factory=dict)

    if TYPE_CHECKING:
        # Positional or keyword; the rest keyword-only. The type checker's view only.
        def __init__(
            self,
            key: str,
            *,
            name: str | None = ...,
            external: bool = ...,
            driver: Literal["bridge", "overlay", "macvlan", "ipvlan", "host", "none"] | None = ...,
            driver_opts: _StrMapIn = ...,
            internal: bool = ...,
            attachable: bool = ...,
            enable_ipv6: bool = ...,
            ipam: Ipam | Mapping[str, Any] | None = ...,
            labels: _StrMapIn = ...,
        ) -> None: ...

    else:

        def __init__(self, key: str | None = None, /, **data: Any) -> None:
            if key is not None:
                data["key"] = key
            super().__init__(**data)

    def __hash__(self) -> int:
        return hash(("network", self.key))

    @field_validator("ipam", mode="before")
    @classmethod
    def _ipam_shortcut(cls, value: Any) -> Any:
        # Python shortcut: ipam={"subnet": "172.18.0.0/16", "gateway": "172.18.0.1"}
        if isinstance(value, Mapping) and ("subnet" in value or "gateway" in value):
            return {"config": [dict(value)]}
        return value

    @model_validator(mode="after")
    def _external_is_bare(self) -> Network:
        if self.external:
            extra = [
                f
                for f in ("driver", "ipam", "internal", "attachable", "enable_ipv6")
                if getattr(self, f) not in (None, False)
            ]
            if extra or self.driver_opts or self.labels:
                raise ValueError(
                    "an external network is made elsewhere; it takes no settings "
                    f"(remove {', '.join(extra) or 'driver_opts/labels'})"
                )
        return self

    @property
    def subnets(self) -> list[str]:
        return [p.subnet for p in (self.ipam.config if self.ipam else []) if p.subnet]


# --------------------------------------------------------------------------- volumes


class Volume(_Model):
    """A named volume. Docker name: ``name`` if set, else the key (external) or
    ``<stack>_<key>``. Never removed by apply; destroy keeps it unless ``--volumes``."""

    key: str
    name: str | None = None
    external: bool = False
    driver: str | None = None
    driver_opts: StrMap = Field(default_factory=dict)
    labels: StrMap = Field(default_factory=dict)

    if TYPE_CHECKING:
        # Positional or keyword; the rest keyword-only. The type checker's view only.
        def __init__(
            self,
            key: str,
            *,
            name: str | None = ...,
            external: bool = ...,
            driver: str | None = ...,
            driver_opts: _StrMapIn = ...,
            labels: _StrMapIn = ...,
        ) -> None: ...

    else:

        def __init__(self, key: str | None = None, /, **data: Any) -> None:
            if key is not None:
                data["key"] = key
            super().__init__(**data)

    def __hash__(self) -> int:
        return hash(("volume", self.key))


class ConfigSource(_Model):
    """A top-level config: on one host, a file bind-mounted read-only (``file:``), or a
    text (``content:``, or the value of the variable ``environment:``) copied into the
    container before it starts, as Compose does. ``external`` (a Swarm config) is refused."""

    key: str
    file: str | None = None
    content: str | None = None
    environment: str | None = None
    external: bool = False
    name: str | None = None

    if TYPE_CHECKING:
        # Positional or keyword; the rest keyword-only. The type checker's view only.
        def __init__(
            self,
            key: str,
            *,
            file: str | None = ...,
            content: str | None = ...,
            environment: str | None = ...,
            external: bool = ...,
            name: str | None = ...,
        ) -> None: ...

    else:

        def __init__(self, key: str | None = None, /, **data: Any) -> None:
            if key is not None:
                data["key"] = key
            super().__init__(**data)

    def __hash__(self) -> int:
        return hash(("config", self.key))


class SecretSource(_Model):
    """A top-level secret: a file mounted read-only at ``/run/secrets/<key>``."""

    key: str
    file: str | None = None
    environment: str | None = None
    external: bool = False
    name: str | None = None

    if TYPE_CHECKING:
        # Positional or keyword; the rest keyword-only. The type checker's view only.
        def __init__(
            self,
            key: str,
            *,
            file: str | None = ...,
            environment: str | None = ...,
            external: bool = ...,
            name: str | None = ...,
        ) -> None: ...

    else:

        def __init__(self, key: str | None = None, /, **data: Any) -> None:
            if key is not None:
                data["key"] = key
            super().__init__(**data)

    def __hash__(self) -> int:
        return hash(("secret", self.key))
