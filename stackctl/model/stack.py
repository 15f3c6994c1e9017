"""The stack: a named set of services, networks, volumes and secrets, and its file origin."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, field_validator, model_validator

from stackctl import units
from stackctl.core.redact import remember
from stackctl.model.fields import _Model
from stackctl.model.network import ConfigSource, Network, SecretSource, Volume
from stackctl.model.service import Service

if TYPE_CHECKING:
    from stackctl.model.fields import _KeyedIn


# --------------------------------------------------------------------------- stack


def _keyed(kind: str, key_field: str) -> Any:
    def convert(value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, list | tuple):
            out: dict[str, Any] = {}
            for item in value:
                key = getattr(item, key_field, None)
                if key is None and isinstance(item, Mapping):
                    key = item.get(key_field)
                if key is None:
                    raise ValueError(f"each {kind} in a list needs a {key_field}")
                if key in out:
                    raise ValueError(f"{kind} {key!r} is defined twice")
                out[key] = item
            return out
        if isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                if item is None:
                    item = {}
                if isinstance(item, Mapping):
                    given = item.get(key_field)
                    if given is not None and given != key:
                        raise ValueError(f"{kind} {key!r} has {key_field} {given!r}")
                    item = {**item, key_field: key}
                elif getattr(item, key_field, key) != key:
                    raise ValueError(
                        f"{kind} {key!r} is a {kind} named {getattr(item, key_field)!r}"
                    )
                out[key] = item
            return out
        return value

    return convert


class Stack(_Model):
    """A named set of services, networks and volumes that plan and apply manage together."""

    name: str
    services: Annotated[dict[str, Service], BeforeValidator(_keyed("service", "name"))] = Field(
        default_factory=dict
    )
    networks: Annotated[dict[str, Network], BeforeValidator(_keyed("network", "key"))] = Field(
        default_factory=dict
    )
    volumes: Annotated[dict[str, Volume], BeforeValidator(_keyed("volume", "key"))] = Field(
        default_factory=dict
    )
    secrets: Annotated[dict[str, SecretSource], BeforeValidator(_keyed("secret", "key"))] = Field(
        default_factory=dict
    )
    configs: Annotated[dict[str, ConfigSource], BeforeValidator(_keyed("config", "key"))] = Field(
        default_factory=dict
    )
    engine: Literal["docker", "swarm"] | None = None

    _origin: Path | None = PrivateAttr(default=None)
    _lines: Mapping[str, int] = PrivateAttr(default_factory=dict)
    _files: Mapping[str, str] = PrivateAttr(default_factory=dict)
    _secret_values: frozenset[str] = PrivateAttr(default_factory=frozenset)

    if TYPE_CHECKING:
        # Positional or keyword; the rest keyword-only. The type checker's view only.
        def __init__(
            self,
            name: str,
            *,
            services: _KeyedIn[Service] | None = ...,
            networks: _KeyedIn[Network] | None = ...,
            volumes: _KeyedIn[Volume] | None = ...,
            secrets: _KeyedIn[SecretSource] | None = ...,
            configs: _KeyedIn[ConfigSource] | None = ...,
            engine: Literal["docker", "swarm"] | None = ...,
        ) -> None: ...

    else:

        def __init__(self, name: str | None = None, /, **data: Any) -> None:
            if name is not None:
                data["name"] = name
            super().__init__(**data)

    @field_validator("name")
    @classmethod
    def _stack_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
            raise ValueError(
                f"stack name {value!r} must be lowercase letters, digits, '_' or '-', "
                "starting with a letter or digit"
            )
        return value

    @model_validator(mode="after")
    def _default_network(self) -> Stack:
        """Services that name no network join ``default`` (``<stack>_default``), as in Compose."""
        needs_default = any(s.joins_default for s in self.services.values())
        if needs_default and "default" not in self.networks:
            nets = dict(self.networks)
            nets["default"] = Network("default")
            object.__setattr__(self, "networks", nets)
        return self

    def __eq__(self, other: object) -> bool:
        """Equal content is an equal stack: where it was loaded from (origin, lines) is not."""
        if not isinstance(other, Stack):
            return NotImplemented
        return self.__dict__ == other.__dict__

    # ----------------------------------------------------------------- helpers

    @property
    def origin(self) -> Path | None:
        """The file this stack was loaded from, if any."""
        return self._origin

    @property
    def base_dir(self) -> Path:
        """The folder relative bind-mount paths and env files are resolved against."""
        return self._origin.resolve().parent if self._origin else Path.cwd()

    def line_of(self, path: str) -> int | None:
        """Source line of an attribute path such as ``services.db.ports`` (best match)."""
        parts = path.split(".")
        while parts:
            line = self._lines.get(".".join(parts))
            if line is not None:
                return line
            parts.pop()
        return None

    def file_of(self, path: str) -> Path | None:
        """The file an attribute path was set in: the origin, or the Compose file merged
        over it that set the path (``-f``, an override file, ``extends``)."""
        parts = path.split(".")
        while parts:
            found = self._files.get(".".join(parts))
            if found is not None:
                return Path(found)
            parts.pop()
        return self._origin

    def with_origin(
        self,
        origin: Path | None,
        lines: Mapping[str, int] | None = None,
        secret_values: Iterable[str] = (),
        files: Mapping[str, str] | None = None,
    ) -> Stack:
        """Where the stack came from (for paths and messages), and the values the loader
        filled in from secret-looking variables (hidden wherever they appear)."""
        self._origin = origin
        # A dict is copied; another Mapping is kept as given (the Python loader's line map
        # parses the file only when a line is asked for).
        if lines is None:
            self._lines = {}
        else:
            self._lines = dict(lines) if isinstance(lines, dict) else lines
        self._files = {k: v for k, v in (files or {}).items() if v != str(origin)}
        self._secret_values = frozenset(v for v in secret_values if v)
        remember(*self._secret_values)
        return self

    @property
    def secret_values(self) -> frozenset[str]:
        """Values of secret-looking variables used anywhere in the stack's source."""
        return self._secret_values

    def network_name(self, key: str) -> str:
        net = self.networks[key]
        if net.name:
            return net.name
        return key if net.external else f"{self.name}_{key}"

    def volume_name(self, key: str) -> str:
        vol = self.volumes[key]
        if vol.name:
            return vol.name
        return key if vol.external else f"{self.name}_{key}"

    def image_name(self, service: Service) -> str:
        """The image the service runs, with its tag: its ``image``, else (a built one)
        ``<stack>-<service>:latest``, as Compose v2 names a built image."""
        name = service.image or f"{self.name}-{service.name}"
        return units.image_with_tag(name)

    def container_names(self, service: Service) -> list[str]:
        if service.container_name:
            return [service.container_name]
        return [f"{self.name}-{service.name}-{i}" for i in range(1, service.replica_count + 1)]
