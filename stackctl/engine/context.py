"""Which daemon to talk to, resolved as the docker CLI resolves it (no SDK here).

In order: ``--context NAME`` (the CLI sets ``STACKCTL_CONTEXT``), ``DOCKER_HOST``,
``DOCKER_CONTEXT``, ``currentContext`` in ``config.json`` (what ``docker context use``
writes), else the local socket. The config folder is ``DOCKER_CONFIG`` or ``~/.docker``; a
context named NAME lives in ``contexts/meta/<sha256(NAME)>/meta.json`` (its endpoint) and
``contexts/tls/<sha256(NAME)>/docker/`` (its TLS files, if any). The context ``default`` is
``DOCKER_HOST`` or the socket.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stackctl.errors import StackctlError

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class Target:
    host: str | None  # None: the SDK's own default (DOCKER_HOST, DOCKER_TLS_*, the socket)
    source: str  # for messages: "DOCKER_HOST=ssh://...", "context 'lab' (ssh://...)"
    tls_dir: Path | None = None  # a context's ca.pem, cert.pem, key.pem
    skip_tls_verify: bool = False

    @property
    def ssh(self) -> bool:
        return (self.host or "").startswith("ssh://")


def config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")


def resolve(env: Mapping[str, str] | None = None) -> Target:
    env = os.environ if env is None else env
    explicit = env.get("STACKCTL_CONTEXT")
    if explicit:
        return _context(explicit, env, "--context")
    host = env.get("DOCKER_HOST")
    if host:
        return Target(None, f"DOCKER_HOST={host}")
    name = env.get("DOCKER_CONTEXT")
    if name:
        return _context(name, env, "DOCKER_CONTEXT")
    current = _current_context(env)
    if current:
        return _context(current, env, "currentContext in config.json")
    return Target(None, f"the socket {DEFAULT_SOCKET}")


def _current_context(env: Mapping[str, str]) -> str | None:
    path = config_dir(env) / "config.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    name = data.get("currentContext") if isinstance(data, dict) else None
    return str(name) if name else None


def _context(name: str, env: Mapping[str, str], chosen_by: str) -> Target:
    if name == "default":
        host = env.get("DOCKER_HOST")
        return Target(None, f"context 'default' ({host or DEFAULT_SOCKET})")
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config_dir(env) / "contexts" / "meta" / digest / "meta.json"
    try:
        data = json.loads(meta.read_text())
        endpoint = data["Endpoints"]["docker"]
        host = str(endpoint["Host"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise StackctlError(
            f"docker context {name!r} ({chosen_by}) was not found or is unreadable: {meta}",
            hint="list the contexts with `docker context ls`; create one with `docker context "
            "create NAME --docker host=ssh://user@host`",
        ) from e
    tls = config_dir(env) / "contexts" / "tls" / digest / "docker"
    return Target(
        host,
        f"context {name!r} ({host})",
        tls_dir=tls if tls.is_dir() else None,
        skip_tls_verify=bool(endpoint.get("SkipTLSVerify")),
    )
