"""``stackctl export``: a stack written as a compose file plans the same once loaded back.

Every shipped stack (examples/, stacks/), every valid test fixture and every corpus file
that validates goes load -> plan from nothing (the pure planner, no daemon) -> export ->
load the export -> plan, and the two plans must be the same (operations, their order
and edges, config hashes, the configs themselves). A few files are refused on purpose
(exit 3: docker-compose 1.29 has no key for what they hold): REFUSED says which, and why.
Then data tables for single fields, the secret-leak search and the command itself.
"""

from __future__ import annotations

import json
import re
import os
import shutil
from dataclasses import replace
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackctl import pipeline
from stackctl.backends.docker.observe import ObservedState
from stackctl.backends.swarm.observe import SwarmObservedState
from stackctl.cli import main
from stackctl.core.resources import ObservedNetwork
from stackctl.errors import ExportRefusedError, StackctlError
from stackctl.export import EXTENSION, Export, to_compose
from stackctl.load import load_paths
from stackctl.model import (
    Acknowledge,
    Build,
    ConfigSource,
    Dependency,
    Deploy,
    Healthcheck,
    Mount,
    Port,
    Resources,
    ResourceSpec,
    Secret,
    SecretSource,
    Service,
    Stack,
)
from stackctl.render import plan_json
from tests.corpus.corpus import FILES, environment, load_expected
from tests.leaks import Outputs, Secrets, Stacks

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EMPTY: dict[str, Any] = {"docker": ObservedState(), "swarm": SwarmObservedState()}
EXPORT_NAME = "export.compose.yaml"  # a compose file by its name (load/discover.py)

# --------------------------------------------------------------------------- cases


def _stack_folders() -> list[Path]:
    found = [p.parent for p in sorted((ROOT / "examples").rglob("stack.py"))]
    found += [p.parent for p in sorted((ROOT / "stacks").rglob("stack.py"))]
    return found


def _fixture_files() -> list[Path]:
    reference = FIXTURES / "load" / "reference"
    files = sorted(reference.glob("*/compose.yaml")) + sorted(reference.glob("*/*/compose.yaml"))
    return files


EXPECTED = load_expected()
CORPUS_OK = sorted(rel for rel, want in EXPECTED.items() if want.get("outcome") == "ok")

CASES: list[str] = [
    *(str(p.relative_to(ROOT)) for p in _stack_folders()),
    *(str(p.relative_to(ROOT)) for p in _fixture_files()),
    *(f"corpus:{rel}" for rel in CORPUS_OK),
]

REFUSED: dict[str, str] = {
    "corpus:docker-mailserver/demo-setups/fetchmail-compose.yaml": "a config's `content:` "
    "(fetchmail.cf written inline): docker-compose 1.29 has no key for it",
    "corpus:docker-mailserver/demo-setups/relay-compose.yaml": "a config's `content:` "
    "(the mail server's settings inline): docker-compose 1.29 has no key for it",
}
"""Files whose export is refused (exit 3), with the reason; every other case round-trips."""


@pytest.fixture(autouse=True)
def _real_box_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/matrix reads its mode, ports and prefix from the environment (as in
    tests/test_examples.py): the defaults, whatever the shell has set."""
    for name in ("STACKCTL_MATRIX_LOCAL", "STACKCTL_MATRIX_PREFIX", "MATRIX_HTTP_PORT",
                 "MATRIX_HTTPS_PORT", "COMPOSE_PROJECT_NAME", "COMPOSE_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def copy_case(case: str, dest: Path) -> tuple[Path, dict[str, str]]:
    """The case in a copy of its folder under ``dest`` (what it refers to comes along), and
    the variables it is validated with."""
    if case.startswith("corpus:"):
        rel = case.removeprefix("corpus:")
        repo = rel.split("/", 1)[0]
        shutil.copytree(FILES / repo, dest / repo)
        return dest / rel, dict(EXPECTED[rel].get("env") or {})
    source = ROOT / case
    folder = source if source.is_dir() else source.parent
    shutil.copytree(folder, dest / folder.name)
    copied = dest / folder.name
    return (copied if source.is_dir() else copied / source.name), dict(SHIPPED_ENV)


SHIPPED_ENV = {  # what the shipped stacks require (a real box's settings)
    "MATRIX_DOMAIN": "chat.example.org",
    "ACME_EMAIL": "admin@example.org",
    "POSTGRES_PASSWORD": "pg-export-test-secret",
}


def plan_from_nothing(paths: list[Path]) -> tuple[list[str], dict[str, Any], list[Any]]:
    """The stacks' names, the plan against an empty daemon (its JSON), and the configs of
    what it creates (the same hash is the same config; the configs show what differs)."""
    loaded = pipeline.load(paths)
    backend = loaded.backend
    scope = ("overlay", "swarm") if backend.name == "swarm" else ("bridge", "local")
    externals = tuple(  # they exist: no daemon to ask, and a plan refuses a missing one
        ObservedNetwork(id=f"id-{n.name}", name=n.name, labels={}, driver=scope[0], scope=scope[1])
        for n in loaded.desired.external_networks
    )
    observed = replace(EMPTY[backend.name], networks=externals)
    plan = backend.plan(loaded.desired, observed, prune=False)
    configs = [op.unit.config for op in plan.operations if op.unit is not None]
    return [s.name for s in loaded.stacks], plan_json(plan), configs


def round_trip(path: Path, env: dict[str, str]) -> tuple[Any, Any, Export]:
    """(the plan of ``path``, the plan of its export, the export), the export written
    beside the source (relative paths stay right) and loaded with its variables set."""
    with environment(env):
        (stack,) = load_paths([path])
        export = to_compose(stack)
        target = stack.base_dir / EXPORT_NAME
        target.write_text(export.text(), encoding="utf-8")  # first: it is in build contexts
        before = plan_from_nothing([path])
    with environment({**env, **export.values}):
        after = plan_from_nothing([target])
    return before, after, export


@pytest.mark.parametrize("case", CASES)
def test_export_round_trips(case: str, tmp_path: Path) -> None:
    path, env = copy_case(case, tmp_path)
    if case in REFUSED:
        with environment(env), pytest.raises(ExportRefusedError):
            to_compose(load_paths([path])[0])
        return
    before, after, export = round_trip(path, env)
    assert after[0] == before[0]
    assert after[2] == before[2]  # the configs: a difference shows field by field
    assert after[1] == before[1]
    assert_no_secret_value(export)


def values_of(data: Any) -> Iterator[str]:
    """Every string value of a document (not its keys: names are no place for secrets)."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for v in data.values():
            yield from values_of(v)
    elif isinstance(data, list):
        for v in data:
            yield from values_of(v)


def assert_no_secret_value(export: Export) -> None:
    """No value of the document holds a secret value, once its ``${VAR}`` are taken out."""
    written = [re.sub(r"\$\{\w+\}", " ", w) for w in values_of(export.data)]
    for value in export.values.values():
        assert not [w for w in written if value in w]


def test_every_refusal_is_a_case() -> None:
    assert set(REFUSED) <= set(CASES)
    assert all(REFUSED.values())
