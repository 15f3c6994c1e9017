"""Benchmark stackctl against docker-compose and the Engine API floor, on one daemon.

    python -m bench.run [--sizes 10,30,100] [--runs 3] [--parallelism 16]
                        [--unwaited-interval 30s]

For each N it generates a stack (bench/gen.py: N busybox services on two networks, a health
check on each, every fifth service depending on its neighbour being healthy; the neighbours
checked every 2 s, the rest every 30 s unless --unwaited-interval says otherwise) as a
stackctl stack file and as an equivalent compose.yaml, then times, as separate processes
(start-up included), median of the runs:

    apply from nothing       stackctl apply -y      docker-compose up -d   floor apply
    plan, nothing to do      stackctl plan          -                      floor check
    apply, nothing to do     stackctl apply -y      docker-compose up -d   floor check
    destroy                  stackctl destroy -y    docker-compose down    floor destroy

and prints one table: seconds, stackctl's ratio to the floor, and the Engine API calls
stackctl made (STACKCTL_COUNT_CALLS=1) beside the floor's. Each tool and run gets its own
stack name under one unique prefix; everything under the prefix is removed at the end,
also after a failure or Ctrl-C. docker-compose (Debian's package) is installed on first
use when missing.
"""

from __future__ import annotations

import argparse
import compileall
import ipaddress
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py` as well as `python -m bench.run`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import docker

from bench import gen
from bench.cleanup import cleanup

ROOT = Path(__file__).resolve().parent.parent
OPS = ("apply", "plan0", "apply0", "destroy")
OP_NAMES = {
    "apply": "apply from nothing",
    "plan0": "plan, nothing to do",
    "apply0": "apply, nothing to do",
    "destroy": "destroy",
}
TOOLS = ("stackctl", "compose", "floor")
SUBNETS = ipaddress.ip_network("172.16.0.0/16")  # outside Docker's default address pools
_CALLS = re.compile(r"api-calls: (.*)")


@dataclass
class Sample:
    seconds: float
    calls: dict[str, int] = field(default_factory=dict)
    cpu: float = 0.0  # user + system seconds of the command (and its children)


@dataclass
class Results:
    samples: dict[tuple[int, str, str], list[Sample]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, n: int, tool: str, op: str, sample: Sample) -> None:
        self.samples.setdefault((n, tool, op), []).append(sample)

    def median(self, n: int, tool: str, op: str, what: str = "seconds") -> float | None:
        got = self.samples.get((n, tool, op))
        return statistics.median(getattr(s, what) for s in got) if got else None

    def count(self, n: int, tool: str, op: str) -> int:
        return len(self.samples.get((n, tool, op), []))

    def calls(self, n: int, tool: str, op: str) -> str:
        got = self.samples.get((n, tool, op))
        if not got:
            return "-"
        totals = sorted({sum(s.calls.values()) for s in got})
        text = "/".join(str(t) for t in totals)  # one number when every run made the same
        last = got[-1].calls
        detail = " ".join(f"{m[0]}{last.get(m, 0)}" for m in ("GET", "POST", "DELETE"))
        return f"{text} ({detail})"


class Failed(Exception):
    pass


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def timed(argv: list[str], logfile: Path, *, ok: tuple[int, ...] = (0,)) -> Sample:
    """Run ``argv``, wall-clock timed; its output goes to ``logfile``."""
    env = {**os.environ, "STACKCTL_COUNT_CALLS": "1", "COMPOSE_INTERACTIVE_NO_CLI": "1"}
    # Measure stackctl as installed: from compiled bytecode, as pip leaves it (a shell that
    # sets PYTHONDONTWRITEBYTECODE would make every run compile stackctl's modules again).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with logfile.open("a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        proc = subprocess.run(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out.write(proc.stderr)
        out.write(f"[exit {proc.returncode}, {seconds:.2f}s]\n\n")
    if proc.returncode not in ok:
        tail = "\n    ".join(proc.stderr.strip().splitlines()[-4:])
        raise Failed(f"{' '.join(argv[-3:])} exited {proc.returncode}:\n    {tail}")
    calls: dict[str, int] = {}
    match = _CALLS.search(proc.stderr)
    if match:
        for part in match.group(1).split():
            key, _, value = part.partition("=")
            if key != "total":
                calls[key] = int(value)
    return Sample(seconds, calls, cpu)


# --------------------------------------------------------------------------- set-up


def stackctl_command() -> list[str]:
    """The console script beside this interpreter (not a shim that starts another shell)."""
    script = Path(sys.executable).parent / "stackctl"
    if script.exists():
        return [str(script)]
    found = shutil.which("stackctl")
    if found is None:
        raise SystemExit("stackctl is not installed: pip install -e .")
    return [found]


def ensure_compose() -> str | None:
    """docker-compose from Debian's package (installed when missing); None if it cannot be."""
    found = shutil.which("docker-compose")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        log("docker-compose is missing and cannot be installed here (needs root and apt-get)")
        return None
    log("installing docker-compose (Debian package) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    subprocess.run(["apt-get", "update"], check=False, **quiet)  # type: ignore[call-overload]
    install = ["apt-get", "install", "-y", "--no-install-recommends", "docker-compose"]
    subprocess.run(install, check=False, **quiet)  # type: ignore[call-overload]
    return shutil.which("docker-compose")


def cpu_cgroup(pid: int | str) -> str:
    """A process's CPU cgroup (cgroup v1's cpu line, else v2's unified one); "?" if unknown."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return "?"
    found = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        found["cpu" if "cpu" in controllers.split(",") else controllers] = path
    return found.get("cpu") or found.get("") or "?"


def cgroups() -> str:
    """Where the local dockerd and this process share the CPU (see bench/README.md)."""
    pidfile = Path("/var/run/docker.pid")
    if os.environ.get("DOCKER_HOST") or not pidfile.exists():
        return "dockerd's CPU cgroup unknown (not a local daemon)"
    daemon = pidfile.read_text().strip()
    return f"CPU cgroups: dockerd {cpu_cgroup(daemon)}, the timed commands {cpu_cgroup('self')}"


def free_subnets(api: docker.APIClient, count: int) -> tuple[str, ...]:
    used = []
    for net in api.networks():
        for pool in (net.get("IPAM") or {}).get("Config") or []:
            if pool.get("Subnet"):
                used.append(ipaddress.ip_network(pool["Subnet"], strict=False))
    out: list[str] = []
    for candidate in SUBNETS.subnets(new_prefix=24):
        if candidate.network_address.packed[2] == 0:
            continue
        if not any(candidate.overlaps(u) for u in used):
            out.append(str(candidate))
            if len(out) == count:
                return tuple(out)
    raise SystemExit(f"no free /24 left in {SUBNETS} for the benchmark networks")


# --------------------------------------------------------------------------- one tool


Record = Callable[[str, Sample], Sample]


def recorder(res: Results, n: int, tool: str, got: dict[str, Sample]) -> Record:
    def record(op: str, sample: Sample) -> Sample:
        got[op] = sample
        res.add(n, tool, op, sample)
        return sample

    return record


def run_stackctl(cmd: list[str], folder: Path, p: int, logfile: Path, record: Record) -> None:
    stack = str(folder / "stack.py")
    # --no-wait: like `compose up -d` and the floor, return once every container is started
    # (apply otherwise waits for what it created to be healthy; see the README's Safety)
    apply = [*cmd, "apply", "-y", "--no-wait", "--parallelism", str(p), stack]
    record("apply", timed(apply, logfile))
    # --detailed-exitcode: 0 only when there is nothing to do (2 would mean changes).
    record("plan0", timed([*cmd, "plan", "--detailed-exitcode", stack], logfile))
    again = record("apply0", timed([*cmd, "apply", "-y", stack], logfile))
    if again.calls.get("POST", 0) + again.calls.get("DELETE", 0):
        raise Failed(f"the second stackctl apply wrote to the daemon ({again.calls})")
    record("destroy", timed([*cmd, "destroy", "-y", "--parallelism", str(p), stack], logfile))


def run_compose(
    compose: str, d: gen.Description, folder: Path, logfile: Path, record: Record
) -> None:
    base = [compose, "--no-ansi", "-p", d.name, "-f", str(folder / "compose.yaml")]
    record("apply", timed([*base, "up", "-d"], logfile))
    record("apply0", timed([*base, "up", "-d"], logfile))
    record("destroy", timed([*base, "down"], logfile))


def run_floor(d: gen.Description, p: int, logfile: Path, record: Record) -> None:
    base = [sys.executable, "-m", "bench.floor"]
    args = [d.name, str(len(d.services)), "--parallelism", str(p)]
    args += ["--subnets", ",".join(s for _, s in d.subnets)]
    args += ["--unwaited-interval", d.unwaited_interval]
    record("apply", timed([*base, "apply", *args], logfile))
    record("plan0", record("apply0", timed([*base, "noop", *args], logfile)))
    record("destroy", timed([*base, "destroy", *args], logfile))


# --------------------------------------------------------------------------- report


def fmt(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.2f}{suffix}"


def table(res: Results, sizes: list[int], runs: int) -> list[str]:
    lines = [
        "| N | operation | stackctl s | floor s | stackctl/floor | compose s "
        "| stackctl CPU s | stackctl API calls | floor API calls |",
        "|---:|---|---:|---:|---:|---:|---:|---|---|",
    ]

    def cell(n: int, tool: str, op: str) -> str:
        value = res.median(n, tool, op)
        got = res.count(n, tool, op)
        return fmt(value) + (f" ({got}/{runs})" if value is not None and got < runs else "")

    for n in sizes:
        for op in OPS:
            st = res.median(n, "stackctl", op)
            fl = res.median(n, "floor", op)
            ratio = f"{st / fl:.2f}x" if st and fl and op in ("apply", "destroy") else "-"
            lines.append(
                f"| {n} | {OP_NAMES[op]} | {cell(n, 'stackctl', op)} | {cell(n, 'floor', op)} "
                f"| {ratio} | {cell(n, 'compose', op)} "
                f"| {fmt(res.median(n, 'stackctl', op, 'cpu'))} "
                f"| {res.calls(n, 'stackctl', op)} | {res.calls(n, 'floor', op)} |"
            )
    return lines


def verdicts(res: Results, sizes: list[int]) -> list[str]:
    out: list[str] = []

    def check(ok: bool | None, text: str) -> None:
        out.append(f"[{'ok' if ok else 'MISSED' if ok is not None else 'n/a'}] {text}")

    top = max(sizes)
    for op in ("plan0", "apply0"):
        s = res.median(top, "stackctl", op)
        check(None if s is None else s < 1.0, f"{OP_NAMES[op]}, {top} services: {fmt(s)}s < 1s")
        counts = {res.calls(n, "stackctl", op).split(" ")[0] for n in sizes}
        check(len(counts) == 1, f"{OP_NAMES[op]}: API calls the same at every N ({counts})")
    for op in ("apply", "destroy"):
        for n in sizes:
            st, fl = res.median(n, "stackctl", op), res.median(n, "floor", op)
            dc = res.median(n, "compose", op)
            ratio = None if st is None or fl is None else st / fl
            check(
                None if ratio is None else ratio <= 1.15,
                f"{OP_NAMES[op]}, N={n}: {fmt(ratio, 'x')} of the floor <= 1.15x",
            )
            check(
                None if st is None or dc is None else st < dc,
                f"{OP_NAMES[op]}, N={n}: stackctl {fmt(st)}s < compose {fmt(dc)}s",
            )
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="10,30,100", help="services per stack (10,30,100)")
    parser.add_argument("--runs", type=int, default=3, help="runs per size; the median counts")
    parser.add_argument(
        "--parallelism",
        type=int,
        default=16,
        help="the floor's thread pool and stackctl's --parallelism (16)",
    )
    gen.add_interval_option(parser)
    parser.add_argument("--no-compose", action="store_true", help="skip docker-compose")
    parser.add_argument("--keep-logs", action="store_true", help="keep the commands' output")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    prefix = f"sbench{uuid.uuid4().hex[:6]}"
    work = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    logfile = work / "commands.log"
    api = docker.APIClient(version="auto")
    version = api.version()
    image = gen.IMAGE
    if not api.images(name=image):
        raise SystemExit(f"the image {image} is missing (scripts/build-test-images.sh builds it)")
    stackctl = stackctl_command()
    compileall.compile_dir(str(ROOT / "stackctl"), quiet=1)  # the bytecode pip would write
    compose = None if args.no_compose else ensure_compose()
    tools = [t for t in TOOLS if t != "compose" or compose]
    log(
        f"daemon: Docker {version['Version']} (API {version['ApiVersion']}), {os.cpu_count()} "
        f"CPUs; prefix {prefix}; work folder {work}"
    )
    log(
        f"stackctl: {' '.join(stackctl)}; compose: {compose or 'skipped'}; "
        f"parallelism {args.parallelism}; health checks every {gen.HEALTH_INTERVAL} (services "
        f"waited for), {args.unwaited_interval} (the rest); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    log(cgroups())

    def on_term(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    res = Results()
    t_all = time.monotonic()
    try:
        for n in sizes:
            for run in range(args.runs):
                # Rotate who goes first so no tool always meets the daemon fresh or tired.
                order = tools[run % len(tools) :] + tools[: run % len(tools)]
                for tool in order:
                    name = f"{prefix}-{tool[:2]}{n}-{run + 1}"
                    subnets = free_subnets(api, len(gen.NETWORKS))
                    d = gen.describe(name, n, subnets, args.unwaited_interval)
                    folder = work / name
                    gen.write(d, folder)
                    t0 = time.monotonic()
                    got: dict[str, Sample] = {}
                    record = recorder(res, n, tool, got)
                    try:
                        if tool == "stackctl":
                            run_stackctl(stackctl, folder, args.parallelism, logfile, record)
                        elif tool == "compose":
                            assert compose is not None
                            run_compose(compose, d, folder, logfile, record)
                        else:
                            run_floor(d, args.parallelism, logfile, record)
                    except Failed as e:
                        # A failed step's time is not counted; the steps before it are.
                        res.failures.append(f"N={n} run {run + 1} {tool}: {e}")
                        log(f"  FAILED {tool} N={n} run {run + 1}: {e}")
                    left = cleanup(name, patience=5.0)
                    res.failures += [f"N={n} run {run + 1} {tool}: left behind: {x}" for x in left]
                    summary = "  ".join(f"{op} {s.seconds:.2f}s" for op, s in got.items())
                    log(
                        f"N={n:<3} run {run + 1} {tool:<8} {summary}  "
                        f"({time.monotonic() - t0:.0f}s)"
                    )
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        res.failures.append("interrupted")
    finally:
        left = cleanup(prefix)
        res.failures += [f"left behind: {x}" for x in left]
        if not args.keep_logs and not res.failures:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(
        f"Docker {version['Version']} (API {version['ApiVersion']}), {os.cpu_count()} CPUs, "
        f"parallelism {args.parallelism} (floor pool = stackctl --parallelism), "
        f"health checks every {gen.HEALTH_INTERVAL} / {args.unwaited_interval} "
        "(services waited for / the rest), "
        f"median of {args.runs} run(s), {time.monotonic() - t_all:.0f}s in all; "
        f"load average at the end {os.getloadavg()[0]:.1f}; {cgroups()}"
    )
    print()
    for line in table(res, sizes, args.runs):
        print(line)
    print()
    print(
        "Seconds: wall clock per command, start-up included, median of the runs that succeeded "
        "((k/runs) when some failed). CPU: stackctl's user+system seconds. API calls: total "
        "(G GET, P POST, D DELETE), stackctl's from STACKCTL_COUNT_CALLS=1."
    )
    print()
    for line in verdicts(res, sizes):
        print(line)
    if res.failures:
        print()
        print(f"Failures (commands' output in {logfile}):")
        for f in res.failures:
            print(f"  {f}")
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
