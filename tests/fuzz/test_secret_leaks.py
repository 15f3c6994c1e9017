"""Bad input that holds a secret: the error report must not echo it.

A malformed ``.env`` line, or a stack with an unrelated error next to a Secret, a
``${API_TOKEN}`` value or an env_file value: validate and plan (text and JSON) say what is
wrong and where, never the value. (The daemon is not needed: invalid stacks stop first.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackctl import Secret
from stackctl.backends.docker.desired import desire
from stackctl.load import load_paths
from tests.fuzz.harness import DaemonGuard, check_input, guarded_daemon, run_cli

BUSYBOX = "stackctl-test/busybox:1"


@pytest.fixture(scope="module")
def guard() -> Iterator[DaemonGuard]:
    with guarded_daemon() as g:
        yield g


@pytest.fixture
def secret() -> str:
    return f"fuzz-secret-{uuid.uuid4().hex}"


def outputs(path: Path, guard: DaemonGuard) -> str:
    outcome = check_input(path, guard, flags=("--json",))
    assert outcome.validate.code == 1
    texts = [outcome.validate.text, run_cli(["validate", "--json", str(path)]).text]
    assert outcome.plan is not None
    return "\n".join([*texts, outcome.plan.text])


@pytest.mark.parametrize(
    "line",
    # A line "{s}" alone is a bare key (Compose: inherited from the environment), not an error.
    ["{s}$x", "DB_PASSWORD {s}", "export TOKEN {s}", "TOKEN='{s}", "TOKEN={s}\x00", "= {s}"],
)
def test_a_malformed_dotenv_line_is_not_echoed(
    tmp_path: Path, guard: DaemonGuard, secret: str, line: str
) -> None:
    (tmp_path / ".env").write_text("A=1\n" + line.format(s=secret) + "\n")
    path = tmp_path / "stack.yaml"
    path.write_text(f"name: fz\nservices:\n  web:\n    image: {BUSYBOX}\n")
    text = outputs(path, guard)
    assert f"{tmp_path}/.env:2: " in text
    assert secret not in text


def test_a_variable_secret_next_to_an_error_is_not_echoed(
    tmp_path: Path, guard: DaemonGuard, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUZZ_API_TOKEN", secret)
    path = tmp_path / "compose.yaml"
    path.write_text(
        "services:\n"
        "  web:\n"
        f"    image: {BUSYBOX}\n"
        "    ports: ['99999:80']\n"
        "    environment:\n"
        "      AUTH: Bearer ${FUZZ_API_TOKEN}\n"
        "      - broken\n"
    )
    assert secret not in outputs(path, guard)


def test_a_typed_secret_and_an_env_file_next_to_errors_are_not_echoed(
    tmp_path: Path, guard: DaemonGuard, secret: str
) -> None:
    (tmp_path / "app.env").write_text(f"BLOB={secret}\n")
    path = tmp_path / "stack.py"
    path.write_text(
        "from stackctl import Secret, Service, Stack\n"
        f"web = Service('web', image={BUSYBOX!r}, env_file=['./app.env'],\n"
        f"              environment={{'CONFIG': Secret({secret!r})}}, ports=['70000:80'])\n"
        "stack = Stack('fz', services=[web])\n"
    )
    assert secret not in outputs(path, guard)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        (
            "stack.py",
            "from stackctl import Service, Stack\n"
            f"web = Service('web', image={BUSYBOX!r},\n"
            "              environment={'AUTH': 'Bearer ${FUZZ_API_TOKEN}', 'MODE': 'x'})\n"
            "stack = Stack('fz', services=[web])\n",
        ),
        (
            "stack.yaml",
            f"name: fz\nservices:\n  web:\n    image: {BUSYBOX}\n"
            "    environment:\n      AUTH: Bearer ${FUZZ_API_TOKEN}\n      MODE: x\n",
        ),
        (
            "compose.yaml",
            f"services:\n  web:\n    image: {BUSYBOX}\n"
            "    environment:\n      - AUTH=Bearer ${FUZZ_API_TOKEN}\n      - MODE=x\n",
        ),
    ],
)
def test_a_secret_variable_in_an_environment_value_is_loaded_as_a_secret(
    tmp_path: Path, secret: str, monkeypatch: pytest.MonkeyPatch, name: str, source: str
) -> None:
    """Whatever the key is called: ``AUTH: Bearer ${FUZZ_API_TOKEN}`` is a Secret, so the
    config (label, plan) holds a digest; the container still gets the value."""
    monkeypatch.setenv("FUZZ_API_TOKEN", secret)
    path = tmp_path / name
    path.write_text(source)
    (stack,) = load_paths([path])
    env = stack.services["web"].environment
    assert env["AUTH"] == Secret(f"Bearer {secret}") and env["MODE"] == "x"
    (container,) = desire([stack]).containers
    assert container.env["AUTH"] == f"Bearer {secret}"
    assert container.config["env"]["AUTH"].startswith("sha256:")
    assert container.config["env"]["MODE"] == "x"
    assert secret not in json.dumps(container.labels)
