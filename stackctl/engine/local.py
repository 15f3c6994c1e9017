"""Reads from a local daemon over its unix socket, with the standard library only.

A no-change ``stackctl plan`` only reads: ``/_ping``, four lists and an inspect per
container. Over a local socket those take a few ms in the daemon; the docker SDK (with
requests and urllib3) costs ~0.2 s of CPU to import and ~1 ms of CPU per request on top.
So DockerEngine sends its plain reads (GET, JSON answer) through :class:`LocalClient`
when the daemon is a unix socket without TLS (:func:`local_socket`), and everything else
(writes, streams, builds, registry calls) through the SDK.

Errors are this module's own: :class:`Unanswered` (the connection failed, broke or timed
out) and :class:`APIError` (the daemon answered with an error; ``explanation`` is its
message, as the SDK's ``APIError.explanation``). engine/docker.py turns both into
stackctl's errors.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from stackctl.engine.context import Target


class Unanswered(Exception):
    """No answer: the socket is missing or refuses, the connection broke, or (``timed_out``)
    no answer came within the client's timeout."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class APIError(Exception):
    """The daemon answered ``status_code`` >= 400; ``explanation`` is its message."""

    def __init__(self, status_code: int, explanation: str) -> None:
        super().__init__(f"{status_code}: {explanation}")
        self.status_code = status_code
        self.explanation = explanation


def local_socket(target: Target, env: Mapping[str, str] | None = None) -> str | None:
    """The path of the unix socket ``target`` names, or None when the daemon is not a local
    socket without TLS (tcp://, ssh://, TLS settings): the SDK serves those.

    ``target.host`` None means the SDK's own default: ``DOCKER_HOST``, else the socket
    ``/var/run/docker.sock``; with ``DOCKER_TLS_VERIFY`` set the SDK's path is kept."""
    env = os.environ if env is None else env
    if target.host is None:
        if env.get("DOCKER_TLS_VERIFY"):
            return None
        host = env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    else:
        if target.tls_dir is not None:
            return None
        host = target.host
    if not host.startswith("unix://"):
        return None
    path = host[len("unix://") :]
    return path or None


def api_path(version: str, path: str, *args: str, params: Mapping[str, Any] | None = None) -> str:
    """``/v{version}{path}``, ``{0}``-style placeholders filled with the quoted ``args``
    and the query string appended, as the SDK builds its URLs:
    ``api_path("1.41", "/containers/{0}/json", "web")`` is ``/v1.41/containers/web/json``."""
    url = f"/v{version}" + path.format(*(quote(a, safe="/:") for a in args))
    if params:
        url += "?" + urlencode(params)
    return url


class _UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 over the unix socket ``path`` (keep-alive, as any HTTPConnection)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class LocalClient:
    """GET requests to the daemon at the unix socket ``path``, JSON answers; one kept-alive
    connection per thread. Thread-safe. ``calls`` counts the requests (by method)."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.version = ""  # the API version, from ping()
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[_UnixConnection] = []

    def ping(self) -> str:
        """``GET /_ping``: the daemon's API version (its ``API-Version`` header); it is the
        version of every request after."""
        status, headers, body = self._request("/_ping")
        if status >= 400:
            raise APIError(status, _explanation(body, status))
        self.version = headers.get("API-Version") or ""
        if not self.version:  # a daemon without the header
            self.version = str(json.loads(self._request("/version")[2] or b"{}")["ApiVersion"])
        return self.version

    def get(self, path: str, *args: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON answer of ``GET`` ``api_path(version, path, *args, params=params)``."""
        status, _, body = self._request(api_path(self.version, path, *args, params=params))
        if status >= 400:
            raise APIError(status, _explanation(body, status))
        return json.loads(body) if body else None

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    def _request(self, url: str) -> tuple[int, http.client.HTTPMessage, bytes]:
        with self._lock:
            self.calls["GET"] += 1
        conn: _UnixConnection | None = getattr(self._local, "conn", None)
        try:
            if conn is not None:  # kept alive: the daemon may have closed it meanwhile
                try:
                    return self._exchange(conn, url)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    conn.close()
            conn = _UnixConnection(self.path, self.timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
            return self._exchange(conn, url)
        except TimeoutError as e:
            connected = conn is not None and conn.sock is not None  # else: the connect
            if conn is not None:
                conn.close()
            raise Unanswered(
                f"{self.path}: no answer within {self.timeout:g} s", timed_out=connected
            ) from e
        except (OSError, http.client.HTTPException) as e:
            if conn is not None:
                conn.close()
            raise Unanswered(f"{self.path}: {_reason(e)}") from e

    def _exchange(
        self, conn: _UnixConnection, url: str
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn.request("GET", url)
        response = conn.getresponse()
        body = response.read()
        if response.will_close:
            conn.close()
        return response.status, response.headers, body


def _explanation(body: bytes, status: int) -> str:
    """The daemon's message from an error answer (``{"message": ...}``), else its text."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    text = body.decode("utf-8", errors="replace").strip()
    return text or f"HTTP {status}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
