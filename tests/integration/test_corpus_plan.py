"""``plan`` on every corpus file that validates (tests/corpus), against the real engine.

Each file is planned in a copy of its source's folder under a unique test stack's folder
(what it refers to comes along: env files, secret files, build contexts); the stack's
name is given by ``COMPOSE_PROJECT_NAME`` (which wins over a ``.env``, as in Compose), and
every ``container_name:`` gets it as prefix, so nothing can meet the daemon's other
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
    """The corpus file ``rel`` in a copy of its source's folder under ``dest/stack/`` (what
    it refers to: env files, secret files, build contexts, however far up), its names
    prefixed with ``stack``."""
    source = FILES / rel
    repo = rel.split("/", 1)[0]
    shutil.copytree(FILES / repo, dest / stack / repo)
    text = _NAME.sub(f"name: {stack}", source.read_text(encoding="utf-8"))
    text = _CONTAINER_NAME.sub(
        lambda m: f'{m[1]}container_name: "{stack}-{m[3].replace(chr(34), "")}"', text
    )
    path = dest / stack / rel
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
    # COMPOSE_PROJECT_NAME from the environment wins over a `.env` beside the file that
    # names the project (paperless-ngx's does), as in Compose: the unique name holds.
    env = {**(EXPECTED[rel].get("env") or {}), "COMPOSE_PROJECT_NAME": stack_name}
    with environment(env):
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
