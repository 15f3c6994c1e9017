"""How stackctl's reading and planning scale with the number of services, per input form.

    python -m bench.load [--sizes 10,100,300,1000] [--runs 5] [--applied 100]

For each N it generates the benchmark stack (bench/gen.py) as ``stack.py`` and as the
equivalent ``compose.yaml`` and times, as separate processes (start-up included), the
median of the runs:

    validate                  stackctl validate FILE
    plan from nothing         stackctl plan FILE        (nothing of the stack exists)

With ``--applied N`` it also applies the N-service stack once and times the plan that
finds nothing to do, from each form, beside the floor's check (bench/floor.py ``noop``:
the fewest API calls that show the stack is up); then it destroys the stack.

Each row gives wall seconds, CPU seconds (user + system) and the peak memory of the
process (maximum resident set size). Stack names are unique (``bl<hex>``); what an
``--applied`` run creates is removed at the end, also after a failure or Ctrl-C.
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


def row(n: int | str, what: str, form: str, s: Sample, extra: str = "") -> str:
    return f"| {n} | {what} | {form} | {s.seconds:.2f} | {s.cpu:.2f} | {s.rss_mib:.0f} | {extra} |"


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
                lines.append(row(n, what, form, s))
                print(lines[-1], file=sys.stderr, flush=True)
    return lines


def applied(cmd: list[str], n: int, runs: int, folder: Path) -> list[str]:
    import docker

    from bench.run import free_subnets

    api = docker.APIClient(version="auto")
    d = gen.describe(f"bl{uuid.uuid4().hex[:8]}", n, free_subnets(api, len(gen.NETWORKS)))
    gen.write(d, folder / f"applied-{n}")
    files = {form: str(folder / f"applied-{n}" / form) for form in FORMS}
    floor = [sys.executable, "-m", "bench.floor", "noop", d.name, str(n)]
    floor += ["--subnets", ",".join(s for _, s in d.subnets)]
    lines = []
    try:
        measure([*cmd, "apply", "-y", "--parallelism", "16", files["stack.py"]])
        base = median([measure(floor) for _ in range(runs)])
        for form in FORMS:
            argv = [*cmd, "plan", "--detailed-exitcode", files[form]]
            s = median([measure(argv) for _ in range(runs)])
            lines.append(row(n, "plan, nothing to do", form, s, f"{s.seconds / base.seconds:.2f}x"))
        lines.append(row(n, "floor check", "-", base))
    finally:
        cleanup(d.name)
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
        help="also time the no-change plan of an applied N-service stack",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    cmd = stackctl_command()
    lines = [
        "| N | operation | input | wall s | CPU s | peak MiB | vs floor |",
        "|---:|---|---|---:|---:|---:|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="stackctl-bench-load-") as tmp:
        lines += scaling(cmd, sizes, args.runs, Path(tmp))
        if args.applied:
            lines += applied(cmd, args.applied, args.runs, Path(tmp))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
