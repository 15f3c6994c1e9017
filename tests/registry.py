"""A real registry for the image-update tests: Debian's ``docker-registry`` (the CNCF
distribution registry) on 127.0.0.1 (the daemon speaks plain HTTP to 127.0.0.0/8 without
configuration), one open and one behind htpasswd (bcrypt) auth. Started once per session
(the ``registries`` fixture), stopped and its storage removed at the end.
``scripts/install-test-tools.sh`` installs the packages (scripts/test.sh runs it)."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER, PASSWORD = "stackctl", "registry-test-password"


@dataclass(frozen=True)
class Registry:
    host: str  # 127.0.0.1:PORT
    auth: dict[str, str] | None  # docker SDK auth_config for the private one

    def docker_config(self, folder: Path) -> Path:
        """A DOCKER_CONFIG folder whose config.json holds this registry's credentials, as
        `docker login` writes them (without a credential helper)."""
        folder.mkdir(parents=True, exist_ok=True)
        auths = {}
        if self.auth:
            token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            auths[self.host] = {"auth": token}
        (folder / "config.json").write_text(json.dumps({"auths": auths}))
        return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(root: Path, name: str, private: bool) -> tuple[subprocess.Popen[bytes], Registry]:
    port = _free_port()
    folder = root / name
    folder.mkdir()
    auth = ""
    if private:
        subprocess.run(
            ["htpasswd", "-Bbc", str(folder / "htpasswd"), USER, PASSWORD],
            check=True,
            capture_output=True,
        )
        auth = f"auth:\n  htpasswd:\n    realm: stackctl-test\n    path: {folder / 'htpasswd'}\n"
    (folder / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + auth
    )
    log = open(folder / "log", "wb")  # noqa: SIM115 - the registry's, closed with it
    proc = subprocess.Popen(
        ["docker-registry", "serve", str(folder / "config.yml")], stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError as e:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                why = (folder / "log").read_text()
                raise RuntimeError(f"docker-registry did not start: {why}") from e
            time.sleep(0.1)
    creds = {"username": USER, "password": PASSWORD} if private else None
    return proc, Registry(f"127.0.0.1:{port}", creds)


@pytest.fixture(scope="session")
def registries() -> Iterator[tuple[Registry, Registry]]:
    """(open, private) registries for the whole session."""
    if shutil.which("docker-registry") is None or shutil.which("htpasswd") is None:
        raise RuntimeError("docker-registry / htpasswd missing: run scripts/install-test-tools.sh")
    root = Path(tempfile.mkdtemp(prefix="stackctl-registry-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        open_proc, open_reg = _start(root, "open", private=False)
        procs.append(open_proc)
        private_proc, private_reg = _start(root, "private", private=True)
        procs.append(private_proc)
        yield open_reg, private_reg
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(root, ignore_errors=True)
