"""Plan fidelity: record every daemon write an apply makes and hold it against the plan.

One recorder for both backends: ``Recording`` is a DockerEngine that logs each write method
call with the name of what it acts on (ids are turned back into names) and the plan
operation that made it (``RecordingExecutor`` tells it, per worker thread): the writes both
engines share (networks, volumes, pulls) here, containers in ``RecordingEngine`` (docker),
services and secrets in ``RecordingSwarmEngine`` (swarm). Under the method calls it also
logs every HTTP write request (any method but GET and HEAD), so a write that bypasses the
recorded methods is caught too.

``expected_calls`` is what each operation kind must cost; ``check_fidelity`` compares the
two one to one: every operation made exactly its calls in order, each call exactly one
HTTP write (retries of the same request aside), and nothing wrote outside an operation.
``recorded_apply(url, stacks, backend="docker" | "swarm")`` plans, applies and checks;
``run_recorded(recorder, plan)`` applies a plan made from the recorder's observation (the
swarm test-bed's fixtures run every apply of that suite so).

Also here, for the fault and drift tests: ``cli`` runs ``python -m stackctl`` in a
subprocess against a given daemon.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stackctl.backends import backend_named
from stackctl.backends.docker.desired import ConfigCopy, ContainerNetwork, DesiredContainer
from stackctl.backends.docker.observe import ObservedState
from stackctl.backends.swarm.desired import SwarmSecret, SwarmService
from stackctl.backends.swarm.observe import SwarmObservedState
from stackctl.core.build import DesiredBuild
from stackctl.core.labels import temp_name
from stackctl.core.plan import Kind, Operation, Plan, Step
from stackctl.core.resources import DesiredNetwork, DesiredVolume
from stackctl.core.run import RunOptions
from stackctl.engine import DockerEngine
from stackctl.engine.docker import MULTI_NETWORK_CREATE, _version_tuple
from stackctl.engine.swarm import Progress, SwarmEngine
from stackctl.execute import ApplyResult, Executor, runner_for
from stackctl.model import Stack
from stackctl.progress import PlainReporter

ROOT = Path(__file__).resolve().parent.parent

Call = tuple[str, ...]  # ("start", "sct1234-web-1"), ("rename", old, new), ...
Request = tuple[str, str]  # ("POST", "/v1.41/containers/create"): one HTTP write

# Every recorded apply of this pytest session, per backend: the figure the README states
# (tests/conftest.py prints it at the end of the session).
TALLY: Counter[str] = Counter()


# --------------------------------------------------------------------------- recording


class Recording(DockerEngine):
    """Logs the write calls every engine makes: ``(op id or None, call)``, and under them
    the HTTP write requests: ``(op id or None, request)``."""

    def __init__(self, base_url: str | None = None) -> None:
        super().__init__(base_url)
        self.log: list[tuple[str | None, Call]] = []
        self.requests: list[tuple[str | None, Request]] = []
        self.current = threading.local()
        self._names: dict[str, str] = {}  # id -> current name
        self._log_lock = threading.Lock()
        send = self.client.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if method.upper() not in ("GET", "HEAD"):
                with self._log_lock:
                    op = getattr(self.current, "op", None)
                    self.requests.append((op, (method.upper(), urlsplit(url).path)))
            return send(method, url, *args, **kwargs)

        self.client.request = request

    def learn(self, observed: Any) -> None:
        """Names for the ids the plan's operations refer to (``target_id``)."""

    def _name(self, ref: str) -> str:
        if ref in self._names:
            return self._names[ref]
        for rid, name in self._names.items():
            if len(ref) >= 12 and rid.startswith(ref):
                return name
        return ref

    def _rec(self, *call: str) -> None:
        with self._log_lock:
            self.log.append((getattr(self.current, "op", None), tuple(call)))

    def calls(self) -> list[Call]:
        return [call for _, call in self.log]

    def create_network(self, net: DesiredNetwork) -> str:
        self._rec("create_network", net.name)
        return super().create_network(net)

    def remove_network(self, name: str) -> None:
        self._rec("remove_network", name)
        super().remove_network(name)

    def create_volume(self, vol: DesiredVolume) -> None:
        self._rec("create_volume", vol.name)
        super().create_volume(vol)

    def remove_volume(self, name: str) -> None:
        self._rec("remove_volume", name)
        super().remove_volume(name)

    def pull(self, image: str, progress: Callable[[str], None] | None = None) -> None:
        self._rec("pull", image)
        super().pull(image, progress)


class RecordingEngine(Recording):
    """The docker backend's engine, its container writes recorded too."""

    def learn(self, observed: Any) -> None:
        assert isinstance(observed, ObservedState)
        for c in observed.containers:
            self._names[c.id] = c.name

    def _name(self, ref: str) -> str:
        name = super()._name(ref)
        if name == ref and len(ref) == 64:  # an id made in this apply (connects in create)
            info = self.inspect_container(ref)
            if info is not None:
                self._names[ref] = str(info.get("Name", ref)).lstrip("/")
                return self._names[ref]
        return name

    def build(self, spec: DesiredBuild, progress: Callable[[str], None] | None = None) -> None:
        self._rec("build", spec.image)
        super().build(spec, progress)

    def create_container(self, dc: DesiredContainer, name: str) -> str:
        self._rec("create_container", name)
        cid = super().create_container(dc, name)
        self._names[cid] = name
        return cid

    def connect(self, container: str, net: ContainerNetwork) -> None:
        self._rec("connect", self._name(container), net.name)
        super().connect(container, net)

    def copy_configs(self, cid: str, name: str, copies: Sequence[ConfigCopy]) -> None:
        if copies:
            self._rec("copy_configs", name)
        super().copy_configs(cid, name, copies)

    def disconnect(self, container: str, network: str) -> None:
        self._rec("disconnect", self._name(container), network)
        super().disconnect(container, network)

    def start(self, container: str) -> None:
        self._rec("start", self._name(container))
        super().start(container)

    def unpause(self, container: str) -> None:
        self._rec("unpause", self._name(container))
        super().unpause(container)

    def update_container(self, container: str, dc: DesiredContainer) -> None:
        self._rec("update_container", self._name(container))
        super().update_container(container, dc)

    def stop(self, container: str, timeout: int = 10) -> None:
        self._rec("stop", self._name(container))
        super().stop(container, timeout)

    def remove_container(self, container: str) -> None:
        self._rec("remove_container", self._name(container))
        super().remove_container(container)

    def rename(self, container: str, name: str) -> None:
        old = self._name(container)
        self._rec("rename", old, name)
        super().rename(container, name)
        for cid, known in list(self._names.items()):
            if known == old:
                self._names[cid] = name


class RecordingSwarmEngine(Recording, SwarmEngine):
    """The swarm backend's engine (a manager), its service and secret writes recorded too.
    A service create or update is one write; the reads around it (the secret list that
    resolves SecretIDs, the spec version, the rollout's polls) are not writes."""

    def learn(self, observed: Any) -> None:
        assert isinstance(observed, SwarmObservedState)
        for s in observed.services:
            self._names[s.id] = s.name
        for x in observed.secrets:
            self._names[x.id] = x.name

    def create_service(self, svc: SwarmService, deadline: float, progress: Progress) -> str:
        self._rec("create_service", svc.name)
        service_id = super().create_service(svc, deadline, progress)
        self._names[service_id] = svc.name
        return service_id

    def update_service(
        self,
        svc: SwarmService,
        service_id: str,
        version: int | None,
        deadline: float,
        progress: Progress,
    ) -> None:
        self._rec("update_service", svc.name)
        super().update_service(svc, service_id, version, deadline, progress)

    def remove_service(self, ref: str, deadline: float, progress: Progress) -> None:
        self._rec("remove_service", self._name(ref))
        super().remove_service(ref, deadline, progress)

    def create_secret(self, secret: SwarmSecret) -> str:
        self._rec("create_secret", secret.name)
        secret_id = super().create_secret(secret)
        self._names[secret_id] = secret.name
        return secret_id

    def remove_secret(self, ref: str) -> None:
        self._rec("remove_secret", self._name(ref))
        super().remove_secret(ref)


RECORDERS: dict[str, type[Recording]] = {
    "docker": RecordingEngine,
    "swarm": RecordingSwarmEngine,
}


@dataclass
class RecordingExecutor(Executor):
    """Tells the recording engine which operation each worker thread is executing."""

    recorder: Recording | None = field(default=None)

    def _execute(self, op: Operation) -> None:
        assert self.recorder is not None
        self.recorder.current.op = op.id
        try:
            super()._execute(op)
        finally:
            self.recorder.current.op = None


# --------------------------------------------------------------------------- expectations


def expected_calls(op: Operation, api_version: str) -> list[Call]:
    """The write calls ``op`` must make, in order (what the printed plan promises)."""
    late_connects = _version_tuple(api_version) < MULTI_NETWORK_CREATE

    def create(name: str) -> list[Call]:
        assert isinstance(op.unit, DesiredContainer)
        extra = op.unit.networks[1:] if late_connects else ()
        copies = [("copy_configs", name)] if op.unit.copies else []
        return [
            ("create_container", name),
            *(("connect", name, n.name) for n in extra),
            *copies,
        ]

    name = op.resource
    match op.kind:
        case Kind.PULL:
            return [("pull", name)]
        case Kind.BUILD:
            return [("build", name)]
        case Kind.CREATE_NETWORK:
            return [("create_network", name)]
        case Kind.REPLACE_NETWORK:
            return [
                *(("disconnect", c, name) for c, _ in op.reconnect),
                ("remove_network", name),
                ("create_network", name),
                *(("connect", c, name) for c, _ in op.reconnect),
            ]
        case Kind.REMOVE_NETWORK:
            return [("remove_network", name)]
        case Kind.CREATE_VOLUME:
            return [("create_volume", name)]
        case Kind.REMOVE_VOLUME:
            return [("remove_volume", name)]
        case Kind.CREATE:
            return [*create(name), ("start", name)]
        case Kind.REPLACE:  # in the order of its steps (stop-first or start-first)
            tmp = temp_name(name)
            per_step: dict[Step, list[Call]] = {
                Step.REMOVE_TEMP: [("remove_container", tmp)],  # a leftover, if any
                Step.CREATE_TEMP: create(tmp),
                Step.STOP_OLD: [("stop", name)],
                Step.START_NEW: [("start", tmp)],
                Step.WAIT_READY: [],  # reads only
                Step.REMOVE_OLD: [("remove_container", name)],
                Step.RENAME: [("rename", tmp, name)],
            }
            return [call for step in op.steps for call in per_step[step]]
        case Kind.START:
            return [("start", name)]
        case Kind.UNPAUSE:
            return [("unpause", name)]
        case Kind.UPDATE:  # then the start or unpause the plan names, if any
            then = {Step.START: "start", Step.UNPAUSE: "unpause"}
            return [("update_container", name), *((then[s], name) for s in op.steps[1:])]
        case Kind.REMOVE:
            return [("stop", name), ("remove_container", name)]
        case Kind.CREATE_SERVICE:  # one create; its rollout is watched with reads
            return [("create_service", name)]
        case Kind.UPDATE_SERVICE:  # one rolling update, with the spec version planned
            return [("update_service", name)]
        case Kind.REMOVE_SERVICE:
            return [("remove_service", name)]
        case Kind.CREATE_SECRET:
            return [("create_secret", name)]
        case Kind.REMOVE_SECRET:
            return [("remove_secret", name)]
        case Kind.WAIT | Kind.ADOPT_NETWORK | Kind.ADOPT_VOLUME:
            return []
        case Kind.ADOPT:  # nothing, or a compose v1 name's rename, then a start or unpause
            adopting: dict[Step, list[Call]] = {
                Step.ADOPT: [],
                Step.RENAME: [("rename", name, name)],  # observed under stackctl's name
                Step.START: [("start", name)],
                Step.UNPAUSE: [("unpause", name)],
            }
            return [call for step in op.steps for call in adopting[step]]
    raise AssertionError(f"no expectation for {op.kind}")


def plan_writes(p: Plan) -> int:
    """How many daemon write calls applying ``p`` costs (one HTTP request each)."""
    return sum(len(expected_calls(op, p.api_version)) for op in p.operations)


@dataclass
class Fidelity:
    operations: int  # operations checked
    calls: int  # write calls checked


def _collapsed(requests: list[Request]) -> list[Request]:
    """The requests, each retry of the one before it (a busy network's remove) dropped."""
    return [r for i, r in enumerate(requests) if i == 0 or requests[i - 1] != r]


def check_fidelity(p: Plan, recorder: Recording, result: ApplyResult) -> Fidelity:
    """Every operation of ``p`` made exactly its expected calls, each one HTTP write; no
    write outside them."""
    by_op: dict[str | None, list[Call]] = {}
    for op_id, call in recorder.log:
        by_op.setdefault(op_id, []).append(call)
    http: dict[str | None, list[Request]] = {}
    for op_id, req in recorder.requests:
        http.setdefault(op_id, []).append(req)
    stray = by_op.pop(None, [])
    assert not stray, f"writes outside any planned operation: {stray}"
    stray_http = http.pop(None, [])
    assert not stray_http, f"HTTP writes outside any planned operation: {stray_http}"
    done = {op.id for op in result.done}
    for op in p.operations:
        want = expected_calls(op, p.api_version) if op.id in done else []
        got = by_op.pop(op.id, [])
        sent = _collapsed(http.pop(op.id, []))
        if op.id not in done:
            continue  # failed or never started: checked by the caller
        assert got == want, f"{op.id} ({op.reason}): planned {want}, made {got}"
        assert len(sent) == len(got), (
            f"{op.id} ({op.reason}): {len(got)} write calls {got} but {len(sent)} HTTP "
            f"writes {sent}"
        )
    assert not by_op, f"writes by operations not in the plan: {by_op}"
    assert not http, f"HTTP writes by operations not in the plan: {http}"
    return Fidelity(len(done), sum(len(expected_calls(o, p.api_version)) for o in result.done))


# --------------------------------------------------------------------------- applies


@dataclass
class Recorded:
    plan: Plan
    result: ApplyResult
    log: str
    fidelity: Fidelity
    calls: list[Call]  # every write, in the order they were made


def run_recorded(
    recorder: Recording, p: Plan, *, wait_timeout: float = 60
) -> tuple[ApplyResult, str, Fidelity]:
    """Apply ``p`` in-process through ``recorder`` (which observed, and ``learn``-ed, the
    state ``p`` was planned from) and check its writes one to one against the operations
    that completed. Returns the result, the progress log and what was checked."""
    del recorder.log[:], recorder.requests[:]
    out = io.StringIO()
    cancel = threading.Event()
    seam = backend_named(recorder.name)
    runner = runner_for(seam, recorder, cancel, RunOptions(wait_timeout=wait_timeout))
    ex = RecordingExecutor(runner, PlainReporter(out), cancel=cancel, recorder=recorder)
    result = ex.run(p)
    checked = check_fidelity(p, recorder, result)
    TALLY[f"{recorder.name} applies"] += 1
    TALLY[f"{recorder.name} writes"] += checked.calls
    return result, out.getvalue(), checked


def recorded_apply(
    url: str,
    stacks: Sequence[Stack],
    *,
    backend: str = "docker",
    destroy: bool = False,
    wait_timeout: float = 60,
    prune: bool = False,
    volumes: bool = False,
    no_build: bool = False,
) -> Recorded:
    """Plan (or with ``destroy``, plan the destroy) through the backend named, apply, and
    check the writes one to one against the plan's operations (only those that completed,
    when the apply failed)."""
    seam = backend_named(backend)
    recorder = RECORDERS[backend](url)
    try:
        observed = seam.observe(recorder)
        recorder.learn(observed)
        want = seam.desire(stacks)
        if destroy:
            p = seam.plan_destroy(want, observed, volumes=volumes)
        else:
            p = seam.plan(want, observed, prune=prune, no_build=no_build)
        result, log, checked = run_recorded(recorder, p, wait_timeout=wait_timeout)
        return Recorded(p, result, log, checked, recorder.calls())
    finally:
        recorder.close()


# --------------------------------------------------------------------------- the CLI


@dataclass
class CliRun:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def cli_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKCTL_TEST_")}
    env.update({"DOCKER_HOST": url, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **extra})
    return env


def cli(url: str, *args: str | Path, timeout: float = 120, **extra_env: str) -> CliRun:
    """``python -m stackctl ARGS`` against the daemon at ``url``; never a traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "stackctl", *map(str, args)],
        env=cli_env(url, **extra_env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


# --------------------------------------------------------------------------- the daemon's list


def listed(api: Any, name: str) -> dict[str, Any] | None:
    """The container list's entry for ``name`` (what stackctl observes), or None."""
    found = api.containers(all=True, filters={"name": f"^/{name}$"})
    return dict(found[0]) if found else None


def settle(
    api: Any, name: str, check: Callable[[dict[str, Any] | None], bool], timeout: float = 15
) -> None:
    """Wait until the container list shows ``check`` for ``name``. Docker 26 answers a
    stop before its container list says so (the list is a copy the daemon updates a moment
    later): a plan made at once after a change by hand may not see it yet."""
    deadline = time.monotonic() + timeout
    while not check(listed(api, name)):
        assert time.monotonic() < deadline, f"the daemon's list never showed the change of {name}"
        time.sleep(0.05)
