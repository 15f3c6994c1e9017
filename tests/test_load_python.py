"""Python stacks: run in a fresh namespace; every failure is a located diagnostic."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.load import load_paths, load_stacks
from stackctl.model import Secret


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def errors_of(path: Path) -> list[Diagnostic]:
    with pytest.raises(InvalidStackError) as info:
        load_paths([path])
    assert "Traceback" not in str(info.value)
    return [d for d in info.value.diagnostics if d.severity == "error"]


GOOD = """
from stackctl import Healthcheck, Network, Service, Stack, healthy

edge = Network("edge", external=True)
db = Service(
    "db",
    image="postgres:16",
    environment={"POSTGRES_PASSWORD": "${PGPASS:-dev}", "PRICE": "$$5"},
    healthcheck=Healthcheck.shell("pg_isready", interval="5s"),
)
web = Service(
    "web",
    image="nginx:1.27",
    ports=["127.0.0.1:8080:80"],
    depends_on={db: healthy},
    networks=[edge],
)
stack = Stack("shop", services=[db, web], networks=[edge])
"""


def test_python_stack_loads_with_origin_lines_and_interpolation(tmp_path: Path) -> None:
    path = write(tmp_path / "shop.py", GOOD)
    [stack] = load_paths([path])
    assert stack.origin == path
    assert stack.line_of("services.web") == 10
    assert stack.line_of("services.web.ports") == 13
    assert stack.line_of("services.web.ports.0") == 13
    db = stack.services["db"]
    assert db.environment == {"POSTGRES_PASSWORD": "dev", "PRICE": "$5"}


def test_a_python_stack_loads_without_the_yaml_and_compose_machinery(tmp_path: Path) -> None:
    # Start-up time of every command on a Python stack: the YAML parser, the JSON Schemas
    # and the Compose mapping are imported only for YAML/JSON/Compose input.
    stack = write(tmp_path / "stack.py", GOOD)
    code = (
        "import sys; from pathlib import Path; from stackctl.load import load_paths; "
        f"assert load_paths([Path({str(stack)!r})])[0].name == 'shop'; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('yaml', 'jsonschema') "
        "or m == 'stackctl.load.documents'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
    # ... and a YAML stack beside it still loads (the import happens when needed).
    write(tmp_path / "other" / "stack.yaml", "name: other\nservices:\n  web:\n    image: nginx\n")
    assert [s.name for s in load_paths([tmp_path / "other"])] == ["other"]


def test_python_interpolation_uses_dotenv(tmp_path: Path) -> None:
    path = write(tmp_path / "shop.py", GOOD)
    (tmp_path / ".env").write_text("PGPASS=from-file\n")
    [stack] = load_paths([path])
    assert stack.services["db"].environment["POSTGRES_PASSWORD"] == "from-file"


def test_python_required_variable_is_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASS", raising=False)
    path = write(tmp_path / "shop.py", GOOD.replace("${PGPASS:-dev}", "${PGPASS:?set PGPASS}"))
    [err] = errors_of(path)
    assert err.message == "PGPASS is required: set PGPASS"
    assert err.file == str(path)
    assert err.line == 7  # the environment= argument of Service("db")
    assert err.path == "services.db.environment.POSTGRES_PASSWORD"


def test_secret_values_are_not_interpolated(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.py",
        """
        from stackctl import Secret, Service, Stack
        db = Service("db", image="postgres:16", environment={"P": Secret("pa$word")})
        stack = Stack("s", services=[db])
        """,
    )
    [stack] = load_paths([path])
    assert stack.services["db"].environment["P"] == Secret("pa$word")


def test_validation_error_points_at_the_users_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.py",
        """
        from stackctl import Healthcheck, Service, Stack

        db = Service(
            "db",
            image="postgres:16",
            healthcheck=Healthcheck(interval="5 seconds"),
        )
        stack = Stack("bad", services=[db])
        """,
    )
    [err] = errors_of(path)
    assert err.file == str(path)
    assert err.line == 6
    assert err.path == "interval"
    assert "malformed duration" in err.message and err.message.startswith("Healthcheck(...)")


def test_unknown_keyword_gets_did_you_mean(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.py",
        """
        from stackctl import Service, Stack
        web = Service("web", image="nginx:1", restrat="always")
        stack = Stack("bad", services=[web])
        """,
    )
    [err] = errors_of(path)
    assert (err.line, err.path) == (2, "restrat")
    assert err.hint == "did you mean 'restart'?"


def test_name_error_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.py",
        """
        from stackctl import Service, Stack

        web = Service("web", image="nginx:1", networks=[edgee])
        stack = Stack("bad", services=[web])
        """,
    )
    [err] = errors_of(path)
    assert err.line == 3
    assert err.message == "NameError: name 'edgee' is not defined"


def test_syntax_error_is_located(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.py", "from stackctl import Stack\nstack = Stack('x'\n")
    [err] = errors_of(path)
    assert err.file == str(path)
    assert err.line is not None and err.message.startswith("Python syntax error")


def test_error_in_a_helper_module_points_at_the_helper(tmp_path: Path) -> None:
    write(tmp_path / "_common.py", "def image():\n    raise RuntimeError('no image')\n")
    path = write(
        tmp_path / "app.py",
        """
        from _common import image
        from stackctl import Service, Stack
        stack = Stack("app", services=[Service("web", image=image())])
        """,
    )
    [err] = errors_of(path)
    assert err.file == str(tmp_path / "_common.py")
    assert (err.line, err.message) == (2, "RuntimeError: no image")


def test_missing_stack_variable(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.py", "x = 1\n")
    [err] = errors_of(path)
    assert "defines no `stack`" in err.message
    assert err.hint is not None and "leading underscore" in err.hint


def test_wrong_stack_type(tmp_path: Path) -> None:
    [err] = errors_of(write(tmp_path / "w.py", "stack = 'matrix'\n"))
    assert err.message == "`stack` is a str, not a Stack"


def test_stacks_list_and_sys_exit(tmp_path: Path) -> None:
    path = write(
        tmp_path / "two.py",
        """
        from stackctl import Service, Stack
        stacks = [
            Stack("a", services=[Service("web", image="nginx:1")]),
            Stack("b", services=[Service("web", image="nginx:1")]),
        ]
        """,
    )
    assert [s.name for s in load_paths([path])] == ["a", "b"]
    [err] = errors_of(write(tmp_path / "exit.py", "import sys\nsys.exit(3)\n"))
    assert err.message == "the stack called exit(3)" and err.line == 2


def test_package_folder_with_relative_imports(tmp_path: Path) -> None:
    write(
        tmp_path / "shop" / "services.py",
        "from stackctl import Service\nweb = Service('web', image='nginx:1')\n",
    )
    write(
        tmp_path / "shop" / "__init__.py",
        """
        from stackctl import Stack
        from .services import web
        stack = Stack("shop", services=[web])
        """,
    )
    [stack] = load_paths([tmp_path / "shop"])
    assert stack.name == "shop"
    assert stack.origin == tmp_path / "shop" / "__init__.py"


def test_helper_modules_do_not_leak_between_stacks(tmp_path: Path) -> None:
    for name, image in (("a", "nginx:1"), ("b", "nginx:2")):
        write(tmp_path / name / "helpers.py", f"IMAGE = {image!r}\n")
        write(
            tmp_path / name / "stack.py",
            f"""
            from helpers import IMAGE
            from stackctl import Service, Stack
            stack = Stack({name!r}, services=[Service("web", image=IMAGE)])
            """,
        )
    before = set(sys.modules)
    stacks = load_paths([tmp_path])
    assert [s.services["web"].image for s in stacks] == ["nginx:1", "nginx:2"]
    assert "helpers" not in set(sys.modules) - before
    assert str(tmp_path / "a") not in sys.path


def test_unset_variable_warning_from_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSET_X", raising=False)
    path = write(
        tmp_path / "w.py",
        """
        from stackctl import Service, Stack
        web = Service("web", image="nginx:1", command=["echo", "$UNSET_X"])
        stack = Stack("w", services=[web])
        """,
    )
    result = load_stacks([path])
    assert result.stacks[0].services["web"].command == ["echo", ""]
    [warning] = result.warnings
    assert warning.path == "services.web.command.1" and warning.line == 2


def test_secret_env_reads_dotenv_during_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.delenv("DB_SECRET", raising=False)
    path = write(
        tmp_path / "s.py",
        """
        from stackctl import Secret, Service, Stack
        db = Service("db", image="postgres:16", environment={"P": Secret.env("DB_SECRET")})
        stack = Stack("s", services=[db])
        """,
    )
    (tmp_path / ".env").write_text("DB_SECRET=from-dotenv\n")
    [stack] = load_paths([path])
    assert stack.services["db"].environment["P"] == Secret("from-dotenv")
    assert "DB_SECRET" not in os.environ
