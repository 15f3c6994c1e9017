"""A Docker daemon that a test owns, so the test may restart it (never the user's daemon).

The host's own dockerd binary runs with everything of its own, beside the host engine
without touching it:

* its own network namespace (``ip netns add sctpd-...``; a dockerd in the host's network
  namespace would meddle with the host engine's bridges), with ``--bridge=none``,
  ``--iptables=false`` and ``--ip-masq=false`` on top;
* its own mount namespace (``unshare -m --propagation private``), so the mounts it makes
  vanish with it, and a tmpfs on /run/containerd there: dockerd 20.10 attaches to a
  *system* containerd when /run/containerd/containerd.sock exists, and would share it with
  the host; with the tmpfs it always starts its own (under ``--exec-root``);
* its own ``--data-root``, ``--exec-root``, ``--pidfile``, ``-H unix://`` socket,
  ``--config-file`` (empty: the host's /etc/docker/daemon.json is not read) and
  ``--cgroup-parent``, all named after one short random id.

``restart()`` stops it with SIGTERM (it stops its containers, as a host's daemon upgrade
does without live-restore) and starts it again with the same arguments. ``close()`` tears
everything down, and is safe to call after a failure at any point.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import docker

CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "sctpd-"


class PrivateDaemonError(RuntimeError):
    pass


class PrivateDaemon:
    def __init__(self) -> None:
        reap_leftovers()
        # The creator's pid is in the name, so a later run can tell a leftover of a run
        # that was killed (SIGKILL skips every finalizer) from one still in use.
        self.id = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"
        # Short paths: unix socket paths under --exec-root must stay below 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix=f"{self.id}.", dir="/tmp"))
        self.netns = self.id
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.root / "dockerd.log"
        self.restarts = 0
        (self.root / "daemon.json").write_text("{}\n")

    @property
    def url(self) -> str:
        return f"unix://{self.root}/docker.sock"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def argv(self) -> list[str]:
        r = self.root
        dockerd = [
            shutil.which("dockerd") or "/usr/sbin/dockerd",
            "-H",
            self.url,
            "--data-root",
            f"{r}/data",
            "--exec-root",
            f"{r}/exec",
            "--pidfile",
            f"{r}/docker.pid",
            "--config-file",
            f"{r}/daemon.json",
            "--cgroup-parent",
            f"/{self.id}",
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
        ]
        script = (
            "if [ -d /run/containerd ]; then mount -t tmpfs -o mode=711 tmpfs /run/containerd; fi; "
            'exec "$@"'
        )
        return [
            "nsenter",
            f"--net=/var/run/netns/{self.netns}",
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-ec",
            script,
            "sh",
            *dockerd,
        ]

    # ------------------------------------------------------------------ lifecycle

    def start(self, image_source: str | None = None, images: tuple[str, ...] = ()) -> None:
        """Start it (and load ``images`` from the daemon at ``image_source``)."""
        if not Path(f"/var/run/netns/{self.netns}").exists():
            _run(["ip", "netns", "add", self.netns])
            _run(["ip", "-n", self.netns, "link", "set", "lo", "up"])
        with self.log.open("ab") as log:
            log.write(f"==== start {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.argv(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()
        if not Path(f"{self.root}/exec/containerd/containerd.sock").exists():
            raise PrivateDaemonError("private dockerd did not start a containerd of its own")
        for image in images:
            self._load(image, image_source)

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise PrivateDaemonError(
                    f"private dockerd exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            if self.answers():
                return
            time.sleep(0.2)
        raise PrivateDaemonError(
            f"private dockerd did not answer in {timeout}s:\n{self.log_tail()}"
        )

    def answers(self) -> bool:
        if not Path(self.url.removeprefix("unix://")).exists():
            return False
        try:
            api = docker.APIClient(base_url=self.url, version="auto", timeout=5)
        except docker.errors.DockerException:
            return False
        try:
            return bool(api.ping())
        except Exception:
            return False
        finally:
            api.close()

    def _load(self, image: str, source: str | None) -> None:
        host = ["-H", source] if source else []
        save = subprocess.Popen(["docker", *host, "save", image], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "-H", self.url, "load", "-q"],
            stdin=save.stdout,
            capture_output=True,
            timeout=120,
        )
        assert save.stdout is not None
        save.stdout.close()
        if save.wait(timeout=120) != 0 or load.returncode != 0:
            raise PrivateDaemonError(f"docker save {image} | docker load: {load.stderr!r}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, as a service manager stops it; SIGKILL only if it hangs."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        # Its containerd (and shims) go with it; wait so the next start finds a clean slate.
        deadline = time.monotonic() + 15
        while self._netns_pids() and time.monotonic() < deadline:
            time.sleep(0.1)

    def restart(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1

    def close(self) -> None:
        """Tear down: the daemon, anything left in its namespace, the namespace, the files."""
        with contextlib.suppress(Exception):
            self.stop()
        _teardown(self.id, self.root)

    def _netns_pids(self) -> list[int]:
        return _netns_pids(self.netns)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _netns_pids(netns: str) -> list[int]:
    if not Path(f"/var/run/netns/{netns}").exists():
        return []
    out = subprocess.run(
        ["ip", "netns", "pids", netns], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def _teardown(daemon_id: str, root: Path) -> None:
    """Whatever is left of the daemon ``daemon_id``: processes in its network namespace
    (only its dockerd, containerd, shims and containers live there), the namespace, its
    files and mounts, its cgroups."""
    pidfile = root / "docker.pid"
    pid = pidfile.read_text().strip() if pidfile.exists() else ""
    if pid.isdigit() and _is_our_dockerd(int(pid), root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGTERM)  # it stops its containers on its way out
            deadline = time.monotonic() + 30
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.2)
    in_cgroups = {
        int(p)
        for procs in CGROUP_ROOT.glob(f"*/{daemon_id}/**/cgroup.procs")
        for p in procs.read_text().split()
    }
    for pid in {*_netns_pids(daemon_id), *in_cgroups}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if Path(f"/var/run/netns/{daemon_id}").exists():
        subprocess.run(["ip", "netns", "del", daemon_id], check=False)
    for mount in reversed(_mounts_under(root)):
        subprocess.run(["umount", "-l", mount], check=False)
    shutil.rmtree(root, ignore_errors=True)
    for d in CGROUP_ROOT.glob(f"*/{daemon_id}"):
        for sub in sorted(d.glob("**/"), key=lambda p: len(str(p)), reverse=True):
            with contextlib.suppress(OSError):
                sub.rmdir()


def _is_our_dockerd(pid: int, root: Path) -> bool:
    """``pid`` is still the dockerd that ran from ``root`` (not a pid reused since)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return Path(cmdline[0].decode()).name == "dockerd" and f"{root}/data".encode() in cmdline


def reap_leftovers() -> None:
    """Tear down private daemons whose creating test process is gone (it was killed)."""
    for ns in Path("/var/run/netns").glob(f"{PREFIX}*"):
        creator = ns.name.removeprefix(PREFIX).split("-")[0]
        if not creator.isdigit() or Path(f"/proc/{creator}").exists():
            continue
        for root in Path("/tmp").glob(f"{ns.name}.*"):
            _teardown(ns.name, root)
        _teardown(ns.name, Path("/nonexistent"))


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PrivateDaemonError(f"{' '.join(argv)}: {proc.stderr.strip()}")


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root)
    with open("/proc/self/mounts") as f:
        points = [line.split()[1] for line in f]
    return [p for p in points if p == prefix or p.startswith(prefix + "/")]
