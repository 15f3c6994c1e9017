"""``build``: how a service's image is built from a folder and a Dockerfile (Compose's
``build:``), through the daemon's builder.

``build="./app"`` (Compose's short form) is the context alone; the long form takes the
fields below. The context is a folder, or a remote one the daemon fetches itself (a Git
URL, ``https://host/repo.git#ref:dir``, or an HTTP(S) URL of a tarball): see
:func:`remote_kind`. What the daemon's classic builder (the Engine API's ``POST /build``)
cannot do (``ssh``, build ``secrets``, ``cache_to``, ``additional_contexts``,
``platforms``, ``tags``, ...) is not a field: a compose file that uses one is refused by
name, with a hint.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from stackctl.model.fields import Scalar, Size, StrList, StrMap, _extra_hosts, _Model

if TYPE_CHECKING:
    from collections.abc import Sequence

    from stackctl.model.fields import _ScalarIn, _SizeIn, _StrListIn, _StrMapIn

ContextKind = Literal["local", "git", "url"]

# docker's own rules (docker/cli's urlutil.IsGitURL and IsURL, which the daemon's classic
# builder applies to the `remote` it is given)
_GIT_PREFIXES = ("git://", "github.com/", "git@")
_URL_PREFIXES = ("http://", "https://")
_GIT_SUFFIX = re.compile(r"\.git(?:#.+)?$")


def remote_kind(context: str) -> ContextKind:
    """How the daemon reads a build context, by docker's rules: ``git`` (``git://``,
    ``git@``, ``github.com/``, or an HTTP(S) URL ending in ``.git`` with an optional
    ``#ref:dir``), ``url`` (any other HTTP(S) URL: a tarball, or a Dockerfile alone), else
    ``local`` (a folder)."""
    if context.startswith(_URL_PREFIXES):
        return "git" if _GIT_SUFFIX.search(context) else "url"
    if context.startswith(_GIT_PREFIXES):
        return "git"
    return "local"


_SHA = re.compile(r"[0-9a-f]{7,40}")
_VERSION = re.compile(r"v?\d+(\.\d+)*([-+._][0-9A-Za-z.+-]*)?")


def git_ref(context: str) -> str | None:
    """The ref a Git context names (``#ref`` or ``#ref:dir``), None when it names none."""
    _, sep, fragment = context.partition("#")
    ref = fragment.partition(":")[0]
    return ref if sep and ref else None


def pinned_ref(ref: str | None) -> bool:
    """Whether a Git ref looks fixed: a commit id (7-40 hex digits), ``refs/tags/...``,
    or a version tag (``v1.2.3``, ``2024.05``); a branch (``main``) moves."""
    if ref is None:
        return False
    return bool(ref.startswith("refs/tags/") or _SHA.fullmatch(ref) or _VERSION.fullmatch(ref))


_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)([^/@]*)@")


def url_credential(url: str) -> str | None:
    """The password or token in a remote context's URL (what :func:`shown_url` hides)."""
    m = _USERINFO.match(url)
    if m is None:
        return None
    user, sep, password = m.group(2).partition(":")
    return (password if sep else user) or None


def shown_url(url: str) -> str:
    """A remote context for people: a password or token in it (``https://user:secret@``,
    ``https://token@``) hidden."""

    def hide(m: re.Match[str]) -> str:
        user, sep, _ = m.group(2).partition(":")
        return f"{m.group(1)}{user}:***@" if sep else f"{m.group(1)}***@"

    return _USERINFO.sub(hide, url)


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
    """Build the service's image from ``context``: a folder, relative to the stack's; or a
    Git or HTTP(S) URL that the daemon fetches (``https://github.com/o/r.git#v1.2:dir``).

    The image is tagged with the service's ``image``, else ``<stack>-<service>`` (as
    Compose names it). ``dockerfile`` is relative to the context; ``dockerfile_inline``
    is the Dockerfile's text instead (with a local context only). ``args`` are build
    arguments (``ARG``), ``target`` the stage of a multi-stage Dockerfile.
    ``no_cache``/``pull`` build without the cache / pulling the base images again;
    ``network``, ``shm_size`` and ``extra_hosts`` apply to the build's ``RUN`` steps.
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
    def _context(cls, value: str) -> str:
        if remote_kind(value) == "local" and "://" in value:
            raise ValueError(
                f"build context {shown_url(value)!r} is a URL the daemon's builder cannot "
                "fetch; give a Git URL (https://host/repo.git#ref:dir, git://..., "
                "git@host:repo.git), an HTTP(S) URL of a tarball, or a folder"
            )
        if not value:
            raise ValueError("build context is empty; give a folder such as '.'")
        return value

    @property
    def remote(self) -> bool:
        """Whether the daemon fetches the context (a Git or HTTP(S) URL)."""
        return remote_kind(self.context) != "local"

    @model_validator(mode="after")
    def _one_dockerfile(self) -> Build:
        if self.dockerfile is not None and self.dockerfile_inline is not None:
            raise ValueError("give `dockerfile` or `dockerfile_inline`, not both")
        if self.remote and self.dockerfile_inline is not None:
            raise ValueError(
                "`dockerfile_inline` needs a local context: the daemon fetches a remote one "
                "and stackctl cannot add a file to it (commit the Dockerfile to the "
                "repository and name it with `dockerfile:`)"
            )
        if self.remote and self.dockerfile is not None and os.path.isabs(self.dockerfile):
            raise ValueError(
                f"`dockerfile: {self.dockerfile}` is an absolute path, but the context is "
                "remote: give the Dockerfile's path inside the fetched context"
            )
        return self


def build_form(value: Any) -> Any:
    """Compose's short form: ``build: ./app`` is the context alone; the long form's
    context defaults to the stack's folder."""
    if isinstance(value, str):
        return {"context": value}
    if isinstance(value, Mapping) and "context" not in value:
        return {"context": ".", **value}
    return value
