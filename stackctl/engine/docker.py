"""The only code that talks to a Docker daemon.

Reads over the local socket use engine/local.py (the standard library: a no-change plan
against a local daemon never imports the docker SDK); everything else the SDK's low-level
APIClient (engine/sdk.py, created on first use): writes, streams, builds, pulls, logs,
exec, events, registry calls, and every request to a tcp://, ssh:// or TLS daemon.

Reads return the Engine API's own JSON; writes take stackctl's desired specs. SDK and
transport exceptions become stackctl errors here (``raise ... from e``), with the
daemon's own message. Transient faults (connection reset, daemon restarting, a network
that still reports active endpoints) are retried with tenacity, bounded; real refusals
(a port in use, a missing image) are not.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import io
import os
import signal
import sys
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from stackctl import units
from stackctl.backends.docker.desired import (
    ConfigCopy,
    ContainerNetwork,
    DesiredContainer,
    MountConfig,
)
from stackctl.core.build import DesiredBuild
from stackctl.core.resources import DesiredNetwork, DesiredVolume
from stackctl.engine import local
from stackctl.engine.context import Target, resolve
from stackctl.engine.lazy import Attributes
from stackctl.errors import DaemonError, DaemonUnavailableError, StackctlError
from stackctl.model.build import shown_url

if TYPE_CHECKING:
    import docker.errors as docker_errors
    import requests.exceptions as requests_exceptions

    from stackctl.engine.sdk import CountingClient
else:
    # The SDK's exceptions, imported on first use: an SDK request, or the check of an
    # exception that is not engine/local.py's (a read over the local socket makes neither).
    docker_errors = Attributes("docker.errors")
    requests_exceptions = Attributes("requests.exceptions")

MULTI_NETWORK_CREATE = (1, 44)  # from this API version every network can be given at create


def _version_tuple(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, local.Unanswered):
        return True
    if isinstance(exc, local.APIError):
        return exc.status_code in (502, 503) or "daemon is restarting" in exc.explanation.lower()
    if isinstance(exc, requests_exceptions.ConnectionError | requests_exceptions.ReadTimeout):
        return True
    if isinstance(exc, docker_errors.APIError):
        status = exc.status_code or 0
        text = str(exc.explanation or "")
        return status in (502, 503) or "daemon is restarting" in text.lower()
    return False


def _has_active_endpoints(exc: BaseException) -> bool:
    return isinstance(exc, docker_errors.APIError) and "active endpoints" in str(exc.explanation)


def _daemon_error(action: str, exc: Exception) -> DaemonError:
    if isinstance(exc, local.APIError):  # checked first: no SDK import for it
        return DaemonError(f"{action}: {exc.explanation or exc}")
    api = isinstance(exc, docker_errors.APIError)
    detail = str(exc.explanation or exc) if api else str(exc)  # type: ignore[attr-defined]
    return DaemonError(f"{action}: {detail}")


def _ref(container: str) -> str:
    """A container for a message: a full 64-digit id shortened as docker ps shows it."""
    return container[:12] if len(container) == 64 else container


def no_answer() -> tuple[type[BaseException], ...]:
    """What an SDK request ends with when the daemon does not answer (engine/sdk.py's
    ``NO_ANSWER``), for ``except no_answer():`` (evaluated only when something is raised)."""
    from stackctl.engine.sdk import NO_ANSWER

    return NO_ANSWER


def _lost(action: str, exc: BaseException | None = None) -> DaemonUnavailableError:
    if _timed_out(exc):
        return DaemonUnavailableError(
            f"the Docker daemon at {describe_target()} did not answer in time while trying "
            f"to {action}",
            hint="it may be stuck or overloaded (does `docker info` answer?); once it answers, "
            "run the command again: it continues from where this stopped",
        )
    return DaemonUnavailableError(
        f"lost the Docker daemon at {describe_target()} while trying to {action}"
    )


def _timed_out(exc: BaseException | None) -> bool:
    """No answer came in time (a connection that could not be made is not that)."""
    if exc is None:
        return False
    if isinstance(exc, local.Unanswered):
        return exc.timed_out
    return isinstance(exc, requests_exceptions.Timeout) and not isinstance(
        exc, requests_exceptions.ConnectTimeout
    )


# The SDK's base_url for any unix socket (a daemon without an ID is known by it).
LOCAL_BASE_URL = "http+docker://localhost"


def describe_target() -> str:
    try:
        return resolve().source
    except StackctlError:
        return "an unknown docker context"


SSH_HINT = (
    "stackctl runs your ssh client (your ~/.ssh/config, keys and agent), then `docker system "
    "dial-stdio` on the remote host: check that `ssh USER@HOST docker version` works there"
)


class DockerEngine:
    """One daemon, one client; thread-safe for the executor's worker threads."""

    name = "docker"

    def __init__(self, base_url: str | None = None, timeout: int = 120) -> None:
        self._target = Target(base_url, base_url or "") if base_url is not None else resolve()
        self._timeout = timeout
        self._client: CountingClient | None = None  # the SDK's, see ``client``
        self._client_lock = threading.Lock()
        path = local.local_socket(self._target)
        self._local = local.LocalClient(path, timeout) if path is not None else None
        if self._local is not None:
            try:
                self._version = self._local.ping()
            except (local.Unanswered, local.APIError) as e:
                raise self._unanswered(f"Error while fetching server API version: {e}") from e
        else:
            self._version = str(self._sdk_client("auto").api_version)
        self._info: dict[str, Any] | None = None  # GET /info, read once when needed
        if os.environ.get("STACKCTL_COUNT_CALLS") == "1":
            atexit.register(self._print_counts)

    @property
    def client(self) -> CountingClient:
        """The SDK's client, made on first use with the API version already agreed."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    return self._sdk_client(self._version)
        assert self._client is not None
        return self._client

    def _sdk_client(self, version: str) -> CountingClient:
        """Make the SDK's client (``client``, from now on) for ``version``."""
        from stackctl.engine.sdk import CountingClient, client_kwargs

        # A connection per concurrent request: the executor's pool plus its waits (the SDK's
        # default of 10 would open and discard a connection per request beyond that).
        kwargs: dict[str, Any] = {"version": version, "timeout": self._timeout}
        try:
            client = CountingClient(**client_kwargs(self._target), **kwargs, max_pool_size=80)
        except docker_errors.DockerException as e:
            raise self._unanswered(_short(e)) from e
        self._client = client
        return client

    def _unanswered(self, detail: str) -> DaemonUnavailableError:
        target = self._target
        return DaemonUnavailableError(
            f"no Docker daemon answered at {target.source}: {detail}",
            hint=SSH_HINT
            if target.ssh or os.environ.get("DOCKER_HOST", "").startswith("ssh://")
            else "start the daemon (dockerd, or systemctl start docker), or point "
            "DOCKER_HOST (or a docker context) at one",
        )

    def _get(
        self,
        action: str,
        sdk: Callable[[CountingClient], Any],
        path: str,
        *args: str,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """A read: ``GET path`` over the local socket when there is one, else ``sdk``'s
        call of the SDK client (the same request); retried as ``_read`` does."""
        if self._local is not None:
            client = self._local
            return self._read(action, lambda: client.get(path, *args, params=params))
        return self._read(action, lambda: sdk(self.client))

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
            info = self._get("read daemon info", lambda c: c.info(), "/info")
            self._info = dict(info or {})
        daemon_id = str(self._info.get("ID") or "")
        if daemon_id:
            return f"id:{daemon_id}"
        return f"url:{LOCAL_BASE_URL if self._local is not None else self.client.base_url}"

    @property
    def multi_network_create(self) -> bool:
        return _version_tuple(self._version) >= MULTI_NETWORK_CREATE

    def call_counts(self) -> Counter[str]:
        """Requests made so far, by method: over the local socket and through the SDK."""
        counts: Counter[str] = Counter()
        if self._local is not None:
            counts.update(self._local.calls)
        if self._client is not None:
            counts.update(self._client.calls)
        return counts

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
        except local.Unanswered as e:
            raise _lost(action, e) from e
        except local.APIError as e:
            raise _daemon_error(action, e) from e
        except no_answer() as e:
            raise _lost(action, e) from e
        except docker_errors.APIError as e:
            raise _daemon_error(action, e) from e
        raise AssertionError("unreachable")

    def list_containers(self) -> list[dict[str, Any]]:
        # The query the SDK's ``containers(all=True)`` sends.
        query = {"limit": -1, "all": 1, "size": 0, "trunc_cmd": 0}
        found = self._get(
            "list containers", lambda c: c.containers(all=True), "/containers/json", params=query
        )
        return list(found)

    def list_networks(self) -> list[dict[str, Any]]:
        return list(self._get("list networks", lambda c: c.networks(), "/networks"))

    def list_volumes(self) -> list[dict[str, Any]]:
        data = self._get("list volumes", lambda c: c.volumes(), "/volumes")
        return list((data or {}).get("Volumes") or [])

    def list_images(self) -> list[dict[str, Any]]:
        query = {"only_ids": 0, "all": 0}  # as the SDK's ``images()``
        return list(self._get("list images", lambda c: c.images(), "/images/json", params=query))

    def inspect_container(self, name: str) -> dict[str, Any] | None:
        try:
            raw = self._get(
                "inspect container",
                lambda c: c.inspect_container(name),
                "/containers/{0}/json",
                name,
            )
            return dict(raw)
        except DaemonError as e:
            if "No such container" in str(e):
                return None
            raise

    def inspect_containers(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Id -> ``GET /containers/{id}/json`` of each of ``ids`` that still exists, eight
        at a time (about 2 ms each on a local socket; see README, Performance)."""
        if not ids:
            return {}
        with ThreadPoolExecutor(max_workers=min(8, len(ids))) as pool:
            found = list(pool.map(self.inspect_container, ids))
        return {cid: raw for cid, raw in zip(ids, found, strict=True) if raw is not None}

    def inspect_images(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Id -> ``GET /images/{id}/json`` of each of ``ids`` still there (what an image
        gives its containers by default: adoption compares without it)."""
        out: dict[str, dict[str, Any]] = {}
        for iid in ids:
            raw = self._inspect_image(iid)
            if raw is not None:
                out[iid] = raw
        return out

    def _inspect_image(self, iid: str) -> dict[str, Any] | None:
        try:
            raw = self._get(
                f"inspect image {iid[:19]}", lambda c: c.inspect_image(iid), "/images/{0}/json", iid
            )
            return dict(raw)
        except DaemonError as e:
            if "No such image" in str(e):
                return None
            raise

    def registry_digest(self, image: str) -> str:
        """The digest the registry has now for ``image`` (``GET /distribution/{name}/json``:
        the daemon asks the registry, with the credentials of the docker CLI's config, as
        ``docker pull`` would; they are sent in a header and never printed)."""
        data = self._read(
            f"ask the registry about {image}", lambda: self.client.inspect_distribution(image)
        )
        return str(((data or {}).get("Descriptor") or {}).get("digest") or "")

    def registry_digests(self, images: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Image -> registry digest for each of ``images`` (eight at a time), and image ->
        why the registry could not tell (unreachable, unknown, refused)."""
        digests: dict[str, str] = {}
        errors: dict[str, str] = {}

        def ask(image: str) -> None:
            try:
                digest = self.registry_digest(image)
            except DaemonError as e:
                errors[image] = e.message.split(": ", 1)[-1]
                return
            if digest:
                digests[image] = digest
            else:
                errors[image] = "the registry returned no digest"

        with ThreadPoolExecutor(max_workers=min(8, len(images) or 1)) as pool:
            list(pool.map(ask, images))
        return digests, errors

    def image_exists(self, ref: str) -> bool:
        try:
            self.client.inspect_image(ref)
            return True
        except docker_errors.ImageNotFound:
            return False
        except docker_errors.APIError as e:
            raise _daemon_error(f"inspect image {ref}", e) from e

    # ------------------------------------------------------------------ writes

    def _gone(self, action: str, fn: Callable[[], Any]) -> None:
        """A write whose target may already be gone (stop, remove): that is success."""
        try:
            fn()
        except docker_errors.NotFound:
            return
        except docker_errors.APIError as e:
            raise _daemon_error(action, e) from e
        except no_answer() as e:
            raise _lost(action, e) from e

    def _write(self, action: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except no_answer() as e:
            raise _lost(action, e) from e
        except docker_errors.APIError as e:
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
        except docker_errors.NotFound:
            return
        except docker_errors.APIError as e:
            if _has_active_endpoints(e):
                raise DaemonError(
                    f"remove network {name}: the daemon still reports active endpoints "
                    f"({e.explanation}) although no container is attached",
                    hint="this is a known Docker engine fault; restarting the daemon clears "
                    "it, and the next stackctl run finishes the job",
                ) from e
            raise _daemon_error(f"remove network {name}", e) from e
        except no_answer() as e:
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
        except docker_errors.APIError as e:
            raise _daemon_error(f"pull {image}", e) from e
        except no_answer() as e:
            raise _lost(f"pull {image}", e) from e

    def build(self, spec: DesiredBuild, progress: Callable[[str], None] | None = None) -> None:
        """Build ``spec`` with the daemon's builder and tag it; a failed step is an error
        naming the step (``Step 3/5 : RUN make``) and the builder's last lines. A remote
        context (``spec.remote``) is fetched by the daemon (it runs ``git`` for a Git URL);
        a failed fetch is an error naming the URL."""
        from stackctl.engine.build_context import context_tar

        action = f"build {spec.image}"
        source: dict[str, Any]
        if spec.remote is not None:
            source = {"path": spec.remote}
            context: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        else:
            try:
                tar = context_tar(Path(spec.context), spec.dockerfile, spec.dockerfile_text)
            except OSError as e:
                raise DaemonError(f"{action}: cannot read the build context: {e}") from e
            source = {"fileobj": tar, "custom_context": True}
            context = tar
        step = ""
        tail: list[str] = []
        try:
            with context:
                stream = self.client.build(
                    **source,
                    tag=spec.image,
                    dockerfile=spec.dockerfile,
                    buildargs=dict(spec.args) or None,
                    target=spec.target,
                    labels=spec.labels,
                    nocache=spec.no_cache,
                    pull=spec.pull,
                    network_mode=spec.network,
                    shmsize=spec.shm_size,
                    extra_hosts=dict(spec.extra_hosts) or None,
                    cache_from=list(spec.cache_from) or None,
                    rm=True,
                    forcerm=True,
                    decode=True,
                )
                for event in stream:
                    if "error" in event or "errorDetail" in event:
                        detail = event.get("errorDetail") or {}
                        message = str(event.get("error") or detail.get("message") or "")
                        if spec.remote is not None and not step:
                            raise _fetch_failure(action, spec.remote, message)
                        raise DaemonError(_build_failure(action, step, tail, message))
                    for line in str(event.get("stream") or "").splitlines():
                        if not line.strip():
                            continue
                        if line.startswith("Step "):
                            step = line.strip()
                            tail = []
                            if progress is not None:
                                progress(step)
                        elif not line.lstrip().startswith(_BUILD_NOISE):
                            tail = [*tail[-4:], line.rstrip()]
        except docker_errors.APIError as e:
            if spec.remote is not None and not step:
                raise _fetch_failure(action, spec.remote, str(e.explanation or e)) from e
            raise _daemon_error(action, e) from e
        except no_answer() as e:
            raise _lost(action, e) from e

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
        self.copy_configs(cid, name, dc.copies)
        return cid

    def copy_configs(self, cid: str, name: str, copies: Sequence[ConfigCopy]) -> None:
        """Copy ``content:``/``environment:`` configs into the created, not yet started
        container (as Compose does). If the copy fails the container is removed, so that
        none stands with the wanted config hash and without its files."""
        if not copies:
            return
        try:
            self._write(
                f"copy configs into {name}",
                lambda: self.client.put_archive(cid, "/", config_archive(copies)),
            )
        except StackctlError:
            self.remove_container(cid)
            raise

    # ---------------------------------------------------------------- the daemon-side lock

    def take_lock(self, name: str, labels: dict[str, str]) -> str | None:
        """Create the never-started container ``name`` (the daemon reserves a container
        name atomically: of two creates, one gets 409 Conflict): its id, or None when it
        exists."""
        images = self.list_images()
        if not images:
            raise DaemonError(
                "the daemon has no image at all to make its apply lock from",
                hint="pull any small image on it (docker pull busybox), then apply again",
            )
        body = {
            "Image": str(images[0]["Id"]),
            "Cmd": ["stackctl-lock"],
            "Labels": labels,
            "HostConfig": {"NetworkMode": "none"},
        }
        try:
            result = self.client.create_container_from_config(body, name)
        except docker_errors.APIError as e:
            if e.status_code == 409:
                return None
            raise _daemon_error(f"create the lock {name}", e) from e
        except no_answer() as e:
            raise _lost(f"create the lock {name}", e) from e
        return str(result["Id"])

    def lock_holder(self, name: str) -> tuple[str, dict[str, str]] | None:
        """The lock container ``name``'s id and labels, or None when there is none."""
        raw = self.inspect_container(name)
        if raw is None:
            return None
        return str(raw.get("Id", "")), dict((raw.get("Config") or {}).get("Labels") or {})

    def drop_lock(self, container_id: str) -> None:
        """Remove the lock by its id (not its name: a lock taken since stays)."""
        self.remove_container(container_id)

    def update_container(self, container: str, dc: DesiredContainer) -> None:
        """``POST /containers/{id}/update``: ``dc``'s restart policy and limits, in place."""
        body = update_config(dc)
        url = self.client._url("/containers/{0}/update", container)
        self._write(
            f"update {_ref(container)}",
            lambda: self.client._result(self.client._post_json(url, data=body), json=True),
        )

    def start(self, container: str) -> None:
        self._write(f"start {_ref(container)}", lambda: self.client.start(container))

    def unpause(self, container: str) -> None:
        self._write(f"unpause {_ref(container)}", lambda: self.client.unpause(container))

    def stop(self, container: str, timeout: int = 10) -> None:
        self._gone(f"stop {_ref(container)}", lambda: self.client.stop(container, timeout=timeout))

    def remove_container(self, container: str) -> None:
        try:
            self.client.remove_container(container, force=True)
        except docker_errors.NotFound:
            return
        except docker_errors.APIError as e:
            if "is already in progress" in str(e.explanation):
                return
            raise _daemon_error(f"remove container {_ref(container)}", e) from e
        except no_answer() as e:
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
        except no_answer() as e:
            raise _lost("follow its events", e) from e
        finally:
            if stream is not None:
                stream.close()

    # ------------------------------------------------------------------ day two
    # logs, exec and one-off containers: streams (stackctl logs / exec / run)

    def container_logs(
        self,
        container: str,
        *,
        follow: bool,
        since: float | None,
        until: float | None,
        tail: int | None,
    ) -> Iterator[str]:
        """The container's output, a line at a time, each starting with the daemon's
        RFC 3339 timestamp (fixed width: lines of several containers sort as text)."""
        kwargs: dict[str, Any] = {"stream": True, "timestamps": True, "follow": follow}
        kwargs["tail"] = "all" if tail is None else tail
        if since is not None:
            kwargs["since"] = since
        if until is not None:
            kwargs["until"] = until
        try:
            chunks = self.client.logs(container, **kwargs)
            pending = b""
            for chunk in chunks:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield _log_line(line)
            if pending:
                yield _log_line(pending)
        except docker_errors.APIError as e:
            raise _daemon_error(f"read the logs of {_ref(container)}", e) from e
        except no_answer() as e:
            raise _lost(f"read the logs of {_ref(container)}", e) from e

    def exec(
        self,
        container: str,
        command: list[str],
        term: Terminal,
        *,
        user: str | None,
        workdir: str | None,
        env: dict[str, str],
    ) -> int:
        """Run ``command`` in the running ``container``; its exit code."""
        action = f"exec in {_ref(container)}"
        created = self._write(
            action,
            lambda: self.client.exec_create(
                container,
                command,
                stdin=term.stdin,
                tty=term.tty,
                user=user or "",
                environment=[f"{k}={v}" for k, v in env.items()] or None,
                workdir=workdir,
            ),
        )
        exec_id = str(created["Id"])
        sock = self._write(
            action, lambda: self.client.exec_start(exec_id, tty=term.tty, socket=True)
        )
        _pump(sock, term, lambda h, w: self._quiet(self.client.exec_resize, exec_id, h, w))
        for _ in range(50):  # the stream ends as the process does; its record a moment after
            info = self._read(action, lambda: self.client.exec_inspect(exec_id))
            if not info.get("Running"):
                return int(info.get("ExitCode") or 0)
            time.sleep(0.05)
        return int(info.get("ExitCode") or 0)

    def create_one_off(self, dc: DesiredContainer, name: str) -> str:
        """Create a one-off container (stackctl run): as ``create_container``, and when its
        stdin is open, the end of ours ends its (StdinOnce, as ``docker run -i``)."""
        config = container_config(dc, all_networks=self.multi_network_create)
        config["StdinOnce"] = bool(config.get("OpenStdin"))
        result = self._write(
            f"create container {name}",
            lambda: self.client.create_container_from_config(config, name),
        )
        cid = str(result["Id"])
        if not self.multi_network_create:
            for net in dc.networks[1:]:
                self.connect(cid, net)
        self.copy_configs(cid, name, dc.copies)
        return cid

    def run_attached(self, container: str, term: Terminal, *, remove: bool = True) -> int:
        """Start the created ``container`` attached to this terminal; its exit code once it
        ends (then it is removed, unless ``remove`` is false)."""
        action = f"run {_ref(container)}"
        # logs=1: all its output since the start, even what came before the attach took hold
        params = {"stdout": 1, "stderr": 1, "stream": 1, "logs": 1, "stdin": 1 if term.stdin else 0}
        try:
            sock = self._write(action, lambda: self.client.attach_socket(container, params))
            self.start(container)
            _pump(sock, term, lambda h, w: self._quiet(self.client.resize, container, h, w))
            result = self._write(action, lambda: self.client.wait(container))
            return int(result.get("StatusCode", 1))
        finally:
            if remove:
                self.remove_container(container)

    def _quiet(self, fn: Callable[..., Any], *args: Any) -> None:
        """A resize: the process may have ended meanwhile; nothing to report then."""
        with contextlib.suppress(docker_errors.APIError, *no_answer()):
            fn(*args)

    def close(self) -> None:
        if self._local is not None:
            self._local.close()
        if self._client is not None:
            self._client.close()


_BUILD_NOISE = ("---> ", "Removing intermediate container")  # the builder's bookkeeping


def config_archive(copies: Sequence[ConfigCopy]) -> bytes:
    """A tar of the config files, paths relative to ``/``: mode, and uid/gid when given
    (else root's, as Compose writes them). The daemon creates missing parent folders."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for copy in copies:
            info = tarfile.TarInfo(copy.target.lstrip("/"))
            info.size = len(copy.data)
            info.mode = copy.mode
            info.uid = copy.uid or 0
            info.gid = copy.gid or 0
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(copy.data))
    return out.getvalue()


def _fetch_failure(action: str, url: str, message: str) -> DaemonError:
    """A remote build context the daemon could not fetch (or read), for people."""
    shown = shown_url(url)
    return DaemonError(
        f"{action} failed: the daemon could not fetch the remote build context {shown}: "
        f"{message.strip()}",
        hint="the daemon (not this machine) fetches it: check that the daemon's host can "
        "reach it (network, proxy, credentials), that the ref after '#' exists, and, for a "
        "Git URL, that `git` is installed where dockerd runs",
    )


def _build_failure(action: str, step: str, tail: list[str], message: str) -> str:
    """A failed build for people: the Dockerfile step, what the daemon said, its last output."""
    text = f"{action} failed"
    if step:
        text += f" at {step}"
    text += f": {message.strip()}"
    if tail:
        text += "\n    " + "\n    ".join(tail)
    return text


def _short(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _bind_string(m: MountConfig) -> str:
    """A mount in the Binds form, ``SOURCE:TARGET:rw[,z][,rshared][,nocopy]`` (the options
    in Compose's order)."""
    options = ["ro" if m.get("read_only") else "rw"]
    if m.get("selinux"):
        options.append(m["selinux"])
    if m.get("propagation"):
        options.append(m["propagation"])
    if m.get("nocopy"):
        options.append("nocopy")
    return f"{m['source']}:{m['target']}:{','.join(options)}"


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
        if (m["type"] == "bind" and m.get("create_host_path", True)) or (
            m.get("selinux") and m.get("source")
        ):
            # The legacy Binds form: the daemon creates a missing source folder, and it is
            # the only form with SELinux relabel (as Compose's toBindString).
            binds.append(_bind_string(m))
        elif m["type"] == "bind":
            # Mounts form: a missing source fails the create instead of becoming a folder.
            bind: dict[str, Any] = {
                "Type": "bind",
                "Source": m["source"],
                "Target": m["target"],
                "ReadOnly": bool(m.get("read_only")),
            }
            if m.get("propagation"):
                bind["BindOptions"] = {"Propagation": m["propagation"]}
            mounts.append(bind)
        elif m["type"] == "volume":
            mount: dict[str, Any] = {
                "Type": "volume",
                "Target": m["target"],
                "ReadOnly": bool(m.get("read_only")),
            }
            if m.get("source"):
                mount["Source"] = m["source"]
            volume_options: dict[str, Any] = {}
            if m.get("nocopy"):
                volume_options["NoCopy"] = True
            if m.get("subpath"):
                volume_options["Subpath"] = m["subpath"]
            if volume_options:
                mount["VolumeOptions"] = volume_options
            mounts.append(mount)
        else:
            tmpfs: dict[str, Any] = {"Type": "tmpfs", "Target": m["target"]}
            tmpfs_options: dict[str, Any] = {}
            if m.get("tmpfs_size"):
                tmpfs_options["SizeBytes"] = m["tmpfs_size"]
            if m.get("tmpfs_mode") is not None:
                tmpfs_options["Mode"] = m["tmpfs_mode"]
            if tmpfs_options:
                tmpfs["TmpfsOptions"] = tmpfs_options
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

    restart_policy = _restart_policy(restart)

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
    device_requests = cfg.get("device_requests", [])
    if device_requests:
        host["DeviceRequests"] = [
            {
                "Driver": d["driver"],
                "Count": d["count"],
                "DeviceIDs": d["device_ids"] or None,
                "Capabilities": [d["capabilities"]] if d["capabilities"] else None,
                "Options": d["options"] or None,
            }
            for d in device_requests
        ]
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


def _restart_policy(restart: str) -> dict[str, Any]:
    name, _, count = restart.partition(":")
    policy: dict[str, Any] = {"Name": "" if name == "no" else name}
    if count:
        policy["MaximumRetryCount"] = int(count)
    return policy


def update_config(dc: DesiredContainer) -> dict[str, Any]:
    """The body of ``POST /containers/{id}/update`` that gives a container ``dc``'s restart
    policy and limits. The daemon reads 0 as "leave as it is" for the CPU and memory
    limits (the planner replaces a container whose limit must go), ``"no"`` (not ``""``)
    as no restart policy, and 0 as no PIDs limit. The swap limit follows the memory limit
    as a create sets it (twice the memory), so a raised limit is not refused."""
    resources = dc.spec.get("resources", {})
    policy = _restart_policy(str(dc.spec.get("restart") or "no"))
    body: dict[str, Any] = {
        "RestartPolicy": {**policy, "Name": policy["Name"] or "no"},
        "PidsLimit": resources.get("pids_limit", 0),
    }
    if resources.get("memory"):
        body["Memory"] = resources["memory"]
        body["MemorySwap"] = 2 * resources["memory"]
    if resources.get("memory_reservation"):
        body["MemoryReservation"] = resources["memory_reservation"]
    if resources.get("nano_cpus"):
        body["NanoCpus"] = resources["nano_cpus"]
    return body


def _device(spec: str) -> dict[str, str]:
    parts = spec.split(":")
    host = parts[0]
    inside = parts[1] if len(parts) > 1 else host
    perms = parts[2] if len(parts) > 2 else "rwm"
    return {"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": perms}


# --------------------------------------------------------------------------- day two
# logs, exec and one-off containers (stackctl logs / exec / run): streams, not plans.


def _log_line(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")


class Terminal:
    """The local end of an attached stream: stdin (raw mode when it is a terminal and the
    remote end has a TTY), stdout and stderr, and the terminal size."""

    def __init__(self, tty: bool, stdin: bool) -> None:
        self.tty = tty  # the remote process has a TTY: its output is one raw stream
        self.stdin = stdin  # forward our stdin to it

    def size(self) -> tuple[int, int] | None:
        try:
            cols, rows = os.get_terminal_size(sys.stdout.fileno())
        except (OSError, ValueError):
            return None
        return rows, cols


def _demux(buffer: bytearray) -> Iterator[tuple[int, bytes]]:
    """Complete frames of the Engine API's multiplexed stream (8-byte headers: stream 1
    stdout, 2 stderr; then the size) taken off the front of ``buffer``."""
    while len(buffer) >= 8:
        size = int.from_bytes(buffer[4:8], "big")
        if len(buffer) < 8 + size:
            return
        kind = buffer[0]
        data = bytes(buffer[8 : 8 + size])
        del buffer[: 8 + size]
        yield kind, data


def _pump(sock: Any, term: Terminal, resize: Callable[[int, int], None]) -> None:
    """Copy our stdin to the hijacked connection ``sock`` and its output to our stdout and
    stderr until the remote end closes it. A terminal goes to raw mode (and back)."""
    import select
    import socket as socketlib
    import termios
    import tty as ttylib

    raw_sock = getattr(sock, "_sock", sock)
    in_fd = -1
    if term.stdin:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            in_fd = sys.stdin.fileno()
    saved = None
    if term.tty and term.stdin and os.isatty(in_fd):
        saved = termios.tcgetattr(in_fd)
        ttylib.setraw(in_fd)
    old_winch = None
    if term.tty:
        size = term.size()
        if size:
            resize(*size)

        def on_winch(_sig: int, _frame: Any) -> None:
            now = term.size()
            if now:
                resize(*now)

        old_winch = signal.signal(signal.SIGWINCH, on_winch)
    # Text through sys.stdout / sys.stderr: the CLI's redaction filters them.
    decoders = {n: codecs.getincrementaldecoder("utf-8")("replace") for n in (1, 2)}

    def emit(kind: int, data: bytes) -> None:
        stream = sys.stderr if kind == 2 else sys.stdout
        stream.write(decoders[2 if kind == 2 else 1].decode(data))
        stream.flush()

    sys.stdout.flush()
    buffer = bytearray()
    watching = [raw_sock] + ([in_fd] if in_fd >= 0 else [])
    try:
        while True:
            try:
                ready, _, _ = select.select(watching, [], [])
            except InterruptedError:
                continue
            if in_fd in ready:
                data = os.read(in_fd, 4096)
                if data:
                    raw_sock.sendall(data)
                else:  # our stdin ended: so does the process's
                    watching.remove(in_fd)
                    with contextlib.suppress(OSError):
                        raw_sock.shutdown(socketlib.SHUT_WR)
            if raw_sock in ready:
                chunk = raw_sock.recv(65536)
                if not chunk:
                    break
                if term.tty:
                    emit(1, chunk)
                    continue
                buffer += chunk
                for kind, data in _demux(buffer):
                    emit(kind, data)
    finally:
        if saved is not None:
            termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
        if old_winch is not None:
            signal.signal(signal.SIGWINCH, old_winch)
        with contextlib.suppress(OSError):
            raw_sock.close()
