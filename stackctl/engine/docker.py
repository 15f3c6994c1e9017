"""The only code that talks to a Docker daemon (through the docker SDK's low-level APIClient).

Reads return the Engine API's own JSON; writes take stackctl's desired specs. SDK and
transport exceptions become stackctl errors here (``raise ... from e``), with the
daemon's own message. Transient faults (connection reset, daemon restarting, a network
that still reports active endpoints) are retried with tenacity, bounded; real refusals
(a port in use, a missing image) are not.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import requests
from requests.sessions import merge_setting
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from stackctl import units
from stackctl.backends.docker.desired import ContainerNetwork, DesiredContainer
from stackctl.core.resources import DesiredNetwork, DesiredVolume
from stackctl.errors import DaemonError, DaemonUnavailableError

MULTI_NETWORK_CREATE = (1, 44)  # from this API version every network can be given at create


def _version_tuple(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


class _CountingClient(docker.APIClient):  # type: ignore[misc]
    """APIClient that counts the HTTP requests it makes (for tests and benchmarks)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        # TEST-ONLY fault injection (tests/integration/test_faults.py): SIGKILL this process
        # right after its k-th write request (any method but GET) has been answered.
        self._kill_after_writes = int(os.environ.get("STACKCTL_TEST_KILL_AFTER_WRITES") or 0)
        self._writes = 0
        super().__init__(*args, **kwargs)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        with self._calls_lock:
            self.calls[method.upper()] += 1
        response = super().request(method, url, *args, **kwargs)
        if self._kill_after_writes and method.upper() != "GET":
            self._test_kill_hook(f"{method} {url} {kwargs.get('params') or ''}")
        return response

    def _retrieve_server_version(self) -> str:
        """``version="auto"``: the daemon's API version from ``GET /_ping``'s API-Version header.

        The SDK asks ``GET /version`` instead, which makes the daemon run ``runc --version``
        and ``docker-init --version`` (Docker 20.10): 10-500 ms on a host busy with health
        checks, against 1 ms for the ping. Every command starts with this request.
        """
        try:
            response = self._get(self._url("/_ping", versioned_api=False))
            self._raise_for_status(response)
        except Exception as e:
            raise docker.errors.DockerException(
                f"Error while fetching server API version: {e}"
            ) from e
        version = response.headers.get("API-Version")
        if version:
            return str(version)
        return str(super()._retrieve_server_version())  # a daemon without the header

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """Over a local socket (``http+docker://``) no proxy or CA bundle applies, so skip
        requests' scan of the environment, which costs more CPU than the request itself."""
        if not url.startswith("http+docker://"):
            return dict(super().merge_environment_settings(url, proxies, stream, verify, cert))
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }

    def _test_kill_hook(self, request: str) -> None:  # TEST-ONLY, see __init__
        with self._calls_lock:
            self._writes += 1
            if self._writes == self._kill_after_writes:
                os.write(2, f"STACKCTL_TEST_KILL_AFTER_WRITES: {request}\n".encode())
                os.kill(os.getpid(), signal.SIGKILL)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.ReadTimeout):
        return True
    if isinstance(exc, docker.errors.APIError):
        status = exc.status_code or 0
        text = str(exc.explanation or "")
        return status in (502, 503) or "daemon is restarting" in text.lower()
    return False


def _has_active_endpoints(exc: BaseException) -> bool:
    return isinstance(exc, docker.errors.APIError) and "active endpoints" in str(exc.explanation)


def _daemon_error(action: str, exc: Exception) -> DaemonError:
    api = isinstance(exc, docker.errors.APIError)
    detail = str(exc.explanation or exc) if api else str(exc)  # type: ignore[attr-defined]
    return DaemonError(f"{action}: {detail}")


def _ref(container: str) -> str:
    """A container for a message: a full 64-digit id shortened as docker ps shows it."""
    return container[:12] if len(container) == 64 else container


# What a request ends with when the daemon does not answer: the connection failed or broke,
# or no answer came within the client's timeout (a daemon stuck or badly overloaded).
NO_ANSWER = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)


def _lost(action: str, exc: BaseException | None = None) -> DaemonUnavailableError:
    if isinstance(exc, requests.exceptions.Timeout) and not isinstance(
        exc, requests.exceptions.ConnectTimeout
    ):
        return DaemonUnavailableError(
            f"the Docker daemon at {describe_target()} did not answer in time while trying "
            f"to {action}",
            hint="it may be stuck or overloaded (does `docker info` answer?); once it answers, "
            "run the command again: it continues from where this stopped",
        )
    return DaemonUnavailableError(
        f"lost the Docker daemon at {describe_target()} while trying to {action}"
    )


def describe_target() -> str:
    host = os.environ.get("DOCKER_HOST")
    return f"DOCKER_HOST={host}" if host else "the socket unix:///var/run/docker.sock"


class DockerEngine:
    """One daemon, one client; thread-safe for the executor's worker threads."""

    name = "docker"

    def __init__(self, base_url: str | None = None, timeout: int = 120) -> None:
        # A connection per concurrent request: the executor's pool plus its waits (the SDK's
        # default of 10 would open and discard a connection per request beyond that).
        kwargs: dict[str, Any] = {"version": "auto", "timeout": timeout, "max_pool_size": 80}
        try:
            if base_url is not None:
                self.client = _CountingClient(base_url=base_url, **kwargs)
            else:
                params = docker.utils.kwargs_from_env()
                self.client = _CountingClient(**params, **kwargs)
        except docker.errors.DockerException as e:
            raise DaemonUnavailableError(
                f"no Docker daemon answered at {describe_target()}: {_short(e)}",
                hint="start the daemon (dockerd, or systemctl start docker), or point "
                "DOCKER_HOST at one",
            ) from e
        self._version = str(self.client.api_version)
        self._info: dict[str, Any] | None = None  # GET /info, read once when needed
        if os.environ.get("STACKCTL_COUNT_CALLS") == "1":
            atexit.register(self._print_counts)

    # ------------------------------------------------------------------ reads

    def api_version(self) -> str:
        return self._version

    def identity(self) -> str:
        """Who the daemon is, however its address was spelled (``DOCKER_HOST`` unset,
        ``unix:///run/docker.sock``, a symlink to the socket, a context, ``tcp://``): its
        ``ID`` from ``GET /info``, the key of the apply lock.

        Costs one ``GET /info``, which on Docker 20.10 makes the daemon run
        ``runc --version`` (30-200 ms measured on a busy host against 6-27 ms for
        ``/_ping``): asked only where a lock is taken (apply, destroy), never by plan.
        A daemon that reports no ID is known by its URL.
        """
        if self._info is None:
            self._info = dict(self._read("read daemon info", lambda: self.client.info()) or {})
        daemon_id = str(self._info.get("ID") or "")
        return f"id:{daemon_id}" if daemon_id else f"url:{self.client.base_url}"

    @property
    def multi_network_create(self) -> bool:
        return _version_tuple(self._version) >= MULTI_NETWORK_CREATE

    def call_counts(self) -> Counter[str]:
        return Counter(self.client.calls)

    def _print_counts(self) -> None:
        """``STACKCTL_COUNT_CALLS=1``: one line of Engine API calls per method on stderr."""
        counts = self.call_counts()
        methods = ["GET", "POST", "DELETE", *sorted(set(counts) - {"GET", "POST", "DELETE"})]
        text = " ".join(f"{m}={counts[m]}" for m in methods)
        print(f"api-calls: {text} total={sum(counts.values())}", file=sys.stderr, flush=True)

    def _read(self, action: str, fn: Callable[[], Any]) -> Any:
        try:
            for attempt in Retrying(
                retry=retry_if_exception(_is_transient),
                stop=stop_after_attempt(4),
                wait=wait_exponential(multiplier=0.2, max=2),
                reraise=True,
            ):
                with attempt:
                    return fn()
        except NO_ANSWER as e:
            raise _lost(action, e) from e
        except docker.errors.APIError as e:
            raise _daemon_error(action, e) from e
        raise AssertionError("unreachable")

    def list_containers(self) -> list[dict[str, Any]]:
        return list(self._read("list containers", lambda: self.client.containers(all=True)))

    def list_networks(self) -> list[dict[str, Any]]:
        return list(self._read("list networks", lambda: self.client.networks()))

    def list_volumes(self) -> list[dict[str, Any]]:
        data = self._read("list volumes", lambda: self.client.volumes())
        return list((data or {}).get("Volumes") or [])

    def list_images(self) -> list[dict[str, Any]]:
        return list(self._read("list images", lambda: self.client.images()))

    def inspect_container(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(
                self._read("inspect container", lambda: self.client.inspect_container(name))
            )
        except DaemonError as e:
            if "No such container" in str(e):
                return None
            raise

    def image_exists(self, ref: str) -> bool:
        try:
            self.client.inspect_image(ref)
            return True
        except docker.errors.ImageNotFound:
            return False
        except docker.errors.APIError as e:
            raise _daemon_error(f"inspect image {ref}", e) from e

    # ------------------------------------------------------------------ writes

    def _gone(self, action: str, fn: Callable[[], Any]) -> None:
        """A write whose target may already be gone (stop, remove): that is success."""
        try:
            fn()
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as e:
            raise _daemon_error(action, e) from e
        except NO_ANSWER as e:
            raise _lost(action, e) from e

    def _write(self, action: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except NO_ANSWER as e:
            raise _lost(action, e) from e
        except docker.errors.APIError as e:
            raise _daemon_error(action, e) from e

    def create_network(self, net: DesiredNetwork) -> str:
        ipam = None
        if net.ipam or net.ipam_driver != "default":
            ipam = {"Driver": net.ipam_driver, "Config": net.ipam, "Options": {}}
        body: dict[str, Any] = {
            "Name": net.name,
            "Driver": net.driver,
            "Options": net.options,
            "Internal": net.internal,
            "Attachable": net.attachable,
            "EnableIPv6": net.enable_ipv6,
            "Labels": net.labels,
            "CheckDuplicate": True,
        }
        if ipam is not None:
            body["IPAM"] = ipam
        url = self.client._url("/networks/create")
        result = self._write(
            f"create network {net.name}",
            lambda: self.client._result(self.client._post_json(url, data=body), json=True),
        )
        return str(result.get("Id", ""))

    # How long a network the daemon calls busy is retried: after many containers are
    # force-removed, Docker 20.10 can report "has active endpoints" for a while.
    network_busy_seconds = 20.0
    network_busy_backoff = 0.1

    def network_busy(self, exc: BaseException) -> bool:
        return _has_active_endpoints(exc)

    def remove_network(self, name: str) -> None:
        """Remove a network, retrying while the daemon calls it busy (``network_busy``)."""
        try:
            for attempt in Retrying(
                retry=retry_if_exception(lambda e: self.network_busy(e) or _is_transient(e)),
                stop=stop_after_delay(self.network_busy_seconds),
                wait=wait_exponential(multiplier=self.network_busy_backoff, max=2),
                reraise=True,
            ):
                with attempt:
                    self.client.remove_network(name)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as e:
            if _has_active_endpoints(e):
                raise DaemonError(
                    f"remove network {name}: the daemon still reports active endpoints "
                    f"({e.explanation}) although no container is attached",
                    hint="this is a known Docker engine fault; restarting the daemon clears "
                    "it, and the next stackctl run finishes the job",
                ) from e
            raise _daemon_error(f"remove network {name}", e) from e
        except NO_ANSWER as e:
            raise _lost(f"remove network {name}", e) from e

    def connect(self, container: str, net: ContainerNetwork) -> None:
        self._write(
            f"connect {_ref(container)} to {net.name}",
            lambda: self.client.connect_container_to_network(
                container,
                net.name,
                aliases=list(net.aliases) or None,
                ipv4_address=net.ipv4_address,
                ipv6_address=net.ipv6_address,
            ),
        )

    def disconnect(self, container: str, network: str) -> None:
        self._write(
            f"disconnect {_ref(container)} from {network}",
            lambda: self.client.disconnect_container_from_network(container, network, force=True),
        )

    def create_volume(self, vol: DesiredVolume) -> None:
        self._write(
            f"create volume {vol.name}",
            lambda: self.client.create_volume(
                name=vol.name, driver=vol.driver, driver_opts=vol.driver_opts, labels=vol.labels
            ),
        )

    def remove_volume(self, name: str) -> None:
        self._gone(f"remove volume {name}", lambda: self.client.remove_volume(name))

    def pull(self, image: str, progress: Callable[[str], None] | None = None) -> None:
        repo, tag, digest = units.split_image(image)
        try:
            stream = self.client.pull(repo, tag=digest or tag or "latest", stream=True, decode=True)
            for event in stream:
                if "error" in event:
                    raise DaemonError(f"pull {image}: {event['error']}")
                if progress is not None and event.get("status"):
                    detail = event.get("progress") or ""
                    progress(f"{event['status']} {detail}".strip())
        except docker.errors.APIError as e:
            raise _daemon_error(f"pull {image}", e) from e
        except NO_ANSWER as e:
            raise _lost(f"pull {image}", e) from e

    def create_container(self, dc: DesiredContainer, name: str) -> str:
        """Create ``dc`` as ``name`` on all its networks (below API 1.44: the first one now,
        the others connected here before the container is started)."""
        config = container_config(dc, all_networks=self.multi_network_create)
        platform: str | None = dc.spec.get("platform")
        result = self._write(
            f"create container {name}",
            lambda: self.client.create_container_from_config(config, name, platform),
        )
        cid = str(result["Id"])
        if not self.multi_network_create:
            for net in dc.networks[1:]:
                self.connect(cid, net)
        return cid

    def start(self, container: str) -> None:
        self._write(f"start {_ref(container)}", lambda: self.client.start(container))

    def unpause(self, container: str) -> None:
        self._write(f"unpause {_ref(container)}", lambda: self.client.unpause(container))

    def stop(self, container: str, timeout: int = 10) -> None:
        self._gone(f"stop {_ref(container)}", lambda: self.client.stop(container, timeout=timeout))

    def remove_container(self, container: str) -> None:
        try:
            self.client.remove_container(container, force=True)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as e:
            if "is already in progress" in str(e.explanation):
                return
            raise _daemon_error(f"remove container {_ref(container)}", e) from e
        except NO_ANSWER as e:
            raise _lost(f"remove container {_ref(container)}", e) from e

    def rename(self, container: str, name: str) -> None:
        self._write(
            f"rename {_ref(container)} to {name}", lambda: self.client.rename(container, name)
        )

    def events(
        self, filters: dict[str, list[str]], since: float, until: float
    ) -> Iterator[dict[str, Any]]:
        """Daemon events matching ``filters`` from ``since`` to ``until`` (wall-clock seconds)."""
        stream = None
        try:  # opening the stream fails too while the daemon is down (restarting)
            stream = self.client.events(
                since=f"{since:.9f}", until=f"{until:.9f}", filters=filters, decode=True
            )
            yield from stream
        except NO_ANSWER as e:
            raise _lost("follow its events", e) from e
        finally:
            if stream is not None:
                stream.close()

    def close(self) -> None:
        self.client.close()


def _short(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__


def container_config(dc: DesiredContainer, *, all_networks: bool) -> dict[str, Any]:
    """The Engine API body of ``POST /containers/create`` for ``dc``."""
    cfg = dc.spec  # real values (dc.config, stored in the label, has secrets as digests)
    # Typed locals: a misspelt key reads as ``object`` and mypy refuses it.
    cap_add: list[str] | None = cfg.get("cap_add")
    cap_drop: list[str] | None = cfg.get("cap_drop")
    privileged: bool | None = cfg.get("privileged")
    read_only: bool | None = cfg.get("read_only")
    extra_hosts: dict[str, str] = cfg.get("extra_hosts", {})
    dns: list[str] | None = cfg.get("dns")
    dns_search: list[str] | None = cfg.get("dns_search")
    init: bool | None = cfg.get("init")
    sysctls: dict[str, str] | None = cfg.get("sysctls")
    security_opt: list[str] | None = cfg.get("security_opt")
    devices: list[str] = cfg.get("devices", [])
    shm_size: int | None = cfg.get("shm_size")
    command: list[str] | None = cfg.get("command")
    entrypoint: list[str] | None = cfg.get("entrypoint")
    hostname: str | None = cfg.get("hostname")
    domainname: str | None = cfg.get("domainname")
    user: str | None = cfg.get("user")
    working_dir: str | None = cfg.get("working_dir")
    stop_signal: str | None = cfg.get("stop_signal")
    tty: bool | None = cfg.get("tty")
    stdin_open: bool | None = cfg.get("stdin_open")
    expose: list[str] = cfg.get("expose", [])
    restart: str = cfg.get("restart", "no")
    binds: list[str] = []
    mounts: list[dict[str, Any]] = []
    for m in cfg.get("mounts", []):
        if m["type"] == "bind" and m.get("create_host_path", True):
            # The legacy Binds form: the daemon creates a missing source folder.
            binds.append(f"{m['source']}:{m['target']}:{'ro' if m.get('read_only') else 'rw'}")
        elif m["type"] == "bind":
            # Mounts form: a missing source fails the create instead of becoming a folder.
            mounts.append(
                {
                    "Type": "bind",
                    "Source": m["source"],
                    "Target": m["target"],
                    "ReadOnly": bool(m.get("read_only")),
                }
            )
        elif m["type"] == "volume":
            mount: dict[str, Any] = {
                "Type": "volume",
                "Target": m["target"],
                "ReadOnly": bool(m.get("read_only")),
            }
            if m.get("source"):
                mount["Source"] = m["source"]
            if m.get("nocopy"):
                mount["VolumeOptions"] = {"NoCopy": True}
            mounts.append(mount)
        else:
            tmpfs: dict[str, Any] = {"Type": "tmpfs", "Target": m["target"]}
            if m.get("tmpfs_size"):
                tmpfs["TmpfsOptions"] = {"SizeBytes": m["tmpfs_size"]}
            mounts.append(tmpfs)

    exposed: dict[str, dict[str, Any]] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for p in cfg.get("ports", []):
        key = f"{p['target']}/{p['protocol']}"
        exposed[key] = {}
        bindings.setdefault(key, []).append(
            {
                "HostIp": p.get("host_ip") or "",
                "HostPort": str(p["published"]) if p.get("published") is not None else "",
            }
        )
    for e in expose:
        exposed.setdefault(e if "/" in str(e) else f"{e}/tcp", {})

    name, _, count = restart.partition(":")
    restart_policy: dict[str, Any] = {"Name": "" if name == "no" else name}
    if count:
        restart_policy["MaximumRetryCount"] = int(count)

    resources = cfg.get("resources", {})
    host: dict[str, Any] = {
        "Binds": binds,
        "Mounts": mounts,
        "PortBindings": bindings,
        "RestartPolicy": restart_policy,
        "CapAdd": cap_add or None,
        "CapDrop": cap_drop or None,
        "Privileged": bool(privileged),
        "ReadonlyRootfs": bool(read_only),
        "ExtraHosts": [f"{h}:{ip}" for h, ip in extra_hosts.items()] or None,
        "Dns": dns or None,
        "DnsSearch": dns_search or None,
        "Init": init,
        "Sysctls": sysctls or None,
        "SecurityOpt": security_opt or None,
        "Devices": [_device(d) for d in devices] or None,
    }
    if "nano_cpus" in resources:
        host["NanoCpus"] = resources["nano_cpus"]
    if "memory" in resources:
        host["Memory"] = resources["memory"]
    if "memory_reservation" in resources:
        host["MemoryReservation"] = resources["memory_reservation"]
    if "pids_limit" in resources:
        host["PidsLimit"] = resources["pids_limit"]
    if "memory_swap" in resources:
        host["MemorySwap"] = resources["memory_swap"]
    if "cpu_shares" in resources:
        host["CpuShares"] = resources["cpu_shares"]
    if "cpu_quota" in resources:
        host["CpuQuota"] = resources["cpu_quota"]
    if "cpu_period" in resources:
        host["CpuPeriod"] = resources["cpu_period"]
    if "cpuset_cpus" in resources:
        host["CpusetCpus"] = resources["cpuset_cpus"]
    ulimits = cfg.get("ulimits", [])
    if ulimits:
        host["Ulimits"] = [
            {"Name": u["name"], "Soft": u["soft"], "Hard": u["hard"]} for u in ulimits
        ]
    runtime: str | None = cfg.get("runtime")
    oom_score_adj: int | None = cfg.get("oom_score_adj")
    group_add: list[str] = cfg.get("group_add", [])
    userns_mode: str | None = cfg.get("userns_mode")
    cgroup_parent: str | None = cfg.get("cgroup_parent")
    storage_opt: dict[str, str] = cfg.get("storage_opt", {})
    host.update(
        {
            "Runtime": runtime,
            "OomScoreAdj": oom_score_adj,
            "GroupAdd": group_add or None,
            "IpcMode": dc.ipc,
            "PidMode": dc.pid,
            "UsernsMode": userns_mode,
            "CgroupParent": cgroup_parent,
            "StorageOpt": storage_opt or None,
        }
    )
    if shm_size:
        host["ShmSize"] = shm_size
    logging = cfg.get("logging")
    if logging:
        host["LogConfig"] = {
            "Type": logging.get("driver") or "json-file",
            "Config": logging.get("options") or {},
        }

    endpoints: dict[str, Any] = {}
    for net in dc.networks if all_networks else dc.networks[:1]:
        endpoint: dict[str, Any] = {"Aliases": list(net.aliases)}
        ipam: dict[str, str] = {}
        if net.ipv4_address:
            ipam["IPv4Address"] = net.ipv4_address
        if net.ipv6_address:
            ipam["IPv6Address"] = net.ipv6_address
        if ipam:
            endpoint["IPAMConfig"] = ipam
        endpoints[net.name] = endpoint
    if dc.network_mode is not None:  # host, none, bridge, container:NAME: no endpoints
        host["NetworkMode"] = dc.network_mode
        endpoints = {}
    elif dc.networks:
        host["NetworkMode"] = dc.networks[0].name

    body: dict[str, Any] = {
        "Image": dc.image,
        "Cmd": command,
        "Entrypoint": entrypoint,
        "Env": [f"{k}={v}" for k, v in sorted(dc.env.items())],
        "Hostname": hostname,
        "Domainname": domainname,
        "User": user,
        "WorkingDir": working_dir,
        "Labels": dc.labels,
        "ExposedPorts": exposed or None,
        "StopSignal": stop_signal,
        "Tty": bool(tty),
        "OpenStdin": bool(stdin_open),
        "HostConfig": {k: v for k, v in host.items() if v is not None},
        "NetworkingConfig": {"EndpointsConfig": endpoints},
    }
    grace = cfg.get("stop_grace_period")
    if grace is not None:
        body["StopTimeout"] = max(1, int(grace // 1_000_000_000))
    hc = cfg.get("healthcheck")
    if hc is not None:
        health: dict[str, Any] = {"Test": hc.get("test", [])}
        if "interval" in hc:
            health["Interval"] = hc["interval"]
        if "timeout" in hc:
            health["Timeout"] = hc["timeout"]
        if "start_period" in hc:
            health["StartPeriod"] = hc["start_period"]
        if "start_interval" in hc:
            health["StartInterval"] = hc["start_interval"]
        if "retries" in hc:
            health["Retries"] = hc["retries"]
        body["Healthcheck"] = health
    return {k: v for k, v in body.items() if v is not None}


def _device(spec: str) -> dict[str, str]:
    parts = spec.split(":")
    host = parts[0]
    inside = parts[1] if len(parts) > 1 else host
    perms = parts[2] if len(parts) > 2 else "rwm"
    return {"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": perms}
