"""The secret-leak search, one scenario for both backends (tests/integration/test_secrets.py
runs it on the docker engines, tests/integration/swarm/test_swarm_leaks.py on the swarm
test-bed): validate, plan (text, JSON, a saved plan file), apply, status, a rotation of
every secret, plan and apply again; every output and every label of what was made is
searched for every secret value, and the values must reach the containers (tasks).
"""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stackctl.cli import main
from stackctl.render import SENSITIVE
from tests.conftest import BUSYBOX

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


def _value(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


@dataclass
class Secrets:
    """This run's secret values (``rotate`` makes new ones, keeping the old for the search)."""

    python: str = field(default_factory=lambda: _value("py-secret"))
    token: str = field(default_factory=lambda: _value("api-token"))
    db_password: str = field(default_factory=lambda: _value("db-pass"))
    env_file: str = field(default_factory=lambda: _value("envfile-blob"))
    old: list[str] = field(default_factory=list)

    def current(self) -> list[str]:
        return [self.python, self.token, self.db_password, self.env_file]

    def every(self) -> list[str]:
        return [*self.current(), *self.old]

    def rotate(self) -> None:
        self.old += self.current()
        self.python = _value("py-secret")
        self.token = _value("api-token")
        self.db_password = _value("db-pass")
        self.env_file = _value("envfile-blob")


@dataclass
class Stacks:
    """A Python stack, a stack YAML file and a compose folder, written from ``Secrets``."""

    root: Path
    names: list[str]
    secrets: Secrets
    env: pytest.MonkeyPatch

    @property
    def paths(self) -> list[str]:
        return [
            str(self.root / "py" / "stack.py"),
            str(self.root / "yaml" / "api.yaml"),
            str(self.root / "compose"),
        ]

    def write(self) -> None:
        s = self.secrets
        py, yml, comp = self.root / "py", self.root / "yaml", self.root / "compose"
        for d in (py, yml, comp):
            d.mkdir(parents=True, exist_ok=True)
        (py / "stack.py").write_text(
            "from stackctl import Secret, Service, Stack\n"
            "\n"
            f"app = Service('app', image={BUSYBOX!r}, command={LOOP!r},\n"
            "              restart='unless-stopped',\n"
            f"              environment={{'APP_CONFIG': Secret({s.python!r}), 'MODE': 'demo'}})\n"
            f"stack = Stack({self.names[0]!r}, services=[app])\n"
        )
        (yml / "api.env").write_text(f"# settings\nSETTING_BLOB={s.env_file}\nLEVEL=info\n")
        (yml / "api.yaml").write_text(
            f"name: {self.names[1]}\n"
            "services:\n"
            "  api:\n"
            f"    image: {BUSYBOX}\n"
            f"    command: {json.dumps(LOOP)}\n"
            "    restart: unless-stopped\n"
            "    env_file: [./api.env]\n"
            "    environment:\n"
            "      API_TOKEN: ${API_TOKEN}\n"
            '      AUTH_HEADER: "Bearer ${API_TOKEN}"\n'
            "      MODE: demo\n"
        )
        (comp / "compose.yaml").write_text(
            f"name: {self.names[2]}\n"
            "services:\n"
            "  worker:\n"
            f"    image: {BUSYBOX}\n"
            f"    command: {json.dumps(LOOP)}\n"
            "    restart: unless-stopped\n"
            "    environment:\n"
            "      - DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app\n"
            "      - DB_PASSWORD\n"
            "      - MODE=demo\n"
        )
        self.env.setenv("API_TOKEN", s.token)
        self.env.setenv("DB_PASSWORD", s.db_password)


@dataclass
class Outputs:
    """Everything stackctl wrote, by where it went, for the leak search."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, text: str) -> None:
        self.texts[where] = text

    def leaks(self, values: list[str]) -> list[tuple[str, str, int]]:
        """(where, value, occurrences) for every value found anywhere."""
        return [
            (where, value, text.count(value))
            for where, text in self.texts.items()
            for value in values
            if value in text
        ]


def cli(capsys: pytest.CaptureFixture[str], out: Outputs, name: str, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    stdout, stderr = capsys.readouterr()
    out.add(f"{name} stdout", stdout)
    out.add(f"{name} stderr", stderr)
    assert "Traceback" not in stdout + stderr
    return code, stdout


@dataclass(frozen=True)
class Target:
    """Where the scenario deploys: the backend's flag, how to read what it made, and the
    header of a unit that a changed secret changes."""

    flags: tuple[str, ...]  # () or ("--engine", "swarm")
    labels_and_env: Callable[[list[str]], tuple[str, str]]  # stack names -> labels, envs
    changed: str  # "-/+ replace container" / "~ update (rolling) service"


def search_every_output(
    setup: Stacks, capsys: pytest.CaptureFixture[str], target: Target, tmp_path: Path
) -> None:
    """Run the scenario and search everything it wrote: 0 leaks (the count is printed even
    when a check of the scenario failed)."""
    out = Outputs()
    try:
        _plan_apply_rotate_apply(setup, capsys, target, tmp_path, out)
    finally:
        leaks = out.leaks(setup.secrets.every())
        print(f"secret values searched: {len(setup.secrets.every())}, outputs: {len(out.texts)}")
        print(f"leaks found: {sum(n for _, _, n in leaks)}")
    assert leaks == [], "\n".join(f"{v} in {w} ({n}x)" for w, v, n in leaks)


def _plan_apply_rotate_apply(
    setup: Stacks,
    capsys: pytest.CaptureFixture[str],
    target: Target,
    tmp_path: Path,
    out: Outputs,
) -> None:
    paths = [*target.flags, *setup.paths]
    secrets = setup.secrets

    code, _ = cli(capsys, out, "validate", "validate", *paths)
    assert code == 0, out.texts
    code, text = cli(capsys, out, "plan", "plan", *paths)
    assert code == 0 and "to add" in text, out.texts
    code, text = cli(capsys, out, "plan --json", "plan", "--json", *paths)
    assert code == 0 and json.loads(text)["has_changes"]
    saved = tmp_path / "saved.plan"
    code, _ = cli(capsys, out, "plan -o", "plan", "-o", str(saved), *paths)
    assert code == 0
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    out.add("saved plan file", saved.read_text())

    code, _ = cli(capsys, out, "apply --yes", "apply", "--yes", *paths)
    assert code == 0, out.texts
    code, _ = cli(capsys, out, "status", "status", *paths)
    assert code == 0, out.texts
    labels, env = target.labels_and_env(setup.names)
    out.add("container labels", labels)
    for value in secrets.current():  # the secrets did reach the containers
        assert value in env, f"{value} missing from the containers' environments:\n{env}"
    assert f"AUTH_HEADER=Bearer {secrets.token}" in env
    assert f"DATABASE_URL=postgres://app:{secrets.db_password}@db:5432/app" in env

    # A changed secret changes its unit (a container replaced, a service updated); the plan
    # says which key, never the values.
    secrets.rotate()
    setup.write()
    code, text = cli(capsys, out, "plan (rotated)", "plan", *paths)
    assert code == 0, out.texts
    for key in ("APP_CONFIG", "SETTING_BLOB", "API_TOKEN", "AUTH_HEADER", "DATABASE_URL"):
        assert f"env.{key}: {SENSITIVE} → {SENSITIVE}" in text, text
    assert text.count(target.changed) == 3, text
    code, text = cli(capsys, out, "plan --json (rotated)", "plan", "--json", *paths)
    changes = [c for op in json.loads(text)["operations"] for c in op["changes"]]
    secret_changes = [c for c in changes if c["path"] != "env.MODE"]
    assert len(secret_changes) >= 5
    assert all(c["sensitive"] and c["old"] == c["new"] == SENSITIVE for c in secret_changes)

    code, _ = cli(capsys, out, "apply --yes --json", "apply", "--yes", "--json", *paths)
    assert code == 0, out.texts
    labels, env = target.labels_and_env(setup.names)
    out.add("container labels (rotated)", labels)
    for value in secrets.current():
        assert value in env
