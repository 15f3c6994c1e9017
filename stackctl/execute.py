"""Execute a Plan: each operation once the ones it waits for are done, in parallel, bounded.

The executor only schedules: it decides nothing about what an operation does. Each one is
run by a :class:`~stackctl.core.run.Runner` (the shared kinds by the core, a backend's
units by the backend's runner) that performs exactly the steps the plan names.

The first failure stops new operations from starting; those in flight finish; the result
says what was done, what failed (with the daemon's message) and what never started.
Ctrl-C behaves the same. Waits run beside the bounded pool so they never starve it.

Of the operations ready at once, those that a wait depends on go first (critical path):
the neighbour others wait for starts its health clock while the rest are still created.
Container starts that no wait needs are even held back until those that one needs are
started: the daemon sets containers up largely one after another, so ten starts sent at
once would delay the one whose health check the others wait for by all the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any, Protocol

from stackctl.core.backend import AnyBackend
from stackctl.core.plan import Kind, Operation, Plan
from stackctl.core.run import PlanRunner, Runner, RunOptions, SharedRunner
from stackctl.errors import StackctlError, WaitCancelled


class Reporter(Protocol):
    """Progress sink: a live table on a terminal, plain lines when piped, or JSON events."""

    def started(self, op: Operation) -> None: ...
    def progress(self, op: Operation, text: str) -> None: ...
    def done(self, op: Operation, seconds: float) -> None: ...
    def failed(self, op: Operation, error: str) -> None: ...
    def finish(self, result: ApplyResult) -> None: ...


WAIT_WEIGHT = 10  # a wait counts like this many operations on a critical path


def priorities(operations: Sequence[Operation]) -> dict[str, tuple[int, int, int]]:
    """Sort keys for ready operations: the longest path of dependents first (a wait weighs
    WAIT_WEIGHT, any other operation 1); of equal ones, the one with the longest path behind
    it (a dependent whose wait just ended goes before services ready since the start); then
    the plan's order."""
    ids = {op.id for op in operations}
    dependents: dict[str, list[Operation]] = {}
    for op in operations:
        for dep in op.depends_on:
            if dep in ids:
                dependents.setdefault(dep, []).append(op)
    try:
        graph = {op.id: [d.id for d in dependents.get(op.id, [])] for op in operations}
        leaves_first = list(TopologicalSorter(graph).static_order())
    except CycleError:  # not a plan the planner makes; keep the plan's order
        leaves_first = []
    by_id = {op.id: op for op in operations}

    def weight(op_id: str) -> int:
        return WAIT_WEIGHT if by_id[op_id].kind == Kind.WAIT else 1

    height: dict[str, int] = {}
    for op_id in leaves_first:
        height[op_id] = max(
            (height[d.id] + weight(d.id) for d in dependents.get(op_id, [])), default=0
        )
    depth: dict[str, int] = {}
    for op_id in reversed(leaves_first):
        depth[op_id] = max(
            (depth[d] + weight(d) for d in by_id[op_id].depends_on if d in ids), default=0
        )
    return {
        op.id: (-height.get(op.id, 0), -depth.get(op.id, 0), i) for i, op in enumerate(operations)
    }


# the operations that start a container
STARTS = {Kind.CREATE, Kind.REPLACE, Kind.START, Kind.UNPAUSE}


def wait_feeders(operations: Sequence[Operation]) -> set[str]:
    """The container starts that a wait depends on, directly or through other operations."""
    by_id = {op.id: op for op in operations}
    found: set[str] = set()
    todo = [d for op in operations if op.kind == Kind.WAIT for d in op.depends_on]
    while todo:
        op_id = todo.pop()
        if op_id in found or op_id not in by_id:
            continue
        found.add(op_id)
        todo.extend(by_id[op_id].depends_on)
    return {i for i in found if by_id[i].kind in STARTS}


SLOW = {Kind.WAIT, Kind.PULL, Kind.BUILD}  # what a container start may wait for that takes long


def held_back(
    waiting: Mapping[str, AbstractSet[str]],
    in_flight: Iterable[str],
    ops: Mapping[str, Operation],
    feeders: AbstractSet[str],
) -> set[str]:
    """The ready container starts to keep back: those no wait needs, for as long as a start
    that a wait needs is in flight or about to go (ready, or waiting only for networks and
    volumes). ``waiting``: each operation not yet started -> what it still waits for.

    A feeder still behind a wait or a pull holds nothing back: the rest run meanwhile."""
    coming = any(i in feeders for i in in_flight) or any(
        i in feeders and not any(ops[d].kind in SLOW for d in deps) for i, deps in waiting.items()
    )
    if not coming:
        return set()
    return {
        i for i, deps in waiting.items() if not deps and ops[i].kind in STARTS and i not in feeders
    }


@dataclass
class ApplyResult:
    done: list[Operation] = field(default_factory=list)
    failed: list[tuple[Operation, str]] = field(default_factory=list)
    not_started: list[Operation] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_started and not self.interrupted


@dataclass
class Executor:
    """Schedules a plan's operations; ``runner`` runs each one as the plan names it."""

    runner: Runner
    reporter: Reporter
    parallelism: int = 4
    cancel: threading.Event = field(default_factory=threading.Event)  # waits watch it

    # ------------------------------------------------------------------ graph

    def run(self, plan: Plan) -> ApplyResult:
        result = ApplyResult()
        self.cancel.clear()
        t0 = time.monotonic()
        ops = {op.id: op for op in plan.operations}
        waiting = {op.id: {d for d in op.depends_on if d in ops} for op in plan.operations}
        order = [op.id for op in plan.operations]
        rank = priorities(plan.operations)
        feeders = wait_feeders(plan.operations)
        running: dict[Future[None], Operation] = {}
        busy = 0  # operations in the bounded pool (waits aside)
        width = max(1, self.parallelism)
        stopping = False
        pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="op")
        waits = ThreadPoolExecutor(max_workers=64, thread_name_prefix="wait")
        try:
            while True:
                if not stopping:
                    # Submit no more than the pool runs at once, so an operation that becomes
                    # ready later (after a wait) can still go before the rest of the queue.
                    ready = sorted((i for i, d in waiting.items() if not d), key=rank.__getitem__)
                    held = held_back(waiting, (o.id for o in running.values()), ops, feeders)
                    for op_id in ready:
                        op = ops[op_id]
                        if op_id in held or (op.kind != Kind.WAIT and busy >= width):
                            continue
                        del waiting[op_id]
                        self.reporter.started(op)
                        if op.kind == Kind.WAIT:
                            running[waits.submit(self._timed, op)] = op
                        else:
                            busy += 1
                            running[pool.submit(self._timed, op)] = op
                if not running:
                    break
                try:
                    finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:
                    stopping = True
                    result.interrupted = True
                    self.cancel.set()
                    continue
                for fut in finished:
                    op = running.pop(fut)
                    if op.kind != Kind.WAIT:
                        busy -= 1
                    error = fut.exception()
                    if error is None:
                        result.done.append(op)
                        for deps in waiting.values():
                            deps.discard(op.id)
                    elif isinstance(error, WaitCancelled):
                        result.not_started.append(op)  # gave up because apply is stopping
                    else:
                        message = str(error) if isinstance(error, StackctlError) else repr(error)
                        result.failed.append((op, message))
                        self.reporter.failed(op, message)
                        stopping = True
                        self.cancel.set()  # waits in flight give up; other operations finish
        finally:
            self.cancel.set()
            pool.shutdown(wait=True)
            waits.shutdown(wait=True)
        result.not_started += [ops[i] for i in order if i in waiting]
        result.seconds = time.monotonic() - t0
        self.reporter.finish(result)
        return result

    def _timed(self, op: Operation) -> None:
        t0 = time.monotonic()
        self._execute(op)
        self.reporter.done(op, time.monotonic() - t0)

    # ------------------------------------------------------------------ operations

    def _execute(self, op: Operation) -> None:
        self.runner.run(op, lambda text: self.reporter.progress(op, text))


def runner_for(
    backend: AnyBackend, engine: Any, cancel: threading.Event, options: RunOptions
) -> PlanRunner:
    """The shared kinds run by the core (waits given up when ``cancel`` is set), the
    backend's units by its own runner."""
    waiter = backend.waiter(engine, cancel)
    shared = SharedRunner(engine, waiter, options)
    return PlanRunner(shared, backend.runner(engine, options, waiter))


def executor_for(
    backend: AnyBackend,
    engine: Any,
    reporter: Reporter,
    *,
    parallelism: int = 4,
    options: RunOptions | None = None,
) -> Executor:
    cancel = threading.Event()
    runner = runner_for(backend, engine, cancel, options or RunOptions())
    return Executor(runner, reporter, parallelism, cancel)
