"""Bad input that holds a secret: the error report must not echo it. Every test runs for
both backends (``engine``: docker, and swarm as ``--engine swarm``).

A malformed ``.env`` line, or a stack with an unrelated error next to a Secret, a
``${API_TOKEN}`` value or an env_file value: validate and plan (text and JSON) say what is
wrong and where, never the value. (The daemon is not needed: invalid stacks stop first.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stackctl import Secret, Service, Stack
from stackctl.backends import backend_named
from stackctl.backends.docker.observe import ObservedState
from stackctl.backends.swarm.desired import engine_spec
from stackctl.backends.swarm.observe import SwarmObservedState
from stackctl.load import load_paths
from stackctl.model import SecretSource
from stackctl.render import plan_json, plan_text
from tests.fuzz.harness import DaemonGuard, check_input, guarded_daemon, run_cli

BUSYBOX = "stackctl-test/busybox:1"
ENGINES = ("docker", "swarm")
EMPTY: dict[str, Any] = {"docker": ObservedState(), "swarm": SwarmObservedState()}


@pytest.fixture(scope="module")
def guard() -> Iterator[DaemonGuard]:
    with guarded_daemon() as g:
        yield g


@pytest.fixture
def secret() -> str:
    return f"fuzz-secret-{uuid.uuid4().hex}"


def units(engine: str, desired: Any) -> list[Any]:
    return list(desired.containers if engine == "docker" else desired.services)


def outputs(path: Path, guard: DaemonGuard, engine: str) -> str:
    outcome = check_input(path, guard, flags=("--json",), engine=engine)
    assert outcome.validate.code == 1
    again = run_cli(["validate", "--engine", engine, "--json", str(path)])
    texts = [outcome.validate.text, again.text]
    assert outcome.plan is not None
    return "\n".join([*texts, outcome.plan.text])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "line",
    # A line "{s}" alone is a bare key (Compose: inherited from the environment), not an error.
    ["{s}$x", "DB_PASSWORD {s}", "export TOKEN {s}", "TOKEN='{s}", "TOKEN={s}\x00", "= {s}"],
)
def test_a_malformed_dotenv_line_is_not_echoed(
    tmp_path: Path, guard: DaemonGuard, secret: str, line: str, engine: str
) -> None:
    (tmp_path / ".env").write_text("A=1\n" + line.format(s=secret) + "\n")
    path = tmp_path / "stack.yaml"
    path.write_text(f"name: fz\nservices:\n  web:\n    image: {BUSYBOX}\n")
    text = outputs(path, guard, engine)
    assert f"{tmp_path}/.env:2: " in text
    assert secret not in text


@pytest.mark.parametrize("engine", ENGINES)
def test_a_variable_secret_next_to_an_error_is_not_echoed(
    tmp_path: Path, guard: DaemonGuard, secret: str, monkeypatch: pytest.MonkeyPatch, engine: str
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
    assert secret not in outputs(path, guard, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_typed_secret_and_an_env_file_next_to_errors_are_not_echoed(
    tmp_path: Path, guard: DaemonGuard, secret: str, engine: str
) -> None:
    (tmp_path / "app.env").write_text(f"BLOB={secret}\n")
    path = tmp_path / "stack.py"
    path.write_text(
        "from stackctl import Secret, Service, Stack\n"
        f"web = Service('web', image={BUSYBOX!r}, env_file=['./app.env'],\n"
        f"              environment={{'CONFIG': Secret({secret!r})}}, ports=['70000:80'])\n"
        "stack = Stack('fz', services=[web])\n"
    )
    assert secret not in outputs(path, guard, engine)


@pytest.mark.parametrize("engine", ENGINES)
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
    tmp_path: Path,
    secret: str,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    source: str,
    engine: str,
) -> None:
    """Whatever the key is called: ``AUTH: Bearer ${FUZZ_API_TOKEN}`` is a Secret, so the
    config (label, plan) holds a digest; the container (the service's tasks) still gets
    the value."""
    monkeypatch.setenv("FUZZ_API_TOKEN", secret)
    path = tmp_path / name
    path.write_text(source)
    (stack,) = load_paths([path])
    env = stack.services["web"].environment
    assert env["AUTH"] == Secret(f"Bearer {secret}") and env["MODE"] == "x"
    backend = backend_named(engine)
    desired = backend.desire([stack])
    (unit,) = units(engine, desired)
    assert unit.env["AUTH"] == f"Bearer {secret}"
    assert unit.config["env"]["AUTH"].startswith("hmac:")
    assert unit.config["env"]["MODE"] == "x"
    assert secret not in json.dumps(unit.labels)
    p = backend.plan(desired, EMPTY[engine], prune=False)
    assert secret not in plan_text(p, verbose=True) + json.dumps(plan_json(p))
    if engine == "swarm":
        spec = engine_spec(unit)
        container = spec["TaskTemplate"]["ContainerSpec"]
        assert f"AUTH=Bearer {secret}" in container["Env"]
        assert secret not in json.dumps([spec["Labels"], container["Labels"]])


def secret_everywhere(tmp_path: Path, secret: str) -> Stack:
    """One value as a typed Secret, an env_file value, an environment-sourced secret, a
    file secret, and inside a command and a URL."""
    (tmp_path / "app.env").write_text(f"BLOB={secret}-blob\n")
    (tmp_path / "token.txt").write_text(f"{secret}-file\n")
    web = Service(
        "web",
        image=BUSYBOX,
        env_file=["./app.env"],
        command=["sh", "-c", f"echo {secret}-typed; cat /run/secrets/token; sleep 1d"],
        environment={"PASSWORD": Secret(f"{secret}-typed"), "URL": f"x://u:{secret}-typed@h"},
        secrets=["token", "api"],
        labels={"note": f"{secret}-file"},
    )
    stack = Stack(
        "lk",
        services=[web],
        secrets=[
            SecretSource("token", file="token.txt"),
            SecretSource("api", environment="FUZZ_LEAK_API"),
        ],
    )
    return stack.with_origin(tmp_path / "stack.py")


@pytest.mark.parametrize("engine", ENGINES)
def test_no_secret_value_in_desired_config_labels_or_plan(
    tmp_path: Path, secret: str, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    monkeypatch.setenv("FUZZ_LEAK_API", f"{secret}-api")
    backend = backend_named(engine)
    desired = backend.desire([secret_everywhere(tmp_path, secret)])
    (unit,) = units(engine, desired)
    assert secret not in json.dumps(unit.config)
    assert secret not in json.dumps(unit.labels)
    p = backend.plan(desired, EMPTY[engine], prune=False)
    assert secret not in plan_text(p, verbose=True)
    assert secret not in json.dumps(plan_json(p))
    assert unit.env["PASSWORD"] == f"{secret}-typed" and unit.env["API"] == f"{secret}-api"
    if engine == "swarm":
        spec = engine_spec(unit)
        container = spec["TaskTemplate"]["ContainerSpec"]
        # the values reach the daemon only in Env (and Args, as written) and secret data
        assert secret not in json.dumps([spec["Labels"], container["Labels"]])
        assert f"PASSWORD={secret}-typed" in container["Env"]
        assert f"API={secret}-api" in container["Env"]
        (file_secret,) = desired.secrets
        assert file_secret.data == f"{secret}-file\n".encode()
        assert secret not in json.dumps([file_secret.name, file_secret.labels])
        assert secret not in repr(file_secret)
