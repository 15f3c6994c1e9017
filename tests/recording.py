"""Plan fidelity: record every daemon write an apply makes and hold it against the plan.

``RecordingEngine`` is a DockerEngine that logs each write method call with the name of
what it acts on (container ids are turned back into names) and the plan operation that
made it (``RecordingExecutor`` tells it, per worker thread). ``expected_calls`` is what
each operation kind must cost; ``check_fidelity`` compares the two one to one: every
operation made exactly its calls in order, and nothing wrote outside an operation.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackctl.backends.docker.backend import DockerBackend
from stackctl.backends.docker.desired import ContainerNetwork, DesiredContainer, desire
from stackctl.backends.docker.observe import ObservedState, observe
from stackctl.backends.docker.plan import plan
from stackctl.core.labels import temp_name
from stackctl.core.plan import Kind, Operation, Plan
from stackctl.core.resources import DesiredNetwork, DesiredVolume
from stackctl.core.run import RunOptions
from stackctl.engine import DockerEngine
from stackctl.engine.docker import MULTI_NETWORK_CREATE, _version_tuple
from stackctl.execute import ApplyResult, Executor, runner_for
from stackctl.model import Stack
from stackctl.progress import PlainReporter

ROOT = Path(__file__).resolve().parent.parent

Call = tuple[str, ...]  # ("start", "sct1234-web-1"), ("rename", old, new), ...


# --------------------------------------------------------------------------- recording


class RecordingEngine(DockerEngine):
    """A DockerEngine that logs its write calls: ``(op id or None, call)``."""

    def __init__(self, base_url: str | None = None) -> None:
        super().__init__(base_url)
        self.log: list[tuple[str | None, Call]] = []
        self.current = threading.local()
        self._names: dict[str, str] = {}  # container id -> current name
        self._log_lock = threading.Lock()

    def learn(self, observed: ObservedState) -> None:
        for c in observed.containers:
            self._names[c.id] = c.name

    def _name(self, ref: str) -> str:
        if ref in self._names:
            return self._names[ref]
        for cid, name in self._names.items():
            if len(ref) >= 12 and cid.startswith(ref):
                return name
        if len(ref) == 64:  # an id made in this apply (connects inside create_container)
            info = self.inspect_container(ref)
            if info is not None:
                self._names[ref] = str(info.get("Name", ref)).lstrip("/")
                return self._names[ref]
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

    def create_container(self, dc: DesiredContainer, name: str) -> str:
        self._rec("create_container", name)
        cid = super().create_container(dc, name)
        self._names[cid] = name
        return cid

    def connect(self, container: str, net: ContainerNetwork) -> None:
        self._rec("connect", self._name(container), net.name)
        super().connect(container, net)

    def disconnect(self, container: str, network: str) -> None:
        self._rec("disconnect", self._name(container), network)
        super().disconnect(container, network)

    def start(self, container: str) -> None:
        self._rec("start", self._name(container))
        super().start(container)

    def unpause(self, container: str) -> None:
        self._rec("unpause", self._name(container))
        super().unpause(container)

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


@dataclass
class RecordingExecutor(Executor):
    """Tells the recording engine which operation each worker thread is executing."""

    recorder: RecordingEngine | None = field(default=None)

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
        return [("create_container", name), *(("connect", name, n.name) for n in extra)]

    name = op.resource
    match op.kind:
        case Kind.PULL:
            return [("pull", name)]
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
        case Kind.REPLACE:
            tmp = temp_name(name)
            return [
                ("remove_container", tmp),  # a leftover of an interrupted replace, if any
                *create(tmp),
                ("stop", name),
                ("remove_container", name),
                ("rename", tmp, name),
                ("start", name),
            ]
        case Kind.START:
            return [("start", name)]
        case Kind.UNPAUSE:
            return [("unpause", name)]
        case Kind.REMOVE:
            return [("stop", name), ("remove_container", name)]
        case Kind.WAIT:
            return []
    raise AssertionError(f"no expectation for {op.kind}")


def plan_writes(p: Plan) -> int:
    """How many daemon write calls applying ``p`` costs (one HTTP request each)."""
    return sum(len(expected_calls(op, p.api_version)) for op in p.operations)


@dataclass
class Fidelity:
    operations: int  # operations checked
    calls: int  # write calls checked


def check_fidelity(p: Plan, recorder: RecordingEngine, result: ApplyResult) -> Fidelity:
    """Every operation of ``p`` made exactly its expected calls; no write outside them."""
    by_op: dict[str | None, list[Call]] = {}
    for op_id, call in recorder.log:
        by_op.setdefault(op_id, []).append(call)
    stray = by_op.pop(None, [])
    assert not stray, f"writes outside any planned operation: {stray}"
    done = {op.id for op in result.done}
    for op in p.operations:
        want = expected_calls(op, p.api_version) if op.id in done else []
        got = by_op.pop(op.id, [])
        if op.id not in done:
            continue  # failed or never started: checked by the caller
        assert got == want, f"{op.id} ({op.reason}): planned {want}, made {got}"
    assert not by_op, f"writes by operations not in the plan: {by_op}"
    return Fidelity(len(done), sum(len(expected_calls(o, p.api_version)) for o in result.done))


# --------------------------------------------------------------------------- applies


@dataclass
class Recorded:
    plan: Plan
    result: ApplyResult
    log: str
    fidelity: Fidelity
    calls: list[Call]  # every write, in the order they were made


def recorded_apply(
    url: str, stacks: Sequence[Stack], *, wait_timeout: float = 60, **kw: bool
) -> Recorded:
    """Plan and apply in-process (as tests.support does) and check the writes one to one
    against the plan's operations (only those that completed, when the apply failed)."""
    recorder = RecordingEngine(url)
    try:
        observed = observe(recorder)
        recorder.learn(observed)
        p = plan(desire(stacks), observed, **kw)
        out = io.StringIO()
        cancel = threading.Event()
        runner = runner_for(
            DockerBackend(), recorder, cancel, RunOptions(wait_timeout=wait_timeout)
        )
        ex = RecordingExecutor(runner, PlainReporter(out), cancel=cancel, recorder=recorder)
        result = ex.run(p)
        return Recorded(
            p, result, out.getvalue(), check_fidelity(p, recorder, result), recorder.calls()
        )
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
