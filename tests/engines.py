"""Which Docker engines the integration tests run against (a pytest plugin, loaded by
tests/conftest.py).

Two engines are tested: the host's engine (Docker 20.10, API 1.41; scripts/ensure-docker.sh)
and ``engine26`` (Docker 26.1 from Debian trixie, API 1.45; scripts/engine26.sh), which runs in
its own network and mount namespaces beside the first.

    pytest --engines=host,engine26   both (engine26 must answer, or the session stops)
    pytest --engines=host            the host engine only
    pytest                           host, plus engine26 when STACKCTL_ENGINE26_HOST is set
                                     (scripts/test.sh exports it after starting engine26)

Every test using one of the fixtures below (and conftest's ``engine``, ``stack_name``,
``stack_names``, which use ``engine_target``) runs once per selected engine, with the ids
``host`` / ``engine26``:

    engine_target   EngineTarget (id, base_url, netns)   session scope
    docker_host     the engine's URL, e.g. for DOCKER_HOST of a CLI subprocess
    docker_client   docker.DockerClient bound to the engine (instead of docker.from_env())

While such a test runs, DOCKER_HOST names its engine (so ``docker.from_env()``,
``DockerEngine()`` and the stackctl CLI reach it too) and, for engine26, the test's thread
is inside the engine's network namespace: ``127.0.0.1:<published port>``, the gateway of
a container network and ``ip route`` mean the same as they do beside the host engine.
``@pytest.mark.engines("host")`` limits a test to some engines.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docker
import pytest

HOST = "host"
ENGINE26 = "engine26"
KNOWN = (HOST, ENGINE26)
ENV_ENGINE26 = "STACKCTL_ENGINE26_HOST"
ENGINE26_DEFAULT_URL = "unix:///run/stackctl-engine26/docker.sock"
ENGINE26_NETNS = os.environ.get("STACKCTL_ENGINE26_NETNS", "/var/run/netns/stackctl-e26")
HOST_DEFAULT_URL = "unix:///var/run/docker.sock"

_TARGETS = pytest.StashKey[dict[str, "EngineTarget"]]()
_INFO = pytest.StashKey[dict[str, str]]()


@dataclass(frozen=True)
class EngineTarget:
    id: str
    base_url: str
    netns: str | None = None  # path of the engine's network namespace (None: the host's)

    def api(self, **kwargs: Any) -> docker.APIClient:
        return docker.APIClient(base_url=self.base_url, version="auto", **kwargs)

    def client(self, **kwargs: Any) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.base_url, version="auto", **kwargs)

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run in the engine's network namespace (where its published ports are)."""
        return ["nsenter", f"--net={self.netns}", *argv] if self.netns else list(argv)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engines",
        default=None,
        help="comma-separated Docker engines for the integration tests: host, engine26 "
        f"(default: host, plus engine26 when ${ENV_ENGINE26} is set)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "engines(*ids): run this integration test only on these engines"
    )
    opt = config.getoption("--engines")
    if opt:
        ids = [e.strip() for e in str(opt).split(",") if e.strip()]
    else:
        ids = [HOST, *([ENGINE26] if os.environ.get(ENV_ENGINE26) else [])]
    unknown = [e for e in ids if e not in KNOWN]
    if unknown or not ids:
        raise pytest.UsageError(f"--engines: unknown {unknown or ids}; known: {', '.join(KNOWN)}")
    host_url = os.environ.get("DOCKER_HOST") or HOST_DEFAULT_URL
    targets = {HOST: EngineTarget(HOST, host_url)}
    e26 = os.environ.get(ENV_ENGINE26) or ENGINE26_DEFAULT_URL
    targets[ENGINE26] = EngineTarget(
        ENGINE26, e26, ENGINE26_NETNS if os.path.exists(ENGINE26_NETNS) else None
    )
    config.stash[_TARGETS] = {e: targets[e] for e in dict.fromkeys(ids)}
    config.stash[_INFO] = {}


def selected(config: pytest.Config) -> dict[str, EngineTarget]:
    return config.stash[_TARGETS]


def _probe(target: EngineTarget) -> str:
    """'Docker 26.1.5, API 1.45' or raise."""
    api = target.api(timeout=10)
    try:
        v = api.version()
        return f"Docker {v.get('Version')}, API {api.api_version}"
    finally:
        api.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    for t in selected(config).values():
        try:
            info = _probe(t)
        except Exception as e:  # a header line, not a check
            info = f"NOT ANSWERING ({type(e).__name__})"
        config.stash[_INFO][t.id] = info
        lines.append(f"engine {t.id}: {t.base_url} ({info})")
    if ENGINE26 not in selected(config):
        lines.append(
            f"engine engine26: not selected (scripts/test.sh starts it; or set ${ENV_ENGINE26} "
            "or --engines=host,engine26)"
        )
    return lines


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say it again at the end when the second engine was wanted but could not start."""
    reason = os.environ.get("STACKCTL_ENGINE26_UNAVAILABLE")
    if reason and ENGINE26 not in selected(config):
        terminalreporter.write_sep(
            "!", "WARNING: engine26 (Docker 26.1, API 1.45) NOT tested", red=True
        )
        terminalreporter.write_line(f"WARNING: {reason}", red=True)
        terminalreporter.write_line(
            "WARNING: integration tests ran on the host engine only", red=True
        )


_NOT_SELECTED = "not-selected"


def _engine_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("engine_target") if callspec is not None else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One run per selected engine for every test that uses an engine fixture (``engine``,
    ``stack_name``, ``stack_names``, ``docker_client``, ``docker_host``, ``engine_target``).
    Tests with engines of their own (the swarm test-bed) use none of them."""
    if "engine_target" not in metafunc.fixturenames:
        return
    ids = list(selected(metafunc.config))
    marker = metafunc.definition.get_closest_marker("engines")
    if marker is not None:
        ids = [e for e in ids if e in marker.args]
    if not ids:  # only for engines not selected: deselected below, never a skipped test
        ids = [_NOT_SELECTED]
    metafunc.parametrize("engine_target", ids, ids=ids, indirect=True, scope="session")


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Every engine a collected test will use must answer now: fail loudly, never skip."""
    unselected = [i for i in items if _engine_of(i) == _NOT_SELECTED]
    if unselected:
        config.hook.pytest_deselected(items=unselected)
        items[:] = [i for i in items if _engine_of(i) != _NOT_SELECTED]
    used: dict[str, None] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "engine_target" in callspec.params:
            used[callspec.params["engine_target"]] = None
    for eid in used:
        target = selected(config)[eid]
        try:
            config.stash[_INFO][eid] = _probe(target)
        except Exception as e:  # reported, and the session stops
            hint = (
                f"start it with `scripts/engine26.sh start` and export {ENV_ENGINE26}, "
                "or run on the host engine only: --engines=host"
                if eid == ENGINE26
                else "start it with scripts/ensure-docker.sh"
            )
            pytest.exit(
                f"engine {eid} was selected but does not answer at {target.base_url}: "
                f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''} ({hint})",
                returncode=pytest.ExitCode.USAGE_ERROR,
            )


# ---------------------------------------------------------------------- engine quirks


def wait_listed_state(
    client: docker.DockerClient, name: str, state: str = "exited", timeout: float = 5
) -> None:
    """Wait until the container list (what stackctl observes) shows ``name`` in ``state``.

    Docker 26.1 answers ``POST /containers/{id}/stop`` before its container list has caught
    up: ``GET /containers/json`` may say "running" for some milliseconds more (inspect is
    already right; Docker 20.10 never lags). A test that stops a container by hand and then
    plans must wait for this, as a person would never notice.
    """
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        listed = client.api.containers(all=True, filters={"name": f"^/{name}$"})
        seen = [c["State"] for c in listed]
        if seen == [state]:
            return
        time.sleep(0.01)
    raise AssertionError(f"container {name}: listed as {seen} after {timeout}s, not {state!r}")


# ---------------------------------------------------------------------- network namespace

_CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def in_netns(path: str | None) -> Iterator[None]:
    """Move the calling thread (and the threads and processes it starts) into the network
    namespace ``path`` for the duration; back to where it was afterwards."""
    if not path:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    old = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    new = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(new, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
        try:
            yield
        finally:
            if libc.setns(old, _CLONE_NEWNET) != 0:  # pragma: no cover - never seen
                # Going on in the wrong namespace would test the wrong engine: stop hard.
                err = ctypes.get_errno()
                os.write(2, f"tests/engines.py: cannot leave {path}: {os.strerror(err)}\n".encode())
                os._exit(70)
    finally:
        os.close(new)
        os.close(old)


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def engine_target(request: pytest.FixtureRequest) -> EngineTarget:
    eid = getattr(request, "param", None)
    if eid is None:  # requested outside an integration test's parametrisation
        eid = next(iter(selected(request.config)))
    return selected(request.config)[eid]


@pytest.fixture
def docker_host(engine_target: EngineTarget) -> str:
    return engine_target.base_url


@pytest.fixture
def docker_client(engine_target: EngineTarget) -> Iterator[docker.DockerClient]:
    client = engine_target.client()
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _engine_environment(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """DOCKER_HOST and the network namespace of the test's engine, while the test runs."""
    if "engine_target" not in request.fixturenames:
        yield
        return
    target: EngineTarget = request.getfixturevalue("engine_target")
    monkeypatch.setenv("DOCKER_HOST", target.base_url)
    with in_netns(target.netns):
        yield
