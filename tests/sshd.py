"""A real sshd for DOCKER_HOST=ssh:// tests: Debian's openssh-server on 127.0.0.1 with its
own sshd_config, host key and test key in a temporary folder (as root, the tests' user),
started once per session (``sshd`` fixture) and stopped at the end. ``ssh_env`` is what a
stackctl process needs to reach the host's daemon through it: a ``ssh`` wrapper first on
PATH that adds the test key and skips host-key checks (the SDK runs ``ssh``).
``scripts/install-test-tools.sh`` installs openssh-server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Sshd:
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        """A stackctl process's environment that reaches the daemon through this sshd."""
        env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
        env["PATH"] = f"{self.folder / 'bin'}:{env.get('PATH', '')}"
        return {**env, **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def sshd() -> Iterator[Sshd]:
    if not Path("/usr/sbin/sshd").exists() or shutil.which("ssh") is None:
        raise RuntimeError("sshd / ssh missing: run scripts/install-test-tools.sh")
    folder = Path(tempfile.mkdtemp(prefix="stackctl-sshd-"))
    port = _free_port()
    keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
    subprocess.run([*keygen, "-f", str(folder / "host_key")], check=True)
    subprocess.run([*keygen, "-f", str(folder / "id_test")], check=True)
    shutil.copy(folder / "id_test.pub", folder / "authorized_keys")
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\n"
        f"PidFile {folder / 'sshd.pid'}\nAuthorizedKeysFile {folder / 'authorized_keys'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nMaxStartups 100\n"
        "MaxSessions 100\n"
    )
    (folder / "ssh_config").write_text(
        f"Host *\n  IdentityFile {folder / 'id_test'}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
        "  BatchMode yes\n"
    )
    (folder / "bin").mkdir()
    wrapper = folder / "bin" / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {folder / "ssh_config"} "$@"\n')
    wrapper.chmod(0o755)
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
    log = open(folder / "log", "wb")  # noqa: SIM115 - sshd's, closed with it
    proc = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(folder / "sshd_config")], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError as e:
                if proc.poll() is not None or time.monotonic() > deadline:
                    why = (folder / "log").read_text()
                    raise RuntimeError(f"sshd did not start: {why}") from e
                time.sleep(0.1)
        yield Sshd(port, folder)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
