"""How stackctl's reading and planning scale with the number of services, per input form.

    python -m bench.load [--sizes 10,100,300,1000] [--runs 5] [--applied 100]

For each N it generates the benchmark stack (bench/gen.py) as ``stack.py`` and as the
equivalent ``compose.yaml`` and times, as separate processes (start-up included), the
median of the runs:

    validate                  stackctl validate FILE
    plan from nothing         stackctl plan FILE        (nothing of the stack exists)

With ``--applied N`` it also applies the N-service stack once and times, from each form:

    plan, nothing to do       stackctl plan FILE        beside the floor's check (floor.py
                                                        ``noop``: the fewest API calls that
                                                        show the stack is up)
    one service changed       stackctl apply -y FILE    beside the floor's ``change`` on its
                                                        own equal stack: that one container
                                                        stopped, removed, created, started
                                                        and healthy (bench/gen.py ``changed``:
                                                        a new BENCH_CHANGE value each run)

stackctl's stack and the floor's are up one at a time (each side timed beside the same
load of health checks); each is destroyed after its turn.

Each row gives wall seconds, CPU seconds (user + system) and the peak memory of the
process (maximum resident set size), stackctl's distance from the floor, and the row's
target (TARGETS) marked ``ok`` or ``MISSED``. Stack names are unique (``bl<hex>``); what
an ``--applied`` run creates is removed at the end, also after a failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # `python bench/load.py` as well as `python -m bench.load`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gen
from bench.cleanup import cleanup
from bench.run import ROOT, stackctl_command

FORMS = ("compose.yaml", "stack.py")


@dataclass(frozen=True)
class Target:
    """A row's goal: wall seconds under ``limit`` (plus the floor's, when ``over_floor``),
    and at most ``ratio`` times the floor's; for stacks of up to ``n`` services."""

    operation: str
    n: int
    limit: float
    over_floor: bool = False
    ratio: float | None = None

    def text(self) -> str:
        goal = f"< {self.limit:g} s" if not self.over_floor else f"floor + {self.limit:g} s"
        if self.ratio is not None:
            goal += f", <= {self.ratio:g}x floor"
        return goal

    def met(self, wall: float, floor: float | None) -> bool:
        if floor is None:
            if self.over_floor or self.ratio is not None:
                raise ValueError(f"{self.operation}: the target needs the floor's time")
            return wall < self.limit
        limit = self.limit + floor if self.over_floor else self.limit
        return wall < limit and (self.ratio is None or wall <= self.ratio * floor)


# Issues 19 and 23: what these rows must reach (the no-change and changed-service rows at
# 100 services; validate and plan from nothing up to 1000).
TARGETS = (
    Target("validate", 1000, 0.6),
    Target("plan from nothing", 1000, 1.0),
    Target("plan, nothing to do", 100, 0.3, ratio=1.5),
    Target("one service changed", 100, 0.3, over_floor=True),
)


def mark(operation: str, n: int, wall: float, floor: float | None = None) -> str:
    """``ok (goal)`` or ``MISSED (goal)`` against the row's target; "-" when it has none."""
    for t in TARGETS:
        if t.operation == operation and n <= t.n:
            return f"{'ok' if t.met(wall, floor) else 'MISSED'} ({t.text()})"
    return "-"


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu: float
    rss_mib: float


def measure(argv: list[str], *, ok: tuple[int, ...] = (0,)) -> Sample:
    """Run ``argv`` to its end: wall seconds, its CPU seconds and its peak memory."""
    env = {**os.environ}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure as installed: from bytecode
    t0 = time.monotonic()
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        tail = "\n    ".join(err.decode(errors="replace").strip().splitlines()[-4:])
        raise SystemExit(f"{' '.join(argv[-3:])} exited {proc.returncode}:\n    {tail}")
    return Sample(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.seconds for s in samples),
        statistics.median(s.cpu for s in samples),
        max(s.rss_mib for s in samples),
    )


def row(n: int | str, what: str, form: str, s: Sample, extra: str = "-", target: str = "-") -> str:
    return (
        f"| {n} | {what} | {form} | {s.seconds:.2f} | {s.cpu:.2f} | {s.rss_mib:.0f} | {extra} "
        f"| {target} |"
    )


def scaling(cmd: list[str], sizes: list[int], runs: int, folder: Path) -> list[str]:
    lines = []
    for n in sizes:
        d = gen.describe(f"bl{uuid.uuid4().hex[:8]}", n)
        gen.write(d, folder / str(n))
        for form in FORMS:
            path = str(folder / str(n) / form)
            for what, argv in (
                ("validate", [*cmd, "validate", path]),
                # 0 or 2 (--detailed-exitcode): the plan ran; it has changes from nothing.
                ("plan from nothing", [*cmd, "plan", "--detailed-exitcode", path]),
            ):
                ok = (0,) if what == "validate" else (2,)
                s = median([measure(argv, ok=ok) for _ in range(runs)])
                lines.append(row(n, what, form, s, target=mark(what, n, s.seconds)))
                print(lines[-1], file=sys.stderr, flush=True)
    return lines


def applied(cmd: list[str], n: int, runs: int, folder: Path) -> list[str]:
    """The rows of an applied N-service stack: stackctl's on its own stack, then the
    floor's on an equal stack of its own (one stack up at a time: each side is timed
    beside the same load of health checks)."""
    import docker

    from bench.run import free_subnets

    api = docker.APIClient(version="auto")
    subnets = free_subnets(api, len(gen.NETWORKS))
    d = gen.describe(f"bl{uuid.uuid4().hex[:8]}", n, subnets)
    f = gen.describe(f"bl{uuid.uuid4().hex[:8]}", n, subnets)  # the floor's
    here = folder / d.name  # the compose form's project name is its folder's
    gen.write(d, here)
    files = {form: str(here / form) for form in FORMS}
    floor = [sys.executable, "-m", "bench.floor"]
    on_f = [f.name, str(n), "--subnets", ",".join(s for _, s in f.subnets)]
    plans: dict[str, Sample] = {}
    changes: dict[str, Sample] = {}
    try:
        measure([*cmd, "apply", "-y", "--parallelism", "16", files["stack.py"]])
        for form in FORMS:
            argv = [*cmd, "plan", "--detailed-exitcode", files[form]]
            plans[form] = median([measure(argv) for _ in range(runs)])
        for form in FORMS:
            samples = []
            for i in range(runs):
                gen.write(gen.changed(d, f"{form}-{i}"), here)
                samples.append(measure([*cmd, "apply", "-y", files[form]]))
            changes[form] = median(samples)
    finally:
        cleanup(d.name)
    try:
        measure([*floor, "apply", *on_f, "--parallelism", "16"])
        base = median([measure([*floor, "noop", *on_f]) for _ in range(runs)])
        floor_change = median(
            [measure([*floor, "change", *on_f, "--change", str(i)]) for i in range(runs)]
        )
    finally:
        cleanup(f.name)
    lines = []
    for form, s in plans.items():
        verdict = mark("plan, nothing to do", n, s.seconds, base.seconds)
        ratio = f"{s.seconds / base.seconds:.2f}x"
        lines.append(row(n, "plan, nothing to do", form, s, ratio, verdict))
    lines.append(row(n, "floor check", "-", base))
    for form, s in changes.items():
        extra = f"{s.seconds - floor_change.seconds:+.2f} s"
        verdict = mark("one service changed", n, s.seconds, floor_change.seconds)
        lines.append(row(n, "one service changed", form, s, extra, verdict))
    lines.append(row(n, "floor change", "-", floor_change))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="10,100,300,1000", help="services per stack")
    parser.add_argument("--runs", type=int, default=5, help="runs per row; the median counts")
    parser.add_argument(
        "--applied",
        type=int,
        default=0,
        metavar="N",
        help="also time the no-change plan and a one-service change of an applied N-service stack",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    cmd = stackctl_command()
    lines = [
        "| N | operation | input | wall s | CPU s | peak MiB | vs floor | target |",
        "|---:|---|---|---:|---:|---:|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="stackctl-bench-load-") as tmp:
        lines += scaling(cmd, sizes, args.runs, Path(tmp))
        if args.applied:
            lines += applied(cmd, args.applied, args.runs, Path(tmp))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
