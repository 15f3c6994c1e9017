"""The apply lock without a daemon: one folder for the machine, keyed by the daemon's
identity, never stale after a SIGKILL, never written through a symlink.

The daemon side (an identity read from GET /info, two spellings of one socket) is in
tests/integration/test_faults.py.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackctl import lock
from stackctl.errors import LockedError, StackctlError

ROOT = Path(__file__).resolve().parent.parent
DAEMON = "id:HDRS:LKH5:G76O"


@pytest.fixture
def machine_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The machine-wide folder, moved under tmp_path (STACKCTL_LOCK_DIR unset)."""
    monkeypatch.delenv("STACKCTL_LOCK_DIR", raising=False)
    folder = tmp_path / "run-lock" / "stackctl"
    folder.parent.mkdir()
    monkeypatch.setattr(lock, "MACHINE_DIRS", (folder, tmp_path / "fallback"))
    return folder


HOLDER = """
import os, sys, time
os.environ.pop("STACKCTL_LOCK_DIR", None)
from pathlib import Path
from stackctl import lock
lock.MACHINE_DIRS = (Path(sys.argv[1]), Path(sys.argv[1]))
with lock.hold(sys.argv[2], [sys.argv[3]]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(machine_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process, with another XDG_RUNTIME_DIR, holding stack ``app`` on DAEMON."""
    env = {**os.environ, "XDG_RUNTIME_DIR": "/run/user/4242", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(machine_dir), DAEMON, "app"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_the_folder_does_not_depend_on_the_runtime_dir(
    machine_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = set()
    for runtime in ("/run/user/0", "/run/user/1000", ""):
        monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
        seen.add(lock.lock_dir())
    assert seen == {machine_dir}
    monkeypatch.setenv("STACKCTL_LOCK_DIR", "/somewhere/else")
    assert lock.lock_dir() == Path("/somewhere/else")


def test_the_folder_is_sticky_and_open_to_all_like_tmp(machine_dir: Path) -> None:
    with lock.hold(DAEMON, ["app"]):
        pass
    assert stat.S_IMODE(machine_dir.stat().st_mode) == 0o1777
    (f,) = machine_dir.iterdir()
    assert stat.S_IMODE(f.stat().st_mode) == 0o666


def test_another_process_with_another_runtime_dir_is_refused_naming_it(
    holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    with pytest.raises(LockedError) as err, lock.hold(DAEMON, ["app"]):
        pass
    assert f"pid {holder.pid} " in str(err.value)
    with lock.hold("id:another-daemon", ["app"]), lock.hold(DAEMON, ["other-stack"]):
        pass  # another daemon, or another stack: not the holder's lock


def test_a_waiting_apply_gets_the_lock_when_the_holder_is_killed(
    holder: subprocess.Popen[str],
) -> None:
    def kill_soon() -> None:
        time.sleep(0.5)
        os.kill(holder.pid, signal.SIGKILL)

    threading.Thread(target=kill_soon).start()
    t0 = time.monotonic()
    with lock.hold(DAEMON, ["app"], timeout=30):
        assert time.monotonic() - t0 < 10


def test_a_killed_holder_leaves_no_stale_lock(holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with lock.hold(DAEMON, ["app"], timeout=0):
        pass


def test_a_symlink_planted_at_the_lock_file_is_refused_and_its_target_untouched(
    machine_dir: Path, tmp_path: Path
) -> None:
    machine_dir.mkdir(mode=0o1777)
    os.chmod(machine_dir, 0o1777)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (machine_dir / lock._lock_path(machine_dir, DAEMON, "app").name).symlink_to(victim)
    with (
        pytest.raises(StackctlError, match="cannot open the lock file"),
        lock.hold(DAEMON, ["app"]),
    ):
        pass
    assert victim.read_text() == "precious"


def test_an_unsafe_folder_is_refused(machine_dir: Path, tmp_path: Path) -> None:
    machine_dir.mkdir()
    os.chmod(machine_dir, 0o777)  # writable by all, not sticky: files could be swapped
    with pytest.raises(StackctlError, match="not sticky"), lock.hold(DAEMON, ["app"]):
        pass
    machine_dir.rmdir()
    machine_dir.symlink_to(tmp_path)
    with pytest.raises(StackctlError, match="not a folder"), lock.hold(DAEMON, ["app"]):
        pass
