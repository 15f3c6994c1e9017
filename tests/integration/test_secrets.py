"""Secrets never leave stackctl: not in plans (text, JSON, saved files), labels, progress or logs.

Three kinds of secret, each with a value made up for this run:

- a typed ``Secret("...")`` in a Python stack, under a name that does not look secret;
- ``${API_TOKEN}`` / ``${DB_PASSWORD}`` from the process environment in a stack YAML and a
  compose file, also inside a longer value under a name that does not look secret
  (``AUTH_HEADER: "Bearer ${API_TOKEN}"``);
- a value from an ``env_file``.

Every command's stdout and stderr, the saved plan file and every label of the containers
made are searched for every value: the count of leaks must be 0. The values do reach the
containers (their environment), or the test would prove nothing.
"""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from stackctl.cli import main
from stackctl.core.labels import LABEL_CONFIG, LABEL_STACK
from stackctl.render import SENSITIVE
from tests.conftest import BUSYBOX

pytestmark = pytest.mark.integration

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


@pytest.fixture
def setup(
    tmp_path: Path, stack_names: list[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stacks]:
    stacks = Stacks(tmp_path, stack_names, Secrets(), monkeypatch)
    stacks.write()
    yield stacks


def cli(capsys: pytest.CaptureFixture[str], out: Outputs, name: str, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    stdout, stderr = capsys.readouterr()
    out.add(f"{name} stdout", stdout)
    out.add(f"{name} stderr", stderr)
    assert "Traceback" not in stdout + stderr
    return code, stdout


def labels_and_env(client: docker.DockerClient, names: list[str]) -> tuple[str, str]:
    """Every label (key=value) of the stacks' containers, and their environments."""
    labels: list[str] = []
    env: list[str] = []
    for c in _containers(client, names):
        labels += [f"{c.name}: {k}={v}" for k, v in sorted(c.labels.items())]
        env += [f"{c.name}: {e}" for e in c.attrs["Config"]["Env"] or []]
    return "\n".join(labels), "\n".join(env)


def _containers(client: docker.DockerClient, names: list[str]) -> list[Container]:
    """The stacks' containers only (other tests' containers come and go meanwhile)."""
    return [
        c
        for name in names
        for c in client.containers.list(all=True, filters={"label": f"{LABEL_STACK}={name}"})
    ]


def test_no_secret_reaches_any_output_or_label(
    setup: Stacks,
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    tmp_path: Path,
) -> None:
    out = Outputs()
    try:
        _plan_apply_rotate_apply(setup, capsys, docker_client, tmp_path, out)
    finally:  # the count is reported even when a check above failed
        leaks = out.leaks(setup.secrets.every())
        print(f"secret values searched: {len(setup.secrets.every())}, outputs: {len(out.texts)}")
        print(f"leaks found: {sum(n for _, _, n in leaks)}")
    assert leaks == [], "\n".join(f"{v} in {w} ({n}x)" for w, v, n in leaks)


def _plan_apply_rotate_apply(
    setup: Stacks,
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    tmp_path: Path,
    out: Outputs,
) -> None:
    paths = setup.paths
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
    labels, env = labels_and_env(docker_client, setup.names)
    out.add("container labels", labels)
    for value in secrets.current():  # the secrets did reach the containers
        assert value in env, f"{value} missing from the containers' environments:\n{env}"
    assert f"AUTH_HEADER=Bearer {secrets.token}" in env
    assert f"DATABASE_URL=postgres://app:{secrets.db_password}@db:5432/app" in env

    # A changed secret replaces its container; the plan says which key, never the values.
    secrets.rotate()
    setup.write()
    code, text = cli(capsys, out, "plan (rotated)", "plan", *paths)
    assert code == 0, out.texts
    for key in ("APP_CONFIG", "SETTING_BLOB", "API_TOKEN", "AUTH_HEADER", "DATABASE_URL"):
        assert f"env.{key}: {SENSITIVE} → {SENSITIVE}" in text, text
    assert text.count("-/+ replace container") == 3, text
    code, text = cli(capsys, out, "plan --json (rotated)", "plan", "--json", *paths)
    changes = [c for op in json.loads(text)["operations"] for c in op["changes"]]
    secret_changes = [c for c in changes if c["path"] != "env.MODE"]
    assert len(secret_changes) >= 5
    assert all(c["sensitive"] and c["old"] == c["new"] == SENSITIVE for c in secret_changes)

    code, _ = cli(capsys, out, "apply --yes --json", "apply", "--yes", "--json", *paths)
    assert code == 0, out.texts
    labels, env = labels_and_env(docker_client, setup.names)
    out.add("container labels (rotated)", labels)
    for value in secrets.current():
        assert value in env


def test_secret_is_hashed_in_the_config_label_and_changes_the_hash(
    setup: Stacks, capsys: pytest.CaptureFixture[str], docker_client: docker.DockerClient
) -> None:
    """The config label keeps a digest per secret key: a new value is seen, not shown."""
    out = Outputs()
    code, _ = cli(capsys, out, "apply", "apply", "--yes", *setup.paths)
    assert code == 0, out.texts
    configs = {
        c.labels[LABEL_STACK]: json.loads(c.labels[LABEL_CONFIG])
        for c in _containers(docker_client, setup.names)
    }
    env = {name: cfg["env"] for name, cfg in configs.items()}
    names = setup.names
    assert env[names[0]]["APP_CONFIG"].startswith("hmac:")
    assert env[names[0]]["MODE"] == "demo"
    for key in ("API_TOKEN", "AUTH_HEADER", "SETTING_BLOB", "LEVEL"):
        assert env[names[1]][key].startswith("hmac:"), (key, env[names[1]])
    for key in ("DATABASE_URL", "DB_PASSWORD"):
        assert env[names[2]][key].startswith("hmac:"), (key, env[names[2]])
    assert out.leaks(setup.secrets.every()) == []


def test_secret_variable_in_a_command_stays_out_of_the_config_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stackctl.backends.docker.desired import desire
    from stackctl.load import load_paths

    token = _value("api-token")
    monkeypatch.setenv("API_TOKEN", token)
    path = tmp_path / "compose.yaml"
    path.write_text(
        "name: fz\n"
        "services:\n"
        "  poller:\n"
        f"    image: {BUSYBOX}\n"
        "    command: ['sh', '-c', 'wget --header \"Authorization: ${API_TOKEN}\" http://api']\n"
    )
    (container,) = desire(load_paths([path])).containers
    assert token not in json.dumps(container.labels)
    assert token not in json.dumps(container.config)
    assert token in container.spec["command"][2]  # the container itself gets the real value
