"""``stackctl import``: compose/stack YAML to typed Python that loads back identically."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stackctl.cli import main
from stackctl.cli.import_cmd import import_stack
from stackctl.codegen import string_literal, to_python
from stackctl.errors import StackctlError
from stackctl.load import load_paths
from stackctl.model import Stack

REFERENCE = Path(__file__).parent / "fixtures" / "load" / "reference"
COMPOSE_FILES = sorted(REFERENCE.rglob("compose.yaml"))


def generate(tmp_path: Path) -> list[tuple[Path, Path]]:
    """(compose file, generated stack.py) for each reference compose file."""
    out = []
    for compose in COMPOSE_FILES:
        code, _ = import_stack(compose)
        target = tmp_path / compose.parent.name / "stack.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code)
        out.append((compose, target))
    return out


def test_import_keeps_required_variables_as_templates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "do-not-write-me")
    code, warnings = import_stack(REFERENCE / "matrix" / "compose.yaml")
    assert warnings == []
    assert '"${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"' in code
    assert "do-not-write-me" not in code
    assert "depends_on={postgres: healthy}" in code
    assert "networks=[traefik_default, matrix_network]" in code
    assert code.index("postgres = Service(") < code.index("synapse = Service(")
    assert code.index("synapse = Service(") < code.index("matrix_wechat = Service(")


def test_import_works_without_the_variable_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTGRES_PASSWORD", raising=False)
    code, _ = import_stack(REFERENCE / "matrix")
    ast.parse(code)


def test_imported_python_loads_to_the_same_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "s3cret$")
    for compose, generated in generate(tmp_path):
        [from_compose] = load_paths([compose])
        [from_python] = load_paths([generated])
        assert from_python == from_compose, compose


def test_generated_python_is_ruff_clean(tmp_path: Path) -> None:
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is a dev dependency: pip install -e '.[dev]'"
    generate(tmp_path)
    config = ["--line-length", "100", "--target-version", "py311", "--no-cache"]
    fmt = subprocess.run(
        [ruff, "format", "--check", "--isolated", *config, str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    lint = subprocess.run(
        [ruff, "check", "--isolated", *config, "--select", "E,F,W,I,B,UP,SIM,RUF", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_generated_python_is_mypy_strict_clean(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    files = []
    for _, generated in generate(tmp_path):
        flat = tmp_path / (generated.parent.name.replace("-", "_") + ".py")
        generated.rename(flat)
        files.append(str(flat))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *files],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        'say "hi"',
        "it's",
        "both ' and \"",
        "back\\slash",
        "new\nline",
        "tab\t",
        "\x00",
        "é",
    ],
)
def test_string_literals_round_trip(text: str) -> None:
    assert ast.literal_eval(string_literal(text)) == text


def test_dollars_are_escaped_outside_templates(tmp_path: Path) -> None:
    stack = Stack.model_validate(
        {
            "name": "d",
            "services": {
                "web": {
                    "image": "nginx:1",
                    "environment": {"PRICE": "$5"},
                    "volumes": ["./a$b:/data"],
                }
            },
        }
    )
    code = to_python(stack)
    assert '"PRICE": "$$5"' in code and '"./a$$b:/data"' in code
    path = tmp_path / "stack.py"
    path.write_text(code)
    assert load_paths([path]) == [stack]


def test_variable_names_avoid_clashes(tmp_path: Path) -> None:
    stack = Stack.model_validate(
        {
            "name": "clash",
            "services": {
                "stack": {"image": "nginx:1", "networks": ["stack"]},
                "class": {"image": "nginx:1", "networks": ["stack"]},
                "1st": {"image": "nginx:1", "networks": ["stack"], "depends_on": ["class"]},
                "Service": {"image": "nginx:1", "networks": ["stack"]},
            },
            "networks": {"stack": {}},
            "volumes": {"list": {}},
        }
    )
    path = tmp_path / "stack.py"
    path.write_text(to_python(stack))
    assert load_paths([path]) == [stack]


def test_cli_import_writes_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "traefik.py"
    compose = str(REFERENCE / "traefik" / "compose.yaml")
    assert main(["import", compose, "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err
    assert main(["import", compose, "-o", str(out)]) == 1
    assert "pass --force" in capsys.readouterr().err
    assert main(["import", compose, "-o", str(out), "--force"]) == 0
    assert main(["import", compose]) == 0
    assert capsys.readouterr().out == out.read_text()


def test_cli_import_reports_errors_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  web:\n    build: {context: ., ssh: [default]}\n")
    assert main(["import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "`ssh` is not supported by stackctl" in err and "Traceback" not in err


def test_import_of_secret_templates(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(
        "name: sec\nservices:\n  db:\n    image: postgres:16\n    environment:\n"
        '      P: {value: "${PG_PASS:?set PG_PASS}"}\n      Q: {value: "lit$$eral"}\n'
    )
    code, _ = import_stack(path)
    assert '"P": Secret.env("PG_PASS")' in code
    assert '"Q": Secret("lit$eral")' in code
    path.write_text(path.read_text().replace("lit$$eral", "a${X}b"))
    with pytest.raises(StackctlError, match="mixes text and variables"):
        import_stack(path)
