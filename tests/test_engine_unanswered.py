"""A daemon that stops answering mid-run: the error says so in words, never as a repr.

The "daemon" here is a unix socket that answers the version handshake (``/_ping``) and
then goes quiet, which is how a stuck dockerd looks to a client (seen with Docker 20.10
under load). A real daemon cannot be made to hang on purpose, so this one test uses a
silent socket.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackctl.engine.docker import DockerEngine
from stackctl.errors import DaemonUnavailableError

VERSION = json.dumps({"ApiVersion": "1.41", "Version": "20.10.24", "MinAPIVersion": "1.12"})


def _serve(server: socket.socket, stop: threading.Event) -> None:
    held: list[socket.socket] = []
    server.settimeout(0.1)
    while not stop.is_set():
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                break
            request += chunk
        if b" /_ping " in request:  # the handshake: the API version is a response header
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nAPI-Version: 1.41\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 2\r\n\r\nOK"
            )
            conn.close()
        elif b" /version " in request:
            body = VERSION.encode()
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            conn.close()
        else:
            held.append(conn)  # read, never answered
    for conn in held:
        conn.close()


@pytest.fixture
def silent_daemon(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "docker.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(8)
    stop = threading.Event()
    thread = threading.Thread(target=_serve, args=(server, stop), daemon=True)
    thread.start()
    yield f"unix://{path}"
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_a_write_the_daemon_never_answers(silent_daemon: str) -> None:
    engine = DockerEngine(base_url=silent_daemon, timeout=1)
    with pytest.raises(DaemonUnavailableError) as caught:
        engine.remove_container("sbxsilent-web-1")
    text = str(caught.value)
    assert "did not answer in time while trying to remove container sbxsilent-web-1" in text
    assert "run the command again" in text
    assert "ReadTimeout" not in text


def test_a_read_the_daemon_never_answers(silent_daemon: str) -> None:
    engine = DockerEngine(base_url=silent_daemon, timeout=1)
    with pytest.raises(DaemonUnavailableError) as caught:
        engine.list_networks()
    assert "did not answer in time while trying to list networks" in str(caught.value)
