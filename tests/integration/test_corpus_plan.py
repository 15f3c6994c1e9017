"""``plan`` on every corpus file that validates (tests/corpus), against the real engine.

Each file is copied into a folder of its own named after a unique test stack, with the
files beside it (env files, secret files); a top-level ``name:`` and every
``container_name:`` get that stack's name as prefix, so nothing can meet the daemon's other
containers. Plan only reads: the test counts the Engine API calls that write (none) and
checks that the folder holds the same files afterwards. Images need not exist (the plan
shows the pulls). The one refusal a valid file may get from plan is an external network
the daemon does not have, and then it names exactly those networks.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from stackctl import pipeline
from stackctl.core.plan import Kind
from stackctl.engine import DockerEngine
from stackctl.errors import PlanError
from tests.corpus.corpus import FILES, environment, load_expected
from tests.support import writes

pytestmark = pytest.mark.integration

EXPECTED = load_expected()
VALID = sorted(rel for rel, want in EXPECTED.items() if want.get("outcome") == "ok")

_NAME = re.compile(r"^name:.*$", re.M)
_CONTAINER_NAME = re.compile(r"^(\s+)container_name:\s*(['\"]?)(.*?)\2\s*(?:#.*)?$", re.M)


def isolated_copy(rel: str, stack: str, dest: Path) -> Path:
    """The corpus file ``rel`` in ``dest/stack/`` (its project name: the folder's), the
    files beside it, and its names prefixed with ``stack``."""
    source = FILES / rel
    folder = dest / stack
    for companion in source.parent.rglob("*"):
        if companion.is_file() and companion.suffix not in (".yml", ".yaml"):
            target = folder / companion.relative_to(source.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(companion, target)
    text = _NAME.sub(f"name: {stack}", source.read_text(encoding="utf-8"))
    text = _CONTAINER_NAME.sub(
        lambda m: f'{m[1]}container_name: "{stack}-{m[3].replace(chr(34), "")}"', text
    )
    path = folder / source.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_most_valid_files_are_planned() -> None:
    assert len(VALID) >= 80


@pytest.mark.parametrize("rel", VALID)
def test_plan_a_valid_corpus_file(
    rel: str, stack_name: str, engine: DockerEngine, tmp_path: Path
) -> None:
    path = isolated_copy(rel, stack_name, tmp_path)
    before = tree(tmp_path)
    with environment(EXPECTED[rel].get("env") or {}):
        loaded = pipeline.load([path])
    assert [s.name for s in loaded.stacks] == [stack_name]
    try:
        planned = pipeline.make_plan(loaded, engine)
    except PlanError as e:
        present = {n["Name"] for n in engine.list_networks()}
        missing = {n.name for n in loaded.desired.external_networks} - present
        assert missing, str(e)
        assert all("external network" in p and "does not exist" in p for p in e.problems)
        assert {re.search(r"'([^']+)'", p)[1] for p in e.problems} == missing  # type: ignore[index]
    else:
        plan = planned.plan
        assert plan.has_changes  # nothing of a fresh stack exists yet
        assert plan.count({Kind.CREATE}) >= len(loaded.stacks[0].services)
    assert writes(engine) == 0
    assert tree(tmp_path) == before
