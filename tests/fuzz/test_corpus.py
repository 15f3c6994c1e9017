"""A corpus of malformed stacks (tests/fuzz/corpus/), and huge ones made on the fly.

Each corpus input says in corpus/expected.json what it must give: the exit code and, for
an invalid one, the line and the words of a located error. Every input also goes through
``validate --json``, the loader that reads its kind, and ``plan`` (which must stop before
the daemon when the stack is invalid): never a traceback.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz.harness import DaemonGuard, check_input, guarded_daemon

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, Any] = {
    k: v for k, v in json.loads((CORPUS / "expected.json").read_text()).items() if k != "__doc__"
}
BUSYBOX = "stackctl-test/busybox:1"


def entries() -> list[str]:
    return sorted(
        str(p.relative_to(CORPUS))
        for kind in ("stack", "compose", "python")
        for p in (CORPUS / kind).iterdir()
    )


@pytest.fixture(scope="module")
def guard() -> Iterator[DaemonGuard]:
    with guarded_daemon() as g:
        yield g


def materialise(entry: str, tmp_path: Path) -> Path:
    """Copy a corpus entry to its own folder (a folder entry whole, with its .env);
    ``*.py.txt`` becomes ``*.py``. Returns the file to give stackctl."""
    src = CORPUS / entry
    if src.is_dir():
        shutil.copytree(src, tmp_path / src.name)
        return next(p for p in sorted((tmp_path / src.name).iterdir()) if p.name[0] != ".")
    target = tmp_path / src.name.removesuffix(".txt")
    shutil.copyfile(src, target)
    return target


def test_every_corpus_entry_has_an_expectation() -> None:
    assert sorted(EXPECTED) == entries()


@pytest.mark.parametrize("entry", entries())
def test_corpus_entry(entry: str, tmp_path: Path, guard: DaemonGuard) -> None:
    expected = EXPECTED[entry]
    path = materialise(entry, tmp_path)
    outcome = check_input(path, guard, flags=("--json",))
    run = outcome.validate
    assert run.code == expected["exit"], run.text
    if run.code == 0 and "says" not in expected:
        return
    severity = "error" if run.code else "warning"  # valid, with a warning that says it
    file = path.parent / expected.get("file", path.name)
    where = f"{severity}: {file}" + (f":{expected['line']}: " if expected["line"] else ": ")
    # the finding and its hint lines
    blocks = re.findall(rf"^{severity}: .*(?:\n  .*)*", run.text, re.M)
    found = [b for b in blocks if b.startswith(where) and expected["says"] in b]
    assert found, f"no {severity} at {where} saying {expected['says']!r}:\n{run.text}"


# --------------------------------------------------------------------------- huge inputs


def _ports(n: int) -> str:
    items = "".join(f"      - '{i}'\n" for i in range(1, n + 1))
    return f"name: fz\nservices:\n  web:\n    image: {BUSYBOX}\n    ports:\n{items}"


def _labels(n: int) -> str:
    items = "".join(f"      l{i}: v{i}\n" for i in range(n))
    return f"name: fz\nservices:\n  web:\n    image: {BUSYBOX}\n    labels:\n{items}"


def _services(n: int) -> str:
    items = "".join(
        f"  s{i}:\n    image: {BUSYBOX}\n    depends_on: [s{i - 1}]\n"
        if i
        else f"  s0:\n    image: {BUSYBOX}\n"
        for i in range(n)
    )
    return f"name: fz\nservices:\n{items}"


def _long_string(n: int) -> str:
    return f"name: fz\nservices:\n  web:\n    image: {BUSYBOX}\n    command: ['{'x' * n}']\n"


def _long_junk_line(n: int) -> str:
    return "name: fz\nservices: " + "a" * n + "\n"


def _bomb(width: int, depth: int) -> str:
    lines = [f"x-l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"x-l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth + 1)]
    return (
        "name: fz\n"
        + "\n".join(lines)
        + f"\nservices:\n  web:\n    image: {BUSYBOX}\n    labels: *l{depth}\n"
    )


HUGE = {
    "ports-5000.yaml": (_ports(5000), 0),
    "labels-10000.yaml": (_labels(10000), 0),
    "services-500-chained.yaml": (_services(500), 0),
    "string-1mb.yaml": (_long_string(1_000_000), 0),
    "junk-line-1mb.yaml": (_long_junk_line(1_000_000), 1),
    "compose.ports-5000.yaml": (_ports(5000).replace("name: fz\n", ""), 0),
    "bomb-2x30.yaml": (_bomb(2, 30), 1),
    "bomb-10x10.yaml": (_bomb(10, 10), 1),
    "bomb-100x3.yaml": (_bomb(100, 3), 1),
    "bomb-small-3x3.yaml": (_bomb(3, 3), 1),  # expands fine; labels must be a mapping
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("name", sorted(HUGE))
def test_huge_input_is_bounded(name: str, tmp_path: Path, guard: DaemonGuard) -> None:
    """Huge lists, maps and strings load in linear time; alias bombs are refused early."""
    text, code = HUGE[name]
    path = tmp_path / name
    path.write_text(text)
    before, started = _peak_mb(), time.monotonic()
    outcome = check_input(path, guard)
    seconds = time.monotonic() - started
    assert outcome.validate.code == code, outcome.validate.text
    assert seconds < 60, f"{name}: {seconds:.1f}s"
    assert _peak_mb() - before < 1024, f"{name}: memory grew by {_peak_mb() - before:.0f} MB"
    if name.startswith("bomb") and "small" not in name:
        assert "YAML aliases expand to more than" in outcome.validate.text
