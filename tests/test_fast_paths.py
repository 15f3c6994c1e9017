"""The fast paths of loading give the answers of the slow ones they stand in front of.

- LibYAML (PyYAML's C loader) composes the same data, lines and problems as PyYAML's
  Python loader for every YAML file in the repository and for hand-picked edge cases.
- The compiled schema check (stackctl/schema_check.py) never says "valid" where jsonschema
  finds an error, and says it for every valid document; a damaged or unwritable cache
  only costs a compile.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackctl import schema_check
from stackctl.core.interpolate import interpolate_tree
from stackctl.load import merge, yamldoc
from stackctl.schema import compose_validator, stack_validator

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    p
    for folder in ("examples", "stacks", "tests")
    for pattern in ("*.yaml", "*.yml")
    for p in (ROOT / folder).rglob(pattern)
)

EDGE_CASES = [
    "a: 1\na: 2\n",  # duplicate key
    "x: &a [1, 2]\ny: *a\n",  # alias
    "base: &b {p: 1}\nm:\n  <<: *b\n  q: 2\n",  # merge key
    "ports: ['22:22', 0o17, 0x1f, yes, ~, 1.5]\n",  # YAML 1.2 scalars
    "a: [1, 2\n",  # unclosed flow sequence
    "a: b: c\n",  # mapping values not allowed
    "\ta: 1\n",  # tab indentation
    "a: '\x00'\n",  # NUL
    "a: !!python/object:os.system x\n",  # unknown tag
    "- " * 120 + "x\n",  # deeper than MAX_DEPTH
    "[" * 150 + "]" * 150 + "\n",
    "",
    "# only a comment\n",
    "a: |\n  line1\n  line2\n",
    "? [complex, key]\n: value\n",
]


def _slow(text: str) -> yamldoc.Document:
    saved = yamldoc._FAST_LOADER
    yamldoc._FAST_LOADER = None
    try:
        return yamldoc.parse_yaml(text)
    finally:
        yamldoc._FAST_LOADER = saved


def _same(text: str) -> None:
    fast, slow = yamldoc.parse_yaml(text), _slow(text)
    assert fast.data == slow.data
    assert fast.lines == slow.lines
    assert [(p.message, p.line) for p in fast.problems] == [
        (p.message, p.line) for p in slow.problems
    ]


def test_libyaml_is_available() -> None:
    """The fast path is on in CI: PyYAML's wheel carries LibYAML."""
    assert yamldoc._FAST_LOADER is yaml.CSafeLoader


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_reads_every_file_as_pyyaml_does(path: Path) -> None:
    _same(path.read_text(errors="replace"))


@pytest.mark.parametrize("text", EDGE_CASES)
def test_libyaml_edge_cases(text: str) -> None:
    _same(text)


def _documents() -> list[tuple[str, Any, Any]]:
    out = []
    for path in FILES:
        data = yamldoc.parse_yaml(path.read_text(errors="replace")).data
        if isinstance(data, dict) and "services" in data:
            compose = "name" not in data or path.name.startswith(("compose", "docker-compose"))
            validator = compose_validator() if compose else stack_validator()
            out.append((str(path.relative_to(ROOT)), validator, data))
    return out


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(schema_check, "_CHECKS", {})
    monkeypatch.setattr(schema_check, "_BY_SCHEMA", {})
    return tmp_path / "stackctl" / "schema-checks"


def test_compiled_check_agrees_with_jsonschema(cache: Path) -> None:
    docs = _documents()
    assert len(docs) > 20
    valid = 0
    for where, validator, data in docs:
        errors = list(validator.iter_errors(data))
        assert schema_check.satisfies(validator.schema, data) == (not errors), where
        valid += not errors
    assert valid > 10
    assert len(list(cache.glob("check_*.bin"))) == 2  # one compiled check per schema, cached


@pytest.mark.parametrize(
    "bad",
    [
        {"services": {"web": {"image": "x", "enviroment": {}}}},  # a typo
        {"services": {"web": {"image": 3.5j}}},  # not JSON at all
        {"services": {"web": {"ports": [{"target": [80]}]}}},
        {"services": []},
    ],
)
def test_compiled_check_never_accepts_what_jsonschema_refuses(cache: Path, bad: Any) -> None:
    validator = compose_validator()
    assert list(validator.iter_errors(bad))
    assert not schema_check.satisfies(validator.schema, bad)


def test_a_damaged_cache_is_compiled_again(cache: Path) -> None:
    validator = compose_validator()
    good = {"services": {"web": {"image": "busybox"}}}
    assert schema_check.satisfies(validator.schema, good)
    [entry] = cache.iterdir()
    entry.write_bytes(b"not bytecode")
    schema_check._CHECKS.clear()
    schema_check._BY_SCHEMA.clear()
    assert schema_check.satisfies(validator.schema, good)  # compiled again
    assert entry.read_bytes() != b"not bytecode"
    assert not schema_check.satisfies(validator.schema, {"services": {"web": {"image": []}}})


def test_an_unwritable_cache_still_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no folder can be made in it
    monkeypatch.setattr(schema_check, "_CHECKS", {})
    monkeypatch.setattr(schema_check, "_BY_SCHEMA", {})
    schema = compose_validator().schema
    assert schema_check.satisfies(schema, {"services": {}})
    assert not schema_check.satisfies(schema, {"services": []})


def test_the_stack_schema_is_generated_once_then_read_from_the_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stackctl import schema

    monkeypatch.setattr(schema, "_cached_text", functools.cache(schema._cached_text.__wrapped__))
    first = schema.stack_schema()
    [entry] = cache.glob("stack-schema_*.json")
    assert json.loads(entry.read_text()) == first == json.loads(schema._generate())
    entry.write_text('{"marker": true}')  # what the next run reads is the cached file
    schema._cached_text.cache_clear()
    assert schema.stack_schema() == {"marker": True}


def test_the_stack_schema_cache_is_keyed_by_the_model_sources(
    cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from stackctl import schema

    monkeypatch.setattr(schema, "_cached_text", functools.cache(schema._cached_text.__wrapped__))
    schema.stack_schema()
    # the same sources under another name: an edit of any of them is another key
    monkeypatch.setattr(schema, "_SOURCES", (*schema._SOURCES, "errors.py"))
    schema._cached_text.cache_clear()
    schema.stack_schema()
    assert len(list(cache.glob("stack-schema_*.json"))) == 2


def test_the_jsonschema_validator_is_made_only_when_errors_are_asked_for() -> None:
    from stackctl.schema import SchemaValidator

    made: list[object] = []

    def make(s: object) -> object:
        made.append(s)
        import jsonschema

        return jsonschema.Draft7Validator(s)

    v = SchemaValidator({"type": "object"}, make)
    assert made == []
    assert [e.message for e in v.iter_errors(3)] == ["3 is not of type 'object'"]
    assert list(v.iter_errors({})) == []
    assert len(made) == 1


def _compose_trees() -> list[tuple[str, Any, yamldoc.Document]]:
    """Every compose-like file here, interpolated (each variable as ``v``), beside its
    document: the input of a compose file's own steps (stackctl/load/project.py)."""
    out = []
    for path in FILES:
        doc = yamldoc.parse_yaml(path.read_text(errors="replace"))
        if isinstance(doc.data, dict) and isinstance(doc.data.get("services"), dict):
            data = interpolate_tree(doc.data, lambda _name: "v").data
            if isinstance(data, dict):
                data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
                out.append((str(path.relative_to(ROOT)), data, doc))
    return out


def test_one_file_skips_the_located_tree_with_the_same_result() -> None:
    """A compose file without include, extends or repeated items is flattened without a
    located tree (merge.flat_of_one_file): the same data, data as written and lines as
    flatten(to_node(...)) gives; and merge.has_repeats finds exactly the files where
    enforce_unicity drops an item."""
    trees = _compose_trees()
    assert len(trees) > 20
    repeated = 0
    for where, data, doc in trees:
        node = merge.to_node(data, doc.data, doc.line_of, "f")
        dropped = merge.enforce_unicity(node)
        assert merge.has_repeats(data) == bool(dropped), where
        repeated += bool(dropped)
        if dropped:
            continue
        slow = merge.flatten(node)
        fast = merge.flat_of_one_file(data, doc.data, doc.lines)
        assert fast.data == slow.data, where
        assert fast.raw == slow.raw, where
        assert {k: fast.lines.get(k) for k in slow.lines} == slow.lines, where
        assert set(slow.files.values()) <= {"f"}, where
    assert repeated > 0  # the corpus has files with repeats: the other route is tested too


@pytest.mark.parametrize(
    "text",
    [
        "services:\n  a:\n    environment: [A=1, A=2]\n",
        "services:\n  a:\n    environment: [A=1, B=2]\n",
        "services:\n  a:\n    ports: ['80:80', '80:80']\n",
        "services:\n  a:\n    volumes: [/d, 'x:/d']\n",
        "services:\n  a:\n    networks: {n: {aliases: [x, x]}}\n",
        "networks:\n  n:\n    labels: [a=1, a=2]\nservices: {}\n",
        "services:\n  a: null\n  b:\n    cap_add: [X]\n",
    ],
)
def test_has_repeats_agrees_with_enforce_unicity(text: str) -> None:
    doc = yamldoc.parse_yaml(text)
    node = merge.to_node(doc.data, doc.data, doc.line_of, "f")
    assert merge.has_repeats(doc.data) == bool(merge.enforce_unicity(node))
