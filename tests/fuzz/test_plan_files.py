"""Hand-edited and broken saved plans through ``stackctl apply FILE``: every mutation of a
real saved plan (each field dropped, nulled, given each other JSON type; the file cut at
every few bytes; bytes that are not JSON) ends with exit 1 and one error line, never a
traceback, before the daemon is asked anything; and where the reader refuses the file, it
says "not a valid plan file" and the JSON path of what is wrong.

Counted in ``COUNTS["inputs"]`` (and ``plan files``) like the other fuzz inputs.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stackctl import planfile
from tests.fuzz.harness import COUNTS, DaemonGuard, guarded_daemon, run_cli
from tests.fuzz.settings import fuzz
from tests.test_planfile import paused_plan

RETYPES: list[Any] = [None, 0, "x", [], {}, True]


@pytest.fixture(scope="module")
def guard() -> Iterator[DaemonGuard]:
    with guarded_daemon() as g:
        g.allow = False
        yield g


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("planfiles")
    path = folder / "plan.bin"
    planfile.save(path, paused_plan(), [folder / "gone" / "stack.yaml"], {"prune": False})
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, (*path, i))


def _mutations(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(name, mutated document); None for "drop the whole document"."""
    for path in _nodes(data):
        if not path:
            continue
        parent: Any = data
        for key in path[:-1]:
            parent = parent[key]
        current = parent[path[-1]]
        if isinstance(parent, dict):
            yield f"drop {path}", _with(data, path, drop=True)
        for new in RETYPES:
            if type(new) is not type(current):
                yield f"{type(new).__name__} at {path}", _with(data, path, new)


def _with(
    data: dict[str, Any], path: tuple[Any, ...], new: Any = None, *, drop: bool = False
) -> dict[str, Any]:
    out = copy.deepcopy(data)
    parent: Any = out
    for key in path[:-1]:
        parent = parent[key]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return out


def _apply(path: Path, guard: DaemonGuard) -> str:
    """apply FILE: exit 1, one error, the daemon untouched; the error text."""
    COUNTS["inputs"] += 1
    COUNTS["plan files"] += 1
    guard.calls = 0
    run = run_cli(["apply", "--yes", str(path)])
    assert run.code == 1, (run.code, run.out, run.err)
    assert guard.calls == 0
    errors = [line for line in run.err.splitlines() if line.startswith("error: ")]
    assert errors, run.err
    if "not a valid plan file" in run.err:
        assert any(w in run.err for w in (" at $", "not JSON", "UTF-8", "format")), run.err
    return run.err


def test_every_field_dropped_nulled_or_retyped(
    saved: dict[str, Any], guard: DaemonGuard, tmp_path: Path
) -> None:
    """Each mutation either is refused by the reader, or is still a plan of the right shape
    (a value any JSON may take, an optional key), and then apply stops at the stack files
    it names, which are gone."""
    refused = total = 0
    for i, (name, doc) in enumerate(_mutations(saved)):
        path = tmp_path / f"m{i}.bin"
        path.write_text(json.dumps(doc))
        err = _apply(path, guard)
        total += 1
        if "not a valid plan file" in err:
            refused += 1
        else:
            assert "gone" in err, (name, err)  # the saved plan's sources do not exist
    assert total > 150 and refused / total > 0.9, (refused, total)


@pytest.mark.parametrize("name", ["plan.json", "p.plan"])
def test_the_same_for_a_plan_named_like_a_stack(
    saved: dict[str, Any], guard: DaemonGuard, tmp_path: Path, name: str
) -> None:
    for key in ("version", "sources", "options", "plan"):
        for doc in (_with(saved, (key,), drop=True), _with(saved, (key,), None)):
            path = tmp_path / name
            path.write_text(json.dumps(doc))
            assert "not a valid plan file" in _apply(path, guard), (key, doc.get(key))


@fuzz(60)
@given(cut=st.floats(0, 1, exclude_max=True), junk=st.binary(max_size=8))
def test_a_cut_or_spoiled_plan_file(saved: dict[str, Any], guard: DaemonGuard, cut: float,
                                    junk: bytes) -> None:  # fmt: skip
    raw = json.dumps(saved, indent=2).encode()
    at = int(len(raw) * cut)
    with tempfile.TemporaryDirectory(prefix="fzp") as tmp:
        path = Path(tmp) / "plan.bin"
        path.write_bytes(raw[:at] + junk)
        assert "not a valid plan file" in _apply(path, guard)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01", b"\xff\xfe{}", b"null", b"[]", b"1e999999", b"[" * 200_000, b"{}"],
)
def test_bytes_that_are_no_plan(guard: DaemonGuard, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "plan.bin"
    path.write_bytes(content)
    assert "not a valid plan file" in _apply(path, guard)
