"""Run one bad input through every way in, and check the promise: never a traceback, exit 0
or 1, and on 1 a message that says where (the file and, where the input had lines, a line).

    with guarded_daemon() as guard:    # plan may reach the daemon only for valid stacks
        outcome = check_input(path, guard, flags=("--json",))
        # validate (and validate --json), the loader, desire + the planner, plan
        outcome = check_input(path, guard, engine="swarm")  # the same, --engine swarm

Every input run is counted in ``COUNTS`` (reported at the end of the session by
tests/fuzz/conftest.py as ``fuzz inputs run: N``).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackctl.backends import backend_named
from stackctl.backends.docker.observe import ObservedState
from stackctl.backends.swarm.observe import SwarmObservedState
from stackctl.cli import main
from stackctl.errors import Diagnostic, InvalidStackError, PlanError
from stackctl.load import kind_of_file, load_source
from stackctl.load.discover import Source

COUNTS: Counter[str] = Counter()
"""``inputs``: distinct inputs; ``validate``, ``plan``, ``loader``, ``planner``: runs of each."""

# Findings about a whole file, where no line can be named.
WHOLE_FILE = (
    "defines no `stack`",
    "`stack` is a ",
    "`stacks` must be",
    "`stacks` is empty",
    "cannot read the file",
)


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(argv: list[str]) -> Run:
    """``stackctl.cli.main(argv)`` in-process, stdout and stderr captured; a bug that escapes
    main (main re-raises what it does not know) fails the test with its traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except BaseException as e:  # any escape is the finding
            raise AssertionError(
                f"stackctl {' '.join(argv)} raised {type(e).__name__}: {e}\n"
                f"{traceback.format_exc()}\nstderr:\n{err.getvalue()}"
            ) from e
    run = Run(tuple(argv), code, out.getvalue(), err.getvalue())
    assert "Traceback" not in run.text, _show(run)
    return run


def _show(run: Run) -> str:
    return f"$ stackctl {' '.join(run.argv)}  -> {run.code}\n{run.out}\n--- stderr ---\n{run.err}"


def had_lines(path: Path) -> bool:
    """The input has content on which a line number means something."""
    try:
        return bool(path.read_bytes().strip())
    except OSError:
        return False


def _error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error: ")]


def assert_located(text: str, path: Path, *, run: Run | None = None) -> None:
    """Every error names a file in the input's folder; one names a line where that means
    something (not for findings about the whole file, such as a missing ``stack``)."""
    shown = _show(run) if run else text
    errors = _error_lines(text)
    assert errors, f"exit 1 without an `error:` line\n{shown}"
    folder = str(path.parent)
    for line in errors:
        assert folder in line, f"error without the file:\n{line}\n{shown}"
    if not had_lines(path) or any(w in line for line in errors for w in WHOLE_FILE):
        return
    at_line = re.compile(re.escape(folder) + r"/[^:]*:\d+: ")
    assert any(at_line.search(line) for line in errors), f"no error names a line\n{shown}"


def assert_located_json(doc: dict[str, Any], path: Path, run: Run) -> None:
    errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    if not errors:
        assert doc["ok"] is False, _show(run)  # --strict with warnings
        return
    folder = str(path.parent)
    for d in errors:
        assert d["file"] and str(d["file"]).startswith(folder), (d, _show(run))
    whole = any(w in d["message"] for d in errors for w in WHOLE_FILE)
    if had_lines(path) and not whole:
        assert any(d["line"] for d in errors), _show(run)


# --------------------------------------------------------------------------- the daemon


@dataclass
class DaemonGuard:
    """Stands in for each backend's ``connect``: records whether plan reached a daemon."""

    calls: int = 0
    allow: bool = True

    def __call__(self, connect: Callable[[Any], Any], backend: Any) -> Any:
        self.calls += 1
        assert self.allow, "plan touched the daemon for an invalid stack"
        return connect(backend)


@contextlib.contextmanager
def guarded_daemon() -> Iterator[DaemonGuard]:
    """One guard over both backends' ``connect`` (each still reaches its own daemon)."""
    from stackctl.backends.docker.backend import DockerBackend
    from stackctl.backends.swarm.backend import SwarmBackend

    reals = {cls: cls.connect for cls in (DockerBackend, SwarmBackend)}
    guard = DaemonGuard()
    for cls, real in reals.items():
        cls.connect = lambda self, real=real: guard(real, self)  # type: ignore[method-assign]
    try:
        yield guard
    finally:
        for cls, real in reals.items():
            cls.connect = real  # type: ignore[method-assign]


# --------------------------------------------------------------------------- the checks


@dataclass(frozen=True)
class Outcome:
    valid: bool
    validate: Run
    plan: Run | None


def _engine_flag(engine: str) -> list[str]:
    return [] if engine == "docker" else ["--engine", engine]


def check_validate(path: Path, *flags: str, engine: str = "docker") -> Run:
    run = run_cli(["validate", *_engine_flag(engine), *flags, str(path)])
    COUNTS["validate"] += 1
    assert run.code in (0, 1), _show(run)
    if "--json" in flags:
        doc = json.loads(run.out)
        assert doc["ok"] is (run.code == 0), _show(run)
        if run.code == 1:
            assert_located_json(doc, path, run)
    elif run.code == 1 and "--strict" not in flags:
        assert_located(run.text, path, run=run)
    return run


def check_plan(path: Path, guard: DaemonGuard, *, valid: bool, engine: str = "docker") -> Run:
    """Invalid: exit 1 with the same located errors on stderr, the daemon untouched.
    Valid: a read-only plan against the daemon (exit 0, or 1 with one clear error)."""
    guard.allow, guard.calls = valid, 0
    run = run_cli(["plan", *_engine_flag(engine), str(path)])
    COUNTS["plan"] += 1
    assert run.code in (0, 1), _show(run)
    if not valid:
        assert run.code == 1, _show(run)
        assert guard.calls == 0
        assert_located(run.err, path, run=run)
    elif run.code == 1:
        assert _error_lines(run.err), _show(run)
    return run


def check_loader(path: Path) -> list[Any]:
    """The loader that reads this kind of file, called directly: diagnostics, never raises;
    every diagnostic names a file; no errors means at least one stack."""
    kind = kind_of_file(path)
    assert kind is not None
    outcome = load_source(Source(path, kind))
    COUNTS["loader"] += 1
    for d in outcome.diagnostics:
        assert isinstance(d, Diagnostic) and d.file, d
    if not outcome.failed:
        assert outcome.stacks, outcome
    return list(outcome.stacks) if not outcome.failed else []


EMPTY: dict[str, Any] = {"docker": ObservedState(), "swarm": SwarmObservedState()}


def check_planner(stacks: list[Any], engine: str = "docker") -> None:
    """desire + the pure planner on an empty daemon: no exception but stackctl's own."""
    if not stacks:
        return
    COUNTS["planner"] += 1
    backend = backend_named(engine)
    try:
        desired = backend.desire(stacks)
        backend.plan(desired, EMPTY[engine], prune=False)
    except (InvalidStackError, PlanError) as e:
        assert str(e)


def check_input(
    path: Path, guard: DaemonGuard, *, flags: tuple[str, ...] = (), engine: str = "docker"
) -> Outcome:
    """One input through validate (as given, and with ``flags``), the loader, the planner
    and ``plan``, for the backend ``engine`` (``--engine``). Counted once."""
    COUNTS["inputs"] += 1
    first = check_validate(path, engine=engine)
    if flags:
        check_validate(path, *flags, engine=engine)
    stacks = check_loader(path)
    valid = first.code == 0
    if valid:
        check_planner(stacks, engine)
    planned = check_plan(path, guard, valid=valid, engine=engine)
    return Outcome(valid, first, planned)


def write_input(folder: Path, name: str, content: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path
