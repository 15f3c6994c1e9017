"""The constructors as a type checker sees them: a typo is a type error.

Service, Network, Volume, SecretSource, Stack and Secret take their key positionally
(``Service("db", image=...)``), so their runtime ``__init__`` is ``(key=None, /, **data)``,
which would hide the pydantic mypy plugin's signature. Each declares instead, under
``if TYPE_CHECKING:``, a full one: the key, then every field keyword-only, typed with the
friendly input forms. These tests keep that signature in step with the fields, and run mypy
once over tests/fixtures/typecheck/: good.py must pass, and in the other files every line
marked ``# <- "TEXT"`` (and no other line) must be an error whose message contains TEXT.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from pydantic import BaseModel

from stackctl import model
from stackctl.load import load_paths

ROOT = Path(__file__).parent.parent
MODEL = ROOT / "stackctl" / "model"  # the package: one module per part
FIXTURES = Path(__file__).parent / "fixtures" / "typecheck"

# class -> the field given positionally (and also accepted as a keyword)
KEYED = {
    "Acknowledge": "rule",
    "Build": "context",
    "Secret": "value",
    "Network": "key",
    "Volume": "key",
    "SecretSource": "key",
    "ConfigSource": "key",
    "Service": "name",
    "Stack": "name",
}
# keyword arguments that are no field: Service's compose-style ``tmpfs`` is folded into
# ``volumes`` by a before-validator (Service._fold_tmpfs)
EXTRA = {"Service": {"tmpfs"}}
# the fewest arguments each constructor needs
MINIMAL: dict[str, dict[str, str]] = {
    "Service": {"image": "nginx:1.27"},
    "Acknowledge": {"reason": "on purpose"},
}


def _is_type_checking(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "TYPE_CHECKING"


def _inits() -> dict[str, tuple[ast.FunctionDef | None, ast.FunctionDef | None, int]]:
    """class -> (``__init__`` under ``if TYPE_CHECKING:``, the one in its ``else:``, how
    many ``__init__`` the class body defines in all) for each class defining one."""
    found = {}
    classes = [n for f in sorted(MODEL.glob("*.py")) for n in ast.parse(f.read_text()).body]
    for cls in classes:
        if not isinstance(cls, ast.ClassDef):
            continue
        total = sum(isinstance(n, ast.FunctionDef) and n.name == "__init__" for n in ast.walk(cls))
        if not total:
            continue
        stub = runtime = None
        for stmt in cls.body:
            if isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
                for fn in stmt.body:
                    if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
                        stub = fn
                for fn in stmt.orelse:
                    if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
                        runtime = fn
        found[cls.name] = (stub, runtime, total)
    return found


INITS = _inits()


def test_every_custom_init_is_one_of_the_keyed_classes() -> None:
    assert set(INITS) == set(KEYED)


@pytest.mark.parametrize("name", sorted(KEYED))
def test_typed_signature_lists_every_field(name: str) -> None:
    stub, runtime, total = INITS[name]
    assert stub is not None, f"{name}: no __init__ under `if TYPE_CHECKING:`"
    assert runtime is not None, f"{name}: no runtime __init__ in the `else:` branch"
    assert total == 2, f"{name}: an __init__ outside `if TYPE_CHECKING: ... else: ...`"
    cls: type[BaseModel] = getattr(model, name)
    fields = cls.model_fields
    key = KEYED[name]

    args = stub.args
    assert not args.posonlyargs and args.vararg is None and args.kwarg is None
    # the key: positional or keyword, so Service("db", ...) and Service(name="db", ...)
    assert [a.arg for a in args.args] == ["self", key]
    assert not args.defaults, f"{name}: {key} is required"
    keywords = [a.arg for a in args.kwonlyargs]
    assert len(keywords) == len(set(keywords))
    assert {key, *keywords} == set(fields) | EXTRA.get(name, set())

    # required parameters are exactly the required fields; every default is `...`
    required = {key} | {
        a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None
    }
    assert required == {f for f, info in fields.items() if info.is_required()}
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if d is not None:
            assert isinstance(d, ast.Constant) and d.value is Ellipsis, f"{name}.{a.arg}"
        assert a.annotation is not None and ast.unparse(a.annotation) != "Any", a.arg
    assert stub.returns is not None and ast.unparse(stub.returns) == "None"


@pytest.mark.parametrize("name", sorted(KEYED))
def test_key_positional_or_keyword_at_runtime(name: str) -> None:
    cls = getattr(model, name)
    params = list(inspect.signature(cls.__init__).parameters.values())
    assert [(p.name, p.kind) for p in params] == [
        ("self", inspect.Parameter.POSITIONAL_ONLY),
        (KEYED[name], inspect.Parameter.POSITIONAL_ONLY),
        ("data", inspect.Parameter.VAR_KEYWORD),
    ]
    extra = MINIMAL.get(name, {})
    assert cls("k1", **extra) == cls(**{KEYED[name]: "k1"}, **extra)


# --------------------------------------------------------------------------- mypy

MARKER = re.compile(r"#\s*<-\s*(\S.*?)\s*$")
MESSAGE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<severity>error|note): (?P<text>.*)$")
CASES = sorted(FIXTURES.glob("*.py"))


def _markers(path: Path) -> dict[int, str]:
    out = {}
    for n, text in enumerate(path.read_text().splitlines(), start=1):
        m = MARKER.search(text)
        if m:
            out[n] = m.group(1)
    return out


@pytest.fixture(scope="module")
def mypy_errors() -> dict[str, dict[int, list[str]]]:
    """One mypy run over every fixture (the project's config and cache): file -> line ->
    error messages."""
    pytest.importorskip("mypy")
    files = [p.relative_to(ROOT).as_posix() for p in CASES]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            "pyproject.toml",
            "--no-pretty",
            "--no-error-summary",
            *files,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode in (0, 1), output  # 2: mypy itself failed
    errors: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for line in result.stdout.splitlines():
        m = MESSAGE.match(line)
        assert m is not None, f"unexpected mypy output {line!r}\n{output}"
        if m["severity"] == "error":
            errors[Path(m["path"]).as_posix()][int(m["line"])].append(m["text"])
    strays = set(errors) - set(files)
    assert not strays, f"errors outside the fixtures: {output}"
    assert (result.returncode == 1) == bool(errors), output
    return errors


def test_fixtures_are_there() -> None:
    names = {p.name for p in CASES}
    assert {"good.py", "typo_kwarg.py", "typo_network.py", "wrong_type.py"} <= names
    assert not _markers(FIXTURES / "good.py")
    for path in CASES:
        assert path.name == "good.py" or _markers(path), f"{path.name}: no '# <- ' marker"


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_mypy(path: Path, mypy_errors: dict[str, dict[int, list[str]]]) -> None:
    got = mypy_errors.get(path.relative_to(ROOT).as_posix(), {})
    expected = _markers(path)
    report = "\n".join(f"{path.name}:{n}: {t}" for n, ts in sorted(got.items()) for t in ts)
    assert set(got) == set(expected), f"errors on lines {sorted(got)}:\n{report}"
    for n, text in expected.items():
        assert any(text in message for message in got[n]), f"line {n}: no {text}:\n{report}"


def test_good_fixture_validates_too() -> None:
    """What type-checks in good.py is also accepted at runtime, to the same meaning."""
    [stack] = load_paths([FIXTURES / "good.py"])
    assert stack.name == "example"
    app = stack.services["app"]
    assert list(app.depends_on) == ["postgres", "redis", "migrate", "worker"]
    assert list(app.networks) == ["traefik_default", "backend", "jobs"]
    assert [m.source for m in app.volumes] == ["media"]
    db = stack.services["postgres"]
    assert [(m.type, m.source) for m in db.volumes] == [("volume", "pgdata"), ("bind", "./initdb")]
    assert [m.type for m in stack.services["redis"].volumes] == ["tmpfs"]
