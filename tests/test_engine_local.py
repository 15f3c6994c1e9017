"""Reads over a local unix socket (stackctl/engine/local.py): which daemons get them, the
URLs, the daemon's error messages, kept-alive connections and what a silent or vanishing
socket gives. The "daemon" here is a small unix-socket server, no Docker."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackctl.engine.context import Target
from stackctl.engine.docker import _lost
from stackctl.engine.local import APIError, LocalClient, Unanswered, api_path, local_socket

TLS = Path("/nonexistent/tls")


@pytest.mark.parametrize(
    ("target", "env", "expected"),
    [
        # DOCKER_HOST unset: the default socket
        (Target(None, "the socket"), {}, "/var/run/docker.sock"),
        (Target(None, "DOCKER_HOST"), {"DOCKER_HOST": "unix:///run/d.sock"}, "/run/d.sock"),
        (Target(None, "DOCKER_HOST"), {"DOCKER_HOST": "tcp://10.0.0.1:2375"}, None),
        (Target(None, "DOCKER_HOST"), {"DOCKER_HOST": "ssh://me@box"}, None),
        # the SDK's TLS settings from the environment: its path, whatever the address
        (Target(None, "the socket"), {"DOCKER_TLS_VERIFY": "1"}, None),
        # a context (or base_url)
        (Target("unix:///run/ctx.sock", "context 'c'"), {}, "/run/ctx.sock"),
        (Target("unix:///run/ctx.sock", "context 'c'", tls_dir=TLS), {}, None),
        (Target("tcp://10.0.0.1:2376", "context 'c'"), {}, None),
        (Target("ssh://me@box", "context 'c'"), {"DOCKER_HOST": "unix:///x.sock"}, None),
    ],
)
def test_which_daemons_are_read_over_the_local_socket(
    target: Target, env: dict[str, str], expected: str | None
) -> None:
    assert local_socket(target, env) == expected


@pytest.mark.parametrize(
    ("path", "args", "params", "expected"),
    [
        ("/info", (), None, "/v1.41/info"),
        ("/containers/{0}/json", ("sct1-web-1",), None, "/v1.41/containers/sct1-web-1/json"),
        ("/containers/{0}/json", ("a b",), None, "/v1.41/containers/a%20b/json"),
        (
            "/images/{0}/json",
            ("stackctl-test/busybox:1",),
            None,
            "/v1.41/images/stackctl-test/busybox:1/json",
        ),
        ("/images/{0}/json", ("sha256:ab12",), None, "/v1.41/images/sha256:ab12/json"),
        (
            "/containers/json",
            (),
            {"limit": -1, "all": 1, "size": 0, "trunc_cmd": 0},
            "/v1.41/containers/json?limit=-1&all=1&size=0&trunc_cmd=0",
        ),
        ("/images/json", (), {"only_ids": 0, "all": 0}, "/v1.41/images/json?only_ids=0&all=0"),
    ],
)
def test_urls_are_versioned_and_quoted_as_the_sdk_makes_them(
    path: str, args: tuple[str, ...], params: dict[str, int] | None, expected: str
) -> None:
    assert api_path("1.41", path, *args, params=params) == expected


# ------------------------------------------------------------------ a small unix-socket daemon

ANSWERS = {
    "/_ping": (200, b"API-Version: 1.41\r\n", b"OK"),
    "/v1.41/networks": (200, b"", b'[{"Name": "bridge"}]'),
    "/v1.41/containers/gone/json": (404, b"", b'{"message": "No such container: gone"}'),
    "/v1.41/info": (500, b"", b"plain text trouble"),
}


class FakeDaemon:
    """Answers ``ANSWERS`` (keeping the connection open); ``/v1.41/hang`` never,
    ``/v1.41/drop`` by closing the connection. ``connections`` counts the accepted ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connections = 0
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(8)
        self.server.settimeout(0.1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    pending += chunk
                head, _, pending = pending.partition(b"\r\n\r\n")
                path = head.split(b" ")[1].decode()
                if path == "/v1.41/hang":
                    self.stop.wait()
                    return
                if path not in ANSWERS:
                    return  # /v1.41/drop: closed without an answer
                status, headers, body = ANSWERS[path]
                conn.sendall(
                    f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n".encode()
                    + headers
                    + b"\r\n"
                    + body
                )

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[FakeDaemon]:
    fake = FakeDaemon(tmp_path / "d.sock")
    yield fake
    fake.close()


def test_reads_share_one_kept_alive_connection_and_are_counted(daemon: FakeDaemon) -> None:
    client = LocalClient(str(daemon.path), timeout=5)
    assert client.ping() == "1.41"
    assert client.get("/networks") == [{"Name": "bridge"}]
    assert client.get("/networks") == [{"Name": "bridge"}]
    assert daemon.connections == 1
    assert client.calls == {"GET": 3}
    client.close()


@pytest.mark.parametrize(
    ("path", "status", "explanation"),
    [
        ("/containers/gone/json", 404, "No such container: gone"),  # the JSON message
        ("/info", 500, "plain text trouble"),  # else the text
    ],
)
def test_an_error_answer_gives_the_daemons_message(
    daemon: FakeDaemon, path: str, status: int, explanation: str
) -> None:
    client = LocalClient(str(daemon.path), timeout=5)
    client.ping()
    with pytest.raises(APIError) as caught:
        client.get(path)
    assert (caught.value.status_code, caught.value.explanation) == (status, explanation)


@pytest.mark.parametrize(
    ("path", "timed_out", "message"),
    [
        ("/hang", True, "did not answer in time while trying to list things"),
        ("/drop", False, "lost the Docker daemon at "),
    ],
)
def test_no_answer_is_a_lost_or_a_slow_daemon(
    daemon: FakeDaemon, path: str, timed_out: bool, message: str
) -> None:
    client = LocalClient(str(daemon.path), timeout=0.3)
    client.ping()
    with pytest.raises(Unanswered) as caught:
        client.get(path)
    assert caught.value.timed_out is timed_out
    assert message in str(_lost("list things", caught.value))


@pytest.mark.parametrize(
    ("bound", "reason"),
    [(False, "No such file or directory"), (True, "Connection refused")],
)
def test_a_missing_or_refusing_socket_is_unanswered(
    tmp_path: Path, bound: bool, reason: str
) -> None:
    path = tmp_path / "d.sock"
    if bound:  # a socket file nobody listens on
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(path))
    with pytest.raises(Unanswered) as caught:
        LocalClient(str(path), timeout=1).ping()
    assert str(caught.value) == f"{path}: {reason}"
    assert caught.value.timed_out is False
