"""The host the containers run on: files beside the stack, and what a container may reach.

missing-env-file, relabel-anonymous-volume (errors); bind-outside-stack, docker-socket, host-root,
sensitive-host-path, host-devices, privileged, dangerous-capability, unconfined-profile,
exposed-database-port (warnings). Every bind source is judged by where it points on the
host: relative to the stack's folder, its spelling normalized, symlinks resolved.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stackctl.model import Stack
from stackctl.rules.core import ANY_HOST, ERROR, WARNING, Finding, Rule, each_stack


def _missing_env_files(stack: Stack) -> Iterator[Finding]:
    """An ``env_file`` that does not exist (relative paths from the stack's folder)."""
    for svc in stack.services.values():
        for i, name in enumerate(svc.env_file):
            path = Path(name).expanduser()
            full = path if path.is_absolute() else stack.base_dir / path
            if not full.is_file():
                yield Finding(
                    stack,
                    f"services.{svc.name}.env_file.{i}",
                    f"env file '{name}' of service '{svc.name}' does not exist (looked for {full})",
                    "create it, or fix the path (relative paths start at the stack's folder)",
                )


# --------------------------------------------------------------------------- bind sources


@dataclass(frozen=True)
class _Bind:
    """A host path a service mounts: a bind mount, or a named volume that is a bind in
    disguise (local driver, ``o: bind``, ``device: PATH``)."""

    service: str
    path: str  # attribute path of the mount: ``services.web.volumes.0``
    source: str  # as written
    spelled: str  # the absolute path as written (see _spelled), no symlink followed
    host: str  # where it points on the host, symlinks followed (see _host_path)
    read_only: bool

    @property
    def via_symlink(self) -> bool:
        """A symlink on this machine changed where it points."""
        return self.host != self.spelled


_PROC_ROOT = re.compile(r"^/proc/(?:\d+|self|thread-self)/root(?=/|$)")


def _spelled(path: str) -> str:
    """One spelling of an absolute host path: slashes collapsed, ``.``/``..`` folded, the
    host root seen through ``/proc/<pid>/root`` dropped, ``/var/run`` as ``/run``."""
    path = os.path.normpath("/" + path.lstrip("/"))
    while True:
        bare = _PROC_ROOT.sub("", path, count=1)
        if bare == path:
            break
        path = os.path.normpath("/" + bare.lstrip("/"))
    if path == "/var/run" or path.startswith("/var/run/"):
        path = "/run" + path.removeprefix("/var/run")
    return path


def _host_path(stack: Stack, source: str) -> tuple[str, str]:
    """A bind source as an absolute path (spelled), and where it points on the host.

    Relative sources start at the stack's folder, ``~`` is the user's home. Symlinks that
    exist on this machine are resolved (``os.path.realpath``): a link inside the stack's
    folder that leads out of it, or to the Docker socket, is judged by where it leads.
    """
    raw = os.path.expanduser(source)
    if not raw.startswith("/"):
        raw = os.path.join(os.path.abspath(stack.base_dir), raw)
    text = _spelled(raw)
    try:
        real = _spelled(os.path.realpath(text))
    except (OSError, ValueError):
        real = text
    return text, real


def _binds(stack: Stack) -> Iterator[_Bind]:
    """Every host path the stack's services mount."""
    for svc in stack.services.values():
        for i, mount in enumerate(svc.volumes):
            source = mount.source or ""
            if mount.type == "volume" and source in stack.volumes:
                vol = stack.volumes[source]
                opts = vol.driver_opts
                if vol.external or vol.driver not in (None, "local"):
                    continue
                flags = {f.strip() for f in opts.get("o", "").split(",")}
                if not flags & {"bind", "rbind"} or not opts.get("device"):
                    continue
                source = opts["device"]
            elif mount.type != "bind" or not source:
                continue
            spelled, host = _host_path(stack, source)
            yield _Bind(
                svc.name, f"services.{svc.name}.volumes.{i}", source, spelled, host,
                mount.read_only,
            )  # fmt: skip


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _binds_outside_stack(stack: Stack) -> Iterator[Finding]:
    """A relative bind source that leaves the stack's folder (``../../etc``, or a symlink
    inside the folder that points out of it).

    Relative paths promise "beside the stack"; one that leaves the folder may be a mistake,
    and one that reaches ``/etc`` is a surprise in review. A warning, not an error: Compose
    runs such files (``../shared/config.yaml`` beside a project folder is common), and so
    does stackctl; ``--strict`` refuses them. Symlinks that exist on
    this machine are followed (the source itself may not exist yet). Absolute and ``~``
    paths say what they mean and are allowed.
    """
    base = _spelled(os.path.realpath(os.path.abspath(stack.base_dir)))
    for b in _binds(stack):
        if b.source.startswith(("/", "~")) or _within(b.host, base):
            continue
        how = "through a symlink, " if b.via_symlink else ""
        yield Finding(
            stack,
            b.path,
            f"bind mount source '{b.source}' of service '{b.service}' resolves {how}to "
            f"{b.host}, outside the stack's folder {base}",
            f"use an absolute path ('{b.host}') if you really mean a host path, or keep "
            "the data inside the stack's folder",
        )


# The sockets of the daemons that run containers, as _spelled() writes them; a bind of one
# (or of a folder that holds one) gives the container the daemon, which is root on the host.
_SOCKETS = ("/run/docker.sock", "/run/containerd/containerd.sock", "/run/podman/podman.sock")
_ROOTLESS_RUNTIME = re.compile(r"/run/user(?:/\d+)?")
_SOCKET_NAMES = frozenset(os.path.basename(s) for s in _SOCKETS)
_SOCKET_PROXY_HINT = (
    "even read-only, the socket lets it call the whole API; a socket proxy "
    "(e.g. tecnativa/docker-socket-proxy) limits what it may call"
)


def _socket_in(host: str) -> str | None:
    """The daemon socket a host path is or holds (rootless daemons' too), else None."""
    if os.path.basename(host) in _SOCKET_NAMES:
        return host
    if host == "/":
        return None  # host-root says it
    for sock in _SOCKETS:
        if _within(sock, host):
            return sock
    if _ROOTLESS_RUNTIME.fullmatch(host):  # a rootless daemon's $XDG_RUNTIME_DIR/docker.sock
        return f"{host}/docker.sock" if host != "/run/user" else "/run/user/UID/docker.sock"
    return None


def _docker_socket(stack: Stack) -> Iterator[Finding]:
    """The Docker socket (under any spelling: ``//var/run/docker.sock``, ``/run``,
    ``/proc/1/root/run/docker.sock``, a symlink to it, a folder that holds it) mounted
    into a container gives it control of the host."""
    for b in _binds(stack):
        sock = _socket_in(b.host)
        if sock is None:
            continue
        how = "read-only" if b.read_only else "read-write"
        what = "the Docker socket" if sock == b.host else f"{b.host}, which holds the socket {sock}"
        yield Finding(
            stack,
            b.path,
            f"service '{b.service}' mounts {what} {how} (source '{b.source}'): it can control "
            "the Docker daemon, which is root on the host",
            _SOCKET_PROXY_HINT
            if b.read_only and sock == b.host
            else "mount the socket file itself, read-only (:ro), if the service only watches "
            "containers; " + _SOCKET_PROXY_HINT,
        )


def _host_root(stack: Stack) -> Iterator[Finding]:
    """The host's root folder mounted into a container: every file of the host."""
    for b in _binds(stack):
        if b.host != "/":
            continue
        how = "read-only" if b.read_only else "read-write: it can change any file of the host"
        yield Finding(
            stack,
            b.path,
            f"service '{b.service}' mounts the host's root folder (source '{b.source}') "
            f"{how}, the Docker socket and every secret on the host included",
            "mount only the folders it needs, read-only (:ro)",
        )


# Host paths whose contents are the host's secrets, its software or its kernel: a bind of
# one, of a path inside one, or of a folder holding one (``/etc`` holds ``/etc/shadow``).
SENSITIVE_PATHS = (
    "/etc/shadow", "/etc/gshadow", "/etc/passwd", "/etc/group", "/etc/sudoers",
    "/etc/sudoers.d", "/etc/ssh", "/etc/docker", "/etc/systemd", "/etc/cron.d",
    "/etc/crontab", "/etc/pam.d", "/etc/kubernetes", "/root/.ssh", "/root/.docker",
    "/boot", "/proc", "/sys", "/usr", "/bin", "/sbin", "/lib", "/lib64",
    "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet",
)  # fmt: skip


def _sensitive(host: str) -> str | None:
    if host == "/":
        return None  # host-root says it
    for path in SENSITIVE_PATHS:
        if _within(host, path) or _within(path, host):
            return path
    return None


def _sensitive_host_paths(stack: Stack) -> Iterator[Finding]:
    """A bind of the host's secrets (``/etc/shadow``, ``/root``, ``/etc/ssh``), its software
    (``/usr``, ``/var/lib/docker``) or its kernel's views (``/proc``, ``/sys``)."""
    for b in _binds(stack):
        if _socket_in(b.host) is not None:
            continue
        # Where symlinks lead when the container may write there or the link sits in the
        # stack's folder, else as written (a read-only /etc/localtime that leads into
        # /usr/share/zoneinfo is no risk).
        resolve = not b.read_only or not b.source.startswith(("/", "~"))
        host = b.host if resolve and not _sensitive(b.spelled) else b.spelled
        path = _sensitive(host)
        if path is None:
            continue
        holds = "" if _within(host, path) else f", which holds {path}"
        how = "read-only" if b.read_only else "read-write"
        yield Finding(
            stack,
            b.path,
            f"service '{b.service}' mounts the host's {host}{holds} {how} (source "
            f"'{b.source}'): it reaches the host's secrets, software or kernel",
            "mount only the file it needs (e.g. /etc/localtime:ro), or copy what it needs "
            "into the stack's folder",
        )


# Devices that are the host's memory, disks or every device at once.
_RAW_DEVICE = re.compile(
    r"^/dev(?:/(?:mem|kmem|port|sd[a-z]+\d*|hd[a-z]+\d*|vd[a-z]+\d*|xvd[a-z]+\d*"
    r"|nvme\d+(?:n\d+(?:p\d+)?)?|mmcblk\d+(?:p\d+)?|dm-\d+|mapper(?:/.*)?|disk(?:/.*)?"
    r"|loop\d+|md\d+|block(?:/.*)?))?$"
)


def _host_devices(stack: Stack) -> Iterator[Finding]:
    """``/dev`` mounted whole, or a raw device (memory, a disk) as a bind or in ``devices``."""
    for b in _binds(stack):
        if _RAW_DEVICE.match(b.host):
            what = "every host device" if b.host == "/dev" else f"the raw device {b.host}"
            yield Finding(
                stack,
                b.path,
                f"service '{b.service}' mounts {what} (source '{b.source}'): it can read and "
                "write the host's disks or memory",
                "map only the device it needs, in `devices:` (e.g. /dev/dri for a GPU)",
            )
    for svc in stack.services.values():
        for i, device in enumerate(svc.devices):
            host = _spelled(device.split(":", 1)[0])
            if _RAW_DEVICE.match(host):
                yield Finding(
                    stack,
                    f"services.{svc.name}.devices.{i}",
                    f"service '{svc.name}' maps the host device {host}: it can read and "
                    "write the host's disks or memory",
                    "map only the device it needs; a disk partition for its data is better "
                    "mounted on the host and bound as a folder",
                )


def _privileged(stack: Stack) -> Iterator[Finding]:
    """A privileged container has every capability and every host device."""
    for svc in stack.services.values():
        if svc.privileged:
            yield Finding(
                stack,
                f"services.{svc.name}.privileged",
                f"service '{svc.name}' runs privileged: it has every capability and can reach "
                "all host devices",
                "grant only what it needs with cap_add and devices",
            )


# Capabilities that are the host: every one, or one with a known way out of a container
# (mount and cgroup tricks, kernel modules, raw I/O, reading any file by handle).
ESCAPE_CAPABILITIES = frozenset({"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "DAC_READ_SEARCH"})


def _dangerous_capabilities(stack: Stack) -> Iterator[Finding]:
    """``cap_add: [ALL]`` (as good as privileged) or a capability that breaks out."""
    for svc in stack.services.values():
        for i, cap in enumerate(svc.cap_add):
            name = cap.strip().upper().removeprefix("CAP_")
            if name not in ESCAPE_CAPABILITIES:
                continue
            what = "every capability" if name == "ALL" else f"capability {name}"
            yield Finding(
                stack,
                f"services.{svc.name}.cap_add.{i}",
                f"service '{svc.name}' is given {what}: with it a process in the container "
                "can take over the host",
                "add only the capabilities it needs (e.g. NET_BIND_SERVICE, CHOWN)",
            )


def _unconfined(option: str) -> str | None:
    """The confinement a ``security_opt`` entry turns off, if it turns one off."""
    key, _, value = option.strip().lower().replace(":", "=", 1).partition("=")
    key, value = key.strip(), value.strip()
    if key in ("seccomp", "apparmor", "systempaths") and value == "unconfined":
        return {"seccomp": "the seccomp filter", "apparmor": "the AppArmor profile",
                "systempaths": "the masks on /proc and /sys"}[key]  # fmt: skip
    if key == "label" and value == "disable":
        return "SELinux labelling"
    return None


def _unconfined_profiles(stack: Stack) -> Iterator[Finding]:
    """``security_opt`` that turns off seccomp, AppArmor, SELinux labels or the masked
    system paths (``seccomp=unconfined``, ``apparmor:unconfined``, ``label=disable``,
    ``systempaths=unconfined``)."""
    for svc in stack.services.values():
        for i, option in enumerate(svc.security_opt):
            what = _unconfined(option)
            if what is None:
                continue
            yield Finding(
                stack,
                f"services.{svc.name}.security_opt.{i}",
                f"service '{svc.name}' turns off {what} ('{option}'): one of the walls "
                "between the container and the host is gone",
                "drop it; if a system call is refused, allow that one in a seccomp profile "
                "of your own (seccomp=./profile.json)",
            )


DATABASE_PORTS = frozenset(
    {5432, 3306, 27017, 6379, 9200, 5984, 1433, 1521, 26257, 8086, 11211, 9042}
)


def _exposed_database_ports(stack: Stack) -> Iterator[Finding]:
    """A database port published on every interface of the host."""
    for svc in stack.services.values():
        for i, port in enumerate(svc.ports):
            if not port.published or port.host_ip not in ANY_HOST:
                continue
            if port.target not in DATABASE_PORTS and port.published not in DATABASE_PORTS:
                continue
            yield Finding(
                stack,
                f"services.{svc.name}.ports.{i}",
                f"service '{svc.name}' publishes database port {port.published} on all "
                "interfaces of the host",
                f"bind it to localhost ('127.0.0.1:{port.published}:{port.target}') or drop it "
                "and reach the service by name on a shared network",
            )


def _relabel_anonymous_volumes(stack: Stack) -> Iterator[Finding]:
    """SELinux relabel (``:z``, ``:Z``) needs a source: the Engine API relabels only in its
    Binds form, ``SOURCE:TARGET:z``, which an anonymous volume does not have."""
    for svc in stack.services.values():
        for i, m in enumerate(svc.volumes):
            if m.selinux and m.type == "volume" and not m.source:
                empty = m.source == ""
                yield Finding(
                    stack,
                    f"services.{svc.name}.volumes.{i}",
                    (
                        f"the volume at {m.target} has an empty source (an unset variable?)"
                        if empty
                        else f"the anonymous volume at {m.target} asks for SELinux relabel"
                    )
                    + f" with :{m.selinux}; relabel needs a host path or a named volume",
                    "set the variable, or give the volume a name (or drop :z/:Z)",
                )


RULES: tuple[Rule, ...] = (
    Rule("missing-env-file", ERROR, "env_file does not exist", each_stack(_missing_env_files)),
    Rule("relabel-anonymous-volume", ERROR, "SELinux relabel (:z, :Z) on a volume without source",
         each_stack(_relabel_anonymous_volumes)),
    Rule("bind-outside-stack", WARNING, "relative bind source outside the stack's folder",
         each_stack(_binds_outside_stack)),
    Rule("docker-socket", WARNING, "Docker socket mounted (any spelling, or a folder holding it)",
         each_stack(_docker_socket)),
    Rule("host-root", WARNING, "the host's root folder mounted", each_stack(_host_root)),
    Rule("sensitive-host-path", WARNING, "host secrets, software or kernel paths mounted",
         each_stack(_sensitive_host_paths)),
    Rule("host-devices", WARNING, "/dev or a raw host device mapped", each_stack(_host_devices)),
    Rule("privileged", WARNING, "privileged container", each_stack(_privileged)),
    Rule("dangerous-capability", WARNING, "cap_add ALL or a capability that breaks out",
         each_stack(_dangerous_capabilities)),
    Rule("unconfined-profile", WARNING, "seccomp, AppArmor or SELinux turned off",
         each_stack(_unconfined_profiles)),
    Rule("exposed-database-port", WARNING, "database port on all interfaces",
         each_stack(_exposed_database_ports)),
)  # fmt: skip
