"""Hypothesis over the stack format (YAML and JSON) and Compose files: random documents from
a grammar around both formats, written out and sometimes damaged, each run through
validate, the loader, the planner and plan (see harness.check_input)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import strategies as s
from tests.fuzz.harness import COUNTS, DaemonGuard, check_input, check_validate, guarded_daemon
from tests.fuzz.settings import fuzz

FLAGS = st.sampled_from([(), (), ("--json",), ("--strict",)])


@pytest.fixture(scope="module")
def guard() -> Iterator[DaemonGuard]:
    with guarded_daemon() as g:
        yield g


def run_document(
    guard: DaemonGuard, name: str, content: bytes, dotenv: str | None, flags: tuple[str, ...]
) -> None:
    with tempfile.TemporaryDirectory(prefix="fz") as tmp:
        folder = Path(tmp)
        path = folder / name
        path.write_bytes(content)
        if dotenv is not None:
            (folder / ".env").write_text(dotenv, encoding="utf-8")
        check_input(path, guard, flags=flags)


@fuzz(150)
@given(
    doc=s.stack_doc,
    flow=st.booleans(),
    unicode=st.booleans(),
    damage=st.data(),
    dotenv=s.dotenv,
    flags=FLAGS,
)
def test_stack_yaml(
    guard: DaemonGuard,
    doc: dict[str, object],
    flow: bool,
    unicode: bool,
    damage: st.DataObject,
    dotenv: str | None,
    flags: tuple[str, ...],
) -> None:
    content = damage.draw(s.damaged(s.to_yaml(doc, flow, unicode)))
    run_document(guard, "stack.yaml", content, dotenv, flags)


@fuzz(40)
@given(doc=s.stack_doc, damage=st.data(), flags=FLAGS)
def test_stack_json(
    guard: DaemonGuard, doc: dict[str, object], damage: st.DataObject, flags: tuple[str, ...]
) -> None:
    content = damage.draw(s.damaged(s.to_json(doc)))
    run_document(guard, "stack.json", content, None, flags)


@fuzz(150)
@given(
    doc=s.compose_doc,
    name=st.sampled_from(["compose.yaml", "docker-compose.yml", "app.compose.yaml"]),
    flow=st.booleans(),
    damage=st.data(),
    dotenv=s.dotenv,
    flags=FLAGS,
)
def test_compose(
    guard: DaemonGuard,
    doc: dict[str, object],
    name: str,
    flow: bool,
    damage: st.DataObject,
    dotenv: str | None,
    flags: tuple[str, ...],
) -> None:
    content = damage.draw(s.damaged(s.to_yaml(doc, flow, True)))
    run_document(guard, name, content, dotenv, flags)


@fuzz(100)
@given(doc=st.data(), compose=st.booleans(), as_json=st.booleans(), flags=FLAGS)
def test_near_valid(
    guard: DaemonGuard, doc: st.DataObject, compose: bool, as_json: bool, flags: tuple[str, ...]
) -> None:
    """Stacks that validate, with up to two things broken: the deeper checks (validation
    rules, desired state, the planner, plan against the daemon) get their share."""
    data = doc.draw(s.near_valid(compose))
    if as_json and not compose:
        run_document(guard, "stack.json", s.to_json(data).encode(), None, flags)
    else:
        name = "compose.yaml" if compose else "stack.yaml"
        run_document(guard, name, s.to_yaml(data, False, True).encode(), None, flags)


@fuzz(10)
@given(width=st.integers(2, 40), depth=st.integers(1, 25), compose=st.booleans())
def test_alias_bombs_are_refused_quickly(width: int, depth: int, compose: bool) -> None:
    """Billion laughs at any width and depth: refused (or read, when small). The work is
    bounded by the walker's alias budget (MAX_ALIASED), not measured here: pytest-timeout
    catches a hang, and bench/ measures speed."""
    head = "" if compose else "name: fz\n"
    text = head + s.bomb(width, depth) + f"services:\n  web:\n    image: {s.BUSYBOX}\n"
    with tempfile.TemporaryDirectory(prefix="fz") as tmp:
        path = Path(tmp) / ("compose.yaml" if compose else "stack.yaml")
        path.write_text(text)
        COUNTS["inputs"] += 1
        run = check_validate(path)
    if width**depth > 200_000:
        assert run.code == 1 and "YAML aliases expand to more than" in run.text, run.text
