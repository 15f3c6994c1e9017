"""``build``: how a service's image is built from a folder and a Dockerfile (Compose's
``build:``), through the daemon's builder.

``build="./app"`` (Compose's short form) is the context alone; the long form takes the
fields below. What the daemon's classic builder (the Engine API's ``POST /build``)
cannot do (``ssh``, build ``secrets``, ``cache_to``, ``additional_contexts``,
``platforms``, ``tags``, ...) is not a field: a compose file that uses one is refused by
name, with a hint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from stackctl.model.fields import Scalar, Size, StrList, StrMap, _extra_hosts, _Model

if TYPE_CHECKING:
    from collections.abc import Sequence

    from stackctl.model.fields import _ScalarIn, _SizeIn, _StrListIn, _StrMapIn

_REMOTE = ("http://", "https://", "git://", "git@", "github.com/", "ssh://")


def _build_args(value: Any) -> Any:
    """Map or ``KEY=VALUE`` list; ``KEY`` alone (or a null value) takes the value from the
    process environment and is left out when it is not set there, as Compose does (the
    Dockerfile's ``ARG`` default then applies)."""
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
            k: (os.environ[k] if v is None else v)
            for k, v in value.items()
            if v is not None or k in os.environ
        }
    return value


class Build(_Model):
    """Build the service's image from ``context`` (a folder, relative to the stack's).

    The image is tagged with the service's ``image``, else ``<stack>-<service>`` (as
    Compose names it). ``dockerfile`` is relative to the context; ``dockerfile_inline``
    is the Dockerfile's text instead. ``args`` are build arguments (``ARG``), ``target``
    the stage of a multi-stage Dockerfile. ``no_cache``/``pull`` build without the cache /
    pulling the base images again; ``network``, ``shm_size`` and ``extra_hosts`` apply to
    the build's ``RUN`` steps.
    """

    context: str  # Compose's default, ".", is filled in by ``build_form``
    dockerfile: str | None = None
    dockerfile_inline: str | None = None
    args: Annotated[dict[str, Scalar], BeforeValidator(_build_args)] = Field(default_factory=dict)
    target: str | None = None
    labels: StrMap = Field(default_factory=dict)
    no_cache: bool = False
    pull: bool = False
    network: str | None = None
    shm_size: Size | None = None
    extra_hosts: Annotated[dict[str, str], BeforeValidator(_extra_hosts)] = Field(
        default_factory=dict
    )
    cache_from: StrList = Field(default_factory=list)

    if TYPE_CHECKING:

        def __init__(
            self,
            context: str,
            *,
            dockerfile: str | None = ...,
            dockerfile_inline: str | None = ...,
            args: Mapping[str, _ScalarIn | None] | Sequence[str] = ...,
            target: str | None = ...,
            labels: _StrMapIn = ...,
            no_cache: bool = ...,
            pull: bool = ...,
            network: str | None = ...,
            shm_size: _SizeIn | None = ...,
            extra_hosts: Mapping[str, str] | Sequence[str] = ...,
            cache_from: _StrListIn = ...,
        ) -> None: ...

    else:

        def __init__(self, context: str | None = None, /, **data: Any) -> None:
            if context is not None:
                data["context"] = context
            super().__init__(**data)

    @field_validator("context")
    @classmethod
    def _local(cls, value: str) -> str:
        if value.startswith(_REMOTE) or "://" in value:
            raise ValueError(
                f"build context {value!r} is a remote URL; stackctl builds from a folder "
                "(clone the repository beside the stack and give its path)"
            )
        if not value:
            raise ValueError("build context is empty; give a folder such as '.'")
        return value

    @model_validator(mode="after")
    def _one_dockerfile(self) -> Build:
        if self.dockerfile is not None and self.dockerfile_inline is not None:
            raise ValueError("give `dockerfile` or `dockerfile_inline`, not both")
        return self


def build_form(value: Any) -> Any:
    """Compose's short form: ``build: ./app`` is the context alone; the long form's
    context defaults to the stack's folder."""
    if isinstance(value, str):
        return {"context": value}
    if isinstance(value, Mapping) and "context" not in value:
        return {"context": ".", **value}
    return value
