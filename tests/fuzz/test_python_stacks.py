"""Hypothesis over Python stack files: Service and Stack calls with wrong arguments, and
files that define no stack, the wrong thing, raise, recurse, exit or do not parse."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given

from tests.fuzz import strategies as s
from tests.fuzz.harness import DaemonGuard, check_input, guarded_daemon
from tests.fuzz.settings import fuzz


@pytest.fixture(scope="module")
def guard() -> Iterator[DaemonGuard]:
    with guarded_daemon() as g:
        yield g


@fuzz(120)
@given(source=s.python_stack(), dotenv=s.dotenv)
@example(source=s.PY_HEAD + "stacks = []\n", dotenv=None)  # found: no stack, no error
@example(source=s.PY_HEAD + "stack = 1\n", dotenv="K=nul\x00\n")  # found: ValueError from .env
def test_python_stack(guard: DaemonGuard, source: str, dotenv: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="fz") as tmp:
        folder = Path(tmp)
        path = folder / "stack.py"
        path.write_text(source, encoding="utf-8")
        if dotenv is not None:
            (folder / ".env").write_text(dotenv, encoding="utf-8")
        check_input(path, guard)
