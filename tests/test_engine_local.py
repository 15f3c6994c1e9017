"""Reads over a local unix socket (stackctl/engine/local.py), without a daemon: which
daemons get them, the URLs, the daemon's error messages and what a missing or silent socket
gives (tests/integration/test_local_reads.py reads from the real engine)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from stackctl.engine.context import Target
from stackctl.engine.docker import _lost
from stackctl.engine.local import (
    LocalClient,
    Unanswered,
    _explanation,
    api_path,
    local_socket,
)

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


@pytest.mark.parametrize(
    ("body", "explanation"),
    [
        (b'{"message": "No such container: gone"}\n', "No such container: gone"),  # JSON
        (b"plain text trouble\n", "plain text trouble"),  # else the text
        (b"", "HTTP 500"),  # else the status
    ],
)
def test_an_error_answer_gives_the_daemons_message(body: bytes, explanation: str) -> None:
    assert _explanation(body, 500) == explanation


@pytest.mark.parametrize(
    ("timed_out", "message"),
    [
        (True, "did not answer in time while trying to list things"),
        (False, "lost the Docker daemon at "),
    ],
)
def test_no_answer_is_a_lost_or_a_slow_daemon(timed_out: bool, message: str) -> None:
    assert message in str(_lost("list things", Unanswered("x", timed_out=timed_out)))


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
