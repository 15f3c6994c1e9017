"""One apply per stack per daemon at a time, on this machine.

A ``flock`` on a file per (daemon, stack): the kernel releases it when the holder dies,
even by SIGKILL, so a killed apply never leaves a stale lock. The file records who holds
it (pid, host, command, time) for the message the second apply prints.

The daemon is known by its identity (its ID from ``GET /info``: see
``DockerEngine.identity``), not by how ``DOCKER_HOST`` spells its address, so
``unix:///run/docker.sock``, an unset ``DOCKER_HOST`` and a symlink to the socket share one
lock. The files live in one folder for the whole machine, whoever runs stackctl and
whatever its ``XDG_RUNTIME_DIR``: ``/run/lock/stackctl`` (or ``/tmp/stackctl-lock`` where
``/run/lock`` is not writable), sticky and writable by all like ``/tmp``, the files opened
without following symlinks; ``STACKCTL_LOCK_DIR`` picks another folder (tests, or a
deliberate separation). Processes on other machines that drive the same daemon are not
seen by this lock: :func:`hold_on_daemon` (below) holds one on the daemon too.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import stat
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from stackctl.errors import LockedError, StackctlError

MACHINE_DIRS = (Path("/run/lock/stackctl"), Path("/tmp/stackctl-lock"))
"""The machine-wide lock folder: the first whose parent this process may write in."""


def lock_dir() -> Path:
    base = os.environ.get("STACKCTL_LOCK_DIR")
    if base:
        return Path(base)
    for folder in MACHINE_DIRS:
        if folder.is_dir() or os.access(folder.parent, os.W_OK | os.X_OK):
            return folder
    return MACHINE_DIRS[-1]


def _lock_path(folder: Path, daemon: str, stack: str) -> Path:
    digest = hashlib.sha256(daemon.encode()).hexdigest()[:12]
    return folder / f"{digest}-{stack}.lock"


def _unsafe(message: str) -> StackctlError:
    return StackctlError(
        message,
        hint="remove it (as root) so stackctl makes it again, or set STACKCTL_LOCK_DIR to a "
        "folder only trusted users can write",
    )


def _shared_folder(folder: Path) -> None:
    """Make the machine-wide folder (sticky, writable by all, as /tmp) or check that the one
    found is safe: a real folder, owned by root or by us, sticky when others may write."""
    with contextlib.suppress(FileExistsError):
        folder.mkdir(parents=False, mode=0o700)
        os.chmod(folder, 0o1777)  # after mkdir: the umask would take bits off
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise _unsafe(f"the lock folder {folder} is not a folder (a symlink?)")
    if info.st_uid not in (0, os.getuid()):
        raise _unsafe(f"the lock folder {folder} belongs to uid {info.st_uid}")
    if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        raise _unsafe(f"the lock folder {folder} is writable by others and not sticky")


def _open(path: Path, shared: bool) -> tuple[int, bool]:
    """The lock file's descriptor (never through a symlink, a regular file only) and
    whether this process may write the holder's name in it."""
    flags = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    mode = 0o666 if shared else 0o600
    try:
        fd, writable = os.open(path, os.O_RDWR | os.O_CREAT | flags, mode), True
    except PermissionError:  # another user's file: lockable, not writable
        try:
            fd, writable = os.open(path, os.O_RDONLY | flags), False
        except OSError as e:
            raise _unsafe(f"cannot open the lock file {path}: {e.strerror}") from e
    except OSError as e:  # a symlink (ELOOP), a folder, ...
        raise _unsafe(f"cannot open the lock file {path}: {e.strerror}") from e
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _unsafe(f"the lock file {path} is not a regular file")
    if shared and writable and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != mode:
        os.fchmod(fd, mode)  # the umask took bits off: every user's stackctl must open it
    return fd, writable


@contextlib.contextmanager
def hold(daemon: str, stacks: Sequence[str], timeout: float = 0.0) -> Iterator[None]:
    """Hold the lock of every stack in ``stacks`` (sorted, so two runs never deadlock) on
    the daemon ``daemon`` (its identity: ``DockerEngine.identity()``).

    Waits up to ``timeout`` seconds for a holder to finish, then raises LockedError
    naming the holder.
    """
    folder = lock_dir()
    shared = not os.environ.get("STACKCTL_LOCK_DIR")
    if shared:
        _shared_folder(folder)
    else:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    held: list[tuple[int, bool]] = []
    try:
        for stack in sorted(set(stacks)):
            fd, writable = _open(_lock_path(folder, daemon, stack), shared)
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
            held.append((fd, writable))
            if writable:
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
        for fd, writable in held:
            with contextlib.suppress(OSError):
                if writable:
                    os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return "holder unknown"
    if not isinstance(data, dict) or not data:
        return "holder unknown"
    return (
        f"pid {data.get('pid')} on {data.get('host')} ({data.get('command')}), "
        f"since {data.get('since')}"
    )


# --------------------------------------------------------------------------- on the daemon
# Two machines that drive one daemon (DOCKER_HOST=ssh://..., a shared context) do not see
# each other's lock files: each apply also holds a lock on the daemon itself, a container
# named stackctl-lock-STACK that is created (never started) and removed at the end. The
# daemon reserves container names atomically, so of two creates one fails with a conflict.
# Its labels say who holds it. A holder on this host whose process is gone (killed) is
# stale and is removed by the next apply; any other is removed by hand:
# `docker rm stackctl-lock-STACK` (the error message says so).

LOCK_LABEL = "io.stackctl.lock"
HOLDER_LABEL = "io.stackctl.lock.holder"


class DaemonLocker(Protocol):
    def take_lock(self, name: str, labels: dict[str, str]) -> str | None: ...
    def lock_holder(self, name: str) -> tuple[str, dict[str, str]] | None: ...
    def drop_lock(self, container_id: str) -> None: ...


def daemon_lock_name(stack: str) -> str:
    return f"stackctl-lock-{stack}"


def _holder_info() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "user": _user(),
        "command": " ".join(sys.argv[:4]),
        "since": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return str(os.getuid())


def _stale(holder: dict[str, Any]) -> bool:
    """A holder on this host whose process no longer exists (a killed apply)."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "holder unknown"
    return (
        f"pid {holder.get('pid')} of {holder.get('user')} on {holder.get('host')} "
        f"({holder.get('command')}), since {holder.get('since')}"
    )


@contextlib.contextmanager
def hold_on_daemon(
    engine: DaemonLocker, stacks: Sequence[str], timeout: float = 0.0
) -> Iterator[None]:
    """Hold the daemon-side lock of every stack in ``stacks`` (sorted: no deadlock)."""
    taken: list[str] = []  # the lock containers' ids
    try:
        for stack in sorted(set(stacks)):
            name = daemon_lock_name(stack)
            labels = {LOCK_LABEL: stack, HOLDER_LABEL: json.dumps(_holder_info())}
            deadline = time.monotonic() + timeout
            while (lock_id := engine.take_lock(name, labels)) is None:
                found = engine.lock_holder(name)
                if found is None:
                    continue  # released between the two calls: try again
                other_id, found_labels = found
                try:
                    holder = json.loads(found_labels.get(HOLDER_LABEL) or "{}")
                except ValueError:
                    holder = {}
                if _stale(holder):
                    engine.drop_lock(other_id)  # by id: a lock taken since is kept
                    continue
                if time.monotonic() >= deadline:
                    raise LockedError(
                        f"stack {stack!r} is being changed through this daemon by another "
                        f"stackctl: {_describe(holder)}",
                        hint="wait for it to finish, or pass --lock-timeout SECONDS to wait; "
                        f"if that run is dead, remove its lock: docker rm {name}",
                    )
                time.sleep(0.5)
            taken.append(lock_id)
        yield
    finally:
        for lock_id in taken:
            engine.drop_lock(lock_id)
