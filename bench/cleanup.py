"""Remove every container and network whose name starts with a benchmark prefix.

``python -m bench.cleanup PREFIX`` does it by hand (e.g. after a killed run).
"""

from __future__ import annotations

import contextlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import docker
import docker.errors
import requests


def cleanup(prefix: str, *, patience: float = 20.0) -> list[str]:
    """Force-remove the prefix's containers, then its networks (retrying the daemon's
    passing 'active endpoints'). Returns what could not be removed, with the reason."""
    assert len(prefix) >= 6, "a short prefix could match other people's resources"
    api = docker.APIClient(version="1.41", max_pool_size=10)
    left: list[str] = []
    try:
        containers = [
            c["Id"]
            for c in api.containers(all=True, filters={"name": prefix})
            if any(n.lstrip("/").startswith(prefix) for n in c.get("Names") or [])
        ]

        def rm(cid: str) -> None:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(cid, force=True)

        with ThreadPoolExecutor(8) as pool:
            for cid, fut in [(cid, pool.submit(rm, cid)) for cid in containers]:
                try:
                    fut.result()
                except docker.errors.APIError as e:
                    left.append(f"container {cid[:12]}: {e.explanation}")
                except requests.exceptions.RequestException as e:
                    left.append(f"container {cid[:12]}: {e}")
        nets = [n["Name"] for n in api.networks() if str(n["Name"]).startswith(prefix)]
        deadline = time.monotonic() + patience
        while nets:
            still: list[str] = []
            for name in nets:
                try:
                    api.remove_network(name)
                except docker.errors.NotFound:
                    pass
                except docker.errors.APIError as e:
                    if "active endpoints" not in str(e.explanation):
                        left.append(f"network {name}: {e.explanation}")
                    else:
                        still.append(name)
            nets = still
            if nets and time.monotonic() > deadline:
                left += [
                    f"network {n}: the daemon still reports active endpoints with no container "
                    "attached (a Docker 20.10 fault; a daemon restart clears it)"
                    for n in nets
                ]
                break
            if nets:
                time.sleep(0.5)
    except (requests.exceptions.RequestException, docker.errors.DockerException) as e:
        # A daemon that died or hangs must not cost the results: report, and go on.
        left.append(f"everything under {prefix}: the daemon did not answer ({e})")
    finally:
        api.close()
    return left


if __name__ == "__main__":
    for line in cleanup(sys.argv[1]):
        print(line)
