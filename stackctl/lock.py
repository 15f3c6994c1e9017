"""One apply per stack per daemon at a time.

A ``flock`` on a file per (daemon, stack) under the lock folder: the kernel releases it
when the holder dies, even by SIGKILL, so a killed apply never leaves a stale lock. The
file records who holds it (pid, host, command, time) for the message the second apply
prints. Covers every stackctl process on this machine; processes on other machines that
drive the same remote daemon are not seen.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from stackctl.errors import LockedError


def lock_dir() -> Path:
    base = os.environ.get("STACKCTL_LOCK_DIR")
    if base:
        return Path(base)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "stackctl" if runtime else Path("/tmp") / f"stackctl-{os.getuid()}"


def _lock_path(daemon: str, stack: str) -> Path:
    digest = hashlib.sha256(daemon.encode()).hexdigest()[:12]
    return lock_dir() / f"{digest}-{stack}.lock"


@contextlib.contextmanager
def hold(daemon: str, stacks: Sequence[str], timeout: float = 0.0) -> Iterator[None]:
    """Hold the lock of every stack in ``stacks`` (sorted, so two runs never deadlock).

    Waits up to ``timeout`` seconds for a holder to finish, then raises LockedError
    naming the holder.
    """
    folder = lock_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    held: list[int] = []
    try:
        for stack in sorted(set(stacks)):
            path = _lock_path(daemon, stack)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = _read_holder(fd)
                        os.close(fd)
                        raise LockedError(
                            f"stack {stack!r} is being changed by another stackctl: {holder}",
                            hint="wait for it to finish, or pass --lock-timeout SECONDS to wait",
                        ) from None
                    time.sleep(0.2)
            held.append(fd)
            info = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "command": " ".join(sys.argv[:4]),
                "since": time.strftime("%Y-%m-%d %H:%M:%S"),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        yield
    finally:
        for fd in held:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return "holder unknown"
    if not data:
        return "holder unknown"
    return (
        f"pid {data.get('pid')} on {data.get('host')} ({data.get('command')}), "
        f"since {data.get('since')}"
    )
