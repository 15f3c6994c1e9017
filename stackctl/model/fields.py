"""The field types of the stack language: coercers and checkers shared by every model.

Each friendly input form (``5`` seconds, ``"2048M"``, ``["A=1"]``, ``"npm start"``) is
accepted by a "before" validator here and normalised; the "after" checkers reject what
no form can mean. ``_Model`` is the frozen base class of every model.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from stackctl import units

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


# --------------------------------------------------------------------------- basics


class _Model(BaseModel):
    # defer_build: a model's validator is built the first time it is used, not at import,
    # so a command pays only for the models its stacks use (start-up time).
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


def _check_duration(value: str) -> str:
    units.parse_duration(value)
    return value


def _coerce_duration(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return f"{value:g}s"
    return value


def _check_size(value: str) -> str:
    units.parse_size(value)
    return value


def _coerce_size(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_image(value: str) -> str:
    units.check_image_reference(value)
    return value


Duration = Annotated[str, BeforeValidator(_coerce_duration), AfterValidator(_check_duration)]
"""A Go-style duration: ``5s``, ``1m30s``, ``500ms``, ``2h``."""

Size = Annotated[str, BeforeValidator(_coerce_size), AfterValidator(_check_size)]
"""A byte size: ``2048M``, ``1g``, ``512k`` or a plain number of bytes."""

ImageRef = Annotated[str, AfterValidator(_check_image)]


def _str_scalar(value: Any) -> Any:
    """Compose allows numbers and booleans where strings are meant (env values, labels)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Scalar = Annotated[str, BeforeValidator(_str_scalar)]


def _command(value: Any) -> Any:
    """A command or entrypoint: a string is split like a shell would; a list stays as is."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as e:
            raise ValueError(f"cannot split command {value!r}: {e}") from e
    return value


Command = Annotated[list[str], BeforeValidator(_command)]


def _str_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    return value


StrList = Annotated[list[str], BeforeValidator(_str_list)]


def _kv_map(value: Any) -> Any:
    """``["A=1", "B=2"]`` -> ``{"A": "1", "B": "2"}`` (labels, sysctls, extra_hosts ...)."""
    if isinstance(value, list | tuple):
        out: dict[str, Any] = {}
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"expected 'KEY=VALUE' strings, got {item!r}")
            key, sep, val = item.partition("=")
            out[key] = val if sep else ""
        return out
    return value


StrMap = Annotated[dict[str, Scalar], BeforeValidator(_kv_map)]


_RESTART_RE = re.compile(r"^(no|always|unless-stopped|on-failure(:\d+)?)$")


def _restart(value: Any) -> Any:
    if value is False:
        return "no"
    return value


def _check_restart(value: str) -> str:
    if not _RESTART_RE.match(value):
        raise ValueError(
            f"restart {value!r} is not one of no, always, unless-stopped, on-failure[:N]"
        )
    return value


def _extra_hosts(value: Any) -> Any:
    if isinstance(value, list | tuple):
        out: dict[str, str] = {}
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"expected 'HOST:IP' strings, got {item!r}")
            sep = "=" if "=" in item else ":"
            host, found, ip = item.partition(sep)
            if not found:
                raise ValueError(f"malformed extra host {item!r}; use 'HOST:IP'")
            out[host] = ip
        return out
    return value


if TYPE_CHECKING:
    # The friendly input forms the before-validators accept, as the type checker sees them
    # in the constructors of Service, Network, Volume, Stack, Secret and SecretSource (their
    # runtime ``__init__`` takes ``**data``, which would hide the pydantic plugin's checks).
    from collections.abc import ItemsView
    from typing import Protocol, TypeAlias, TypeVar

    _K_co = TypeVar("_K_co", covariant=True)
    _V_co = TypeVar("_V_co", covariant=True)

    class _MappingIn(Protocol[_K_co, _V_co]):
        """A mapping argument whose keys may be objects or names: ``{db: healthy}``.

        ``Mapping`` is invariant in its keys, so a ``dict[Service, Condition]`` held in a
        variable is no ``Mapping[Service | str, ...]``; and a union of several Mapping types
        stops mypy from inferring a dict literal such as ``{db: healthy, "cache": None}``.
        Only reading the items, this is covariant in both. (The validators take any Mapping.)
        """

        def items(self) -> ItemsView[_K_co, _V_co]: ...

    _DurationIn: TypeAlias = str | int | float
    _SizeIn: TypeAlias = str | int
    _ScalarIn: TypeAlias = str | int | float | bool
    _CommandIn: TypeAlias = str | Sequence[str]
    _StrListIn: TypeAlias = str | Sequence[str]
    _StrMapIn: TypeAlias = Mapping[str, _ScalarIn] | Sequence[str]
    _T = TypeVar("_T")
    _KeyedIn: TypeAlias = (
        Sequence[_T | Mapping[str, Any]] | Mapping[str, _T | Mapping[str, Any] | None]
    )
