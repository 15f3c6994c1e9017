"""Which daemon: engine/context.py resolves it as the docker CLI does (no daemon needed)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from stackctl.engine.context import resolve
from stackctl.errors import StackctlError


def _context(config: Path, name: str, host: str, tls: bool = False) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    endpoint = {"Host": host, "SkipTLSVerify": False}
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": endpoint}}))
    if tls:
        (config / "contexts" / "tls" / digest / "docker").mkdir(parents=True)


@pytest.mark.parametrize(
    ("env", "current", "expected"),
    [
        ({}, None, (None, "the socket unix:///var/run/docker.sock")),
        ({}, "lab", ("ssh://me@lab", "context 'lab' (ssh://me@lab)")),
        ({"DOCKER_HOST": "tcp://h:2375"}, "lab", (None, "DOCKER_HOST=tcp://h:2375")),
        ({"DOCKER_CONTEXT": "nas"}, "lab", ("tcp://nas:2376", "context 'nas' (tcp://nas:2376)")),
        (  # --context beats DOCKER_HOST, as docker --context does
            {"STACKCTL_CONTEXT": "nas", "DOCKER_HOST": "tcp://h:2375"},
            None,
            ("tcp://nas:2376", "context 'nas' (tcp://nas:2376)"),
        ),
        (
            {"DOCKER_CONTEXT": "default"},
            "lab",
            (None, "context 'default' (unix:///var/run/docker.sock)"),
        ),
    ],
)
def test_resolution_order(
    tmp_path: Path, env: dict[str, str], current: str | None, expected: tuple[str | None, str]
) -> None:
    _context(tmp_path, "lab", "ssh://me@lab")
    _context(tmp_path, "nas", "tcp://nas:2376", tls=True)
    if current:
        (tmp_path / "config.json").write_text(json.dumps({"currentContext": current}))
    target = resolve({"DOCKER_CONFIG": str(tmp_path), **env})
    assert (target.host, target.source) == expected
    assert (target.tls_dir is not None) == (target.host == "tcp://nas:2376")


def test_unknown_context_says_how_to_list_them(tmp_path: Path) -> None:
    with pytest.raises(StackctlError, match="docker context 'x' \\(DOCKER_CONTEXT\\)") as e:
        resolve({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "x"})
    assert "docker context ls" in str(e.value)
