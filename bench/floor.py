"""The floor: the fewest Engine API calls that reach the state a benchmark stack describes,
made with the docker SDK's low-level client from a thread pool.

Apply: one events stream (health_status) opened first; the two networks created at once;
then per service create (on the first network, with its alias), connect (the second
network: API 1.41 takes one network at create), start. A service that depends on a
neighbour is submitted the moment the stream reports that neighbour healthy, and the
neighbours are submitted first so their health clocks start as early as possible.
3N + 3 calls; it ends, like ``compose up -d``, when every container has been started.

Change (one service of an applied stack, its environment changed, bench/gen.py ``changed``):
its container stopped, removed, created again, connected, started, and waited for until
healthy: the least any tool does to replace one container. 5 calls and an events stream.

Destroy: per container a graceful stop (the same work stackctl and compose do: SIGTERM,
then SIGKILL after the timeout) and a remove, dependents before the neighbour they depend
on; then the networks. 2N + 2 calls.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

if __name__ == "__main__":
    # The floor talks to a local socket: the SDK's ssh:// support (paramiko, with invoke
    # and cryptography: a third of this process's start-up) stays unloaded, as stackctl's
    # does until an ssh:// daemon needs it (stackctl/engine/lazy.py).
    sys.modules.setdefault("paramiko", None)  # type: ignore[arg-type]

import docker
import docker.errors
import docker.types

from bench import gen

API_VERSION = "1.41"


class CountingClient(docker.APIClient):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls[method.upper()] += 1
        return super().request(method, url, *args, **kwargs)


def client(pool: int) -> CountingClient:
    # A fixed version: no GET /version to negotiate; the connection pool as big as the
    # thread pool (plus the events stream) so no connection is opened twice.
    return CountingClient(version=API_VERSION, max_pool_size=pool + 2, timeout=120)


def container_name(d: gen.Description, service: str) -> str:
    return f"{d.name}-{service}-1"


def network_name(d: gen.Description, key: str) -> str:
    return f"{d.name}_{key}"


def _nanos(duration: str) -> int:
    assert duration.endswith("s")
    return int(float(duration[:-1]) * 1_000_000_000)


def _create_body(d: gen.Description, s: gen.Service) -> dict[str, Any]:
    first = network_name(d, gen.NETWORKS[0])
    env = {"Env": [f"{k}={v}" for k, v in s.environment]} if s.environment else {}
    return {
        "Image": gen.IMAGE,
        "Cmd": gen.COMMAND,
        **env,
        "Labels": {"bench": d.name},
        "Healthcheck": {
            "Test": gen.HEALTH_TEST,
            "Interval": _nanos(d.interval(s.name)),
            "Timeout": _nanos(gen.HEALTH_TIMEOUT),
            "Retries": gen.HEALTH_RETRIES,
        },
        "HostConfig": {"RestartPolicy": {"Name": gen.RESTART}},
        "NetworkingConfig": {"EndpointsConfig": {first: {"Aliases": [s.name]}}},
    }


def create_network(api: CountingClient, d: gen.Description, key: str) -> None:
    subnet = d.subnet(key)
    ipam = None
    if subnet:
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
    api.create_network(network_name(d, key), driver="bridge", ipam=ipam, labels={"bench": d.name})


def apply(d: gen.Description, parallelism: int) -> Counter[str]:
    """Bring the stack up from nothing; returns the API calls made."""
    api = client(parallelism)
    names = {container_name(d, s.name): s for s in d.services}
    dependents: dict[str, list[gen.Service]] = {}
    for s in d.services:
        if s.depends_on:
            dependents.setdefault(s.depends_on, []).append(s)
    errors: list[BaseException] = []
    pending = threading.Semaphore(0)  # released once per started container
    pool = ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="floor")

    def up(s: gen.Service) -> None:
        cid = api.create_container_from_config(_create_body(d, s), container_name(d, s.name))
        cid = cid["Id"]
        for key in gen.NETWORKS[1:]:
            api.connect_container_to_network(cid, network_name(d, key), aliases=[s.name])
        api.start(cid)

    def submit(s: gen.Service) -> None:
        fut: Future[None] = pool.submit(up, s)
        fut.add_done_callback(done)

    def done(fut: Future[None]) -> None:
        if fut.exception() is not None:
            errors.append(fut.exception())  # type: ignore[arg-type]
        pending.release()

    since = time.time()
    events = api.events(
        since=f"{since:.9f}",
        filters={"type": ["container"], "event": ["health_status"], "label": [f"bench={d.name}"]},
        decode=True,
    )
    healthy: set[str] = set()
    stop = threading.Event()

    def watch() -> None:
        try:
            for ev in events:
                if stop.is_set():
                    return
                status = str(ev.get("status") or ev.get("Action") or "")
                name = str((ev.get("Actor") or {}).get("Attributes", {}).get("name", ""))
                if status.endswith(": healthy") and name in names and name not in healthy:
                    healthy.add(name)
                    for dep in dependents.get(names[name].name, []):
                        submit(dep)
                elif status.endswith(": unhealthy") and name in names:
                    errors.append(RuntimeError(f"{name} became unhealthy"))
                    for _ in dependents.get(names[name].name, []):
                        pending.release()
        except Exception as e:  # the stream closed under us at the end
            if not stop.is_set():
                errors.append(e)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        nets = [pool.submit(create_network, api, d, key) for key in gen.NETWORKS]
        for f in nets:
            f.result()
        # Neighbours that others wait for first, then the rest; dependents when healthy.
        first = [s for s in d.services if s.name in d.waited and not s.depends_on]
        rest = [s for s in d.services if s.name not in d.waited and not s.depends_on]
        for s in first + rest:
            submit(s)
        for _ in d.services:
            pending.acquire()
            if errors:
                raise RuntimeError(f"floor apply failed: {errors[0]}")
    finally:
        stop.set()
        events.close()
        pool.shutdown(wait=True)
    return api.calls


def remove_network(api: CountingClient, name: str, patience: float = 20.0) -> None:
    """Remove a network, retrying the daemon's passing 'has active endpoints' (as stackctl
    and compose do)."""
    deadline = time.monotonic() + patience
    delay = 0.05
    while True:
        try:
            api.remove_network(name)
            return
        except docker.errors.APIError as e:
            if "active endpoints" not in str(e) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def destroy(d: gen.Description, parallelism: int, stop_timeout: int = 10) -> Counter[str]:
    """Stop and remove every container (dependents first), then the networks."""
    api = client(parallelism)
    dependents = [s for s in d.services if s.depends_on]
    others = [s for s in d.services if not s.depends_on]

    def down(s: gen.Service) -> None:
        name = container_name(d, s.name)
        api.stop(name, timeout=stop_timeout)
        api.remove_container(name)

    with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="floor") as pool:
        # The neighbours wait for their dependents; everything else goes at once.
        first = {s.name: pool.submit(down, s) for s in dependents}
        waits_for = {s.depends_on: first[s.name] for s in dependents if s.depends_on}

        def after(s: gen.Service) -> None:
            if s.name in waits_for:
                waits_for[s.name].result()
            down(s)

        # Independent ones first: a neighbour's task only blocks once its dependent is
        # already running or done, so no slot idles for long.
        order = sorted(others, key=lambda s: s.name in waits_for)
        futures = [pool.submit(after, s) for s in order]
        for f in [*first.values(), *futures]:
            f.result()
        nets = [pool.submit(remove_network, api, network_name(d, k)) for k in gen.NETWORKS]
        for f in nets:
            f.result()
    return api.calls


def change(d: gen.Description, service: str, stop_timeout: int = 10) -> Counter[str]:
    """One service's container replaced by one with its changed config (``d`` is the
    changed description, gen.changed): stop, remove, create, connect, start, and wait for
    it to be healthy (one events stream, opened first). 5 calls and the stream."""
    api = client(1)
    s = next(x for x in d.services if x.name == service)
    name = container_name(d, s.name)
    since = time.time()
    events = api.events(
        since=f"{since:.9f}",
        filters={"type": ["container"], "event": ["health_status"], "label": [f"bench={d.name}"]},
        decode=True,
    )
    try:
        api.stop(name, timeout=stop_timeout)
        api.remove_container(name)
        cid = api.create_container_from_config(_create_body(d, s), name)["Id"]
        for key in gen.NETWORKS[1:]:
            api.connect_container_to_network(cid, network_name(d, key), aliases=[s.name])
        api.start(cid)
        for ev in events:
            if ev.get("id") != cid:
                continue
            status = str(ev.get("status") or ev.get("Action") or "")
            if status.endswith(": healthy"):
                break
            if status.endswith(": unhealthy"):
                raise RuntimeError(f"{name} became unhealthy")
    finally:
        events.close()
    return api.calls


def nothing_to_do(d: gen.Description) -> Counter[str]:
    """The fewest calls that show nothing is to do: list the stack's containers and
    networks (by label), and check every one is there and running."""
    api = client(1)
    label = {"label": [f"bench={d.name}"]}
    running = {c["Names"][0].lstrip("/") for c in api.containers(filters=label)}
    nets = {n["Name"] for n in api.networks(filters=label)}
    missing = {container_name(d, s.name) for s in d.services} - running
    missing |= {network_name(d, k) for k in gen.NETWORKS} - nets
    if missing:
        raise RuntimeError(f"not up: {sorted(missing)[:5]}")
    return api.calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("action", choices=["apply", "noop", "change", "destroy"])
    parser.add_argument("name")
    parser.add_argument("services", type=int)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--subnets", default="", help="comma-separated, one per network")
    parser.add_argument(
        "--change",
        default="1",
        metavar="VALUE",
        help="change: the changed service's BENCH_CHANGE value (a new one each time)",
    )
    gen.add_interval_option(parser)
    args = parser.parse_args(argv)
    subnets = tuple(s for s in args.subnets.split(",") if s)
    d = gen.describe(args.name, args.services, subnets, args.unwaited_interval)
    try:
        if args.action == "apply":
            calls = apply(d, args.parallelism)
        elif args.action == "destroy":
            calls = destroy(d, args.parallelism)
        elif args.action == "change":
            calls = change(gen.changed(d, args.change), gen.changed_service(d))
        else:
            calls = nothing_to_do(d)
    except (docker.errors.APIError, RuntimeError) as e:
        detail = e.explanation if isinstance(e, docker.errors.APIError) else e
        print(f"floor {args.action}: {detail}", file=sys.stderr)
        return 1
    text = " ".join(f"{m}={calls[m]}" for m in ("GET", "POST", "DELETE"))
    print(f"api-calls: {text} total={sum(calls.values())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
