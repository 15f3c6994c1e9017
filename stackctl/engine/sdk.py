"""The docker SDK's client, imported only when first needed (engine/docker.py): a write,
a stream, a build, a registry call, or any request to a daemon that is not a local
socket. Importing docker (with requests and urllib3) costs ~0.2 s of CPU, which a
no-change plan against a local socket does without (engine/local.py serves its reads).
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from typing import Any

import docker
import docker.errors
import docker.tls
import docker.utils
import requests
from requests.sessions import merge_setting

from stackctl.engine.context import Target

# What a request ends with when the daemon does not answer: the connection failed or broke,
# or no answer came within the client's timeout (a daemon stuck or badly overloaded).
NO_ANSWER = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)


class CountingClient(docker.APIClient):  # type: ignore[misc]
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


def client_kwargs(target: Target) -> dict[str, Any]:
    """The APIClient's address and TLS settings for ``target`` (see engine/context.py)."""
    if target.host is None:
        params: dict[str, Any] = docker.utils.kwargs_from_env()
    else:
        params = {"base_url": target.host}
        if target.tls_dir is not None:
            files = {n: target.tls_dir / f"{n}.pem" for n in ("ca", "cert", "key")}
            params["tls"] = docker.tls.TLSConfig(
                client_cert=(str(files["cert"]), str(files["key"]))
                if files["cert"].exists()
                else None,
                ca_cert=str(files["ca"]) if files["ca"].exists() else None,
                verify=not target.skip_tls_verify,
            )
    if str(params.get("base_url") or "").startswith("ssh://"):
        # The ssh client, as the docker CLI does: ~/.ssh/config, agents, ProxyJump and
        # known_hosts behave as they do for `ssh` and `docker -H ssh://` (paramiko knows
        # only part of ssh_config).
        params["use_ssh_client"] = True
    return params
