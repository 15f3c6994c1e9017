"""Compose's loader semantics: merging files (compose-go's override rules), profiles,
extends, the project name, and a compose file recognised by its content."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackctl import pipeline
from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.load import LoadOptions, load_stacks
from stackctl.load.merge import enforce_unicity, flatten, merge, to_node
from stackctl.model import Stack


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def node(data: Any, file: str) -> Any:
    return to_node(data, data, lambda p: None, file)


def merged(base: dict[str, Any], over: dict[str, Any]) -> Any:
    """compose-go's Merge then EnforceUnicity, on plain data."""
    result = merge(node(base, "a"), node(over, "b"))
    assert result is not None
    enforce_unicity(result)
    return flatten(result).data


def svc(**fields: Any) -> dict[str, Any]:
    return {"services": {"web": fields}}


# (name, base service, override service, merged service): compose-go's override tests
MERGE_TABLE: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("scalar replaced", {"image": "a:1"}, {"image": "a:2"}, {"image": "a:2"}),
    ("new key added", {"image": "a"}, {"restart": "always"}, {"image": "a", "restart": "always"}),
    ("null keeps base", {"image": "a"}, {"image": None}, {"image": "a"}),
    ("command replaced", {"command": ["a", "b"]}, {"command": ["c"]}, {"command": ["c"]}),
    (
        "entrypoint replaced",
        {"entrypoint": "sh"},
        {"entrypoint": ["bash"]},
        {"entrypoint": ["bash"]},
    ),
    (
        "healthcheck.test replaced, the rest merged",
        {"healthcheck": {"test": ["CMD", "a"], "interval": "5s"}},
        {"healthcheck": {"test": ["CMD", "b"]}},
        {"healthcheck": {"test": ["CMD", "b"], "interval": "5s"}},
    ),
    (
        "environment list and mapping merged by key",
        {"environment": ["A=1", "B=2"]},
        {"environment": {"B": "3", "C": None}},
        {"environment": ["A=1", "B=3", "C"]},
    ),
    (
        "environment mapping and mapping become a list",
        {"environment": {"A": 1, "B": True}},
        {"environment": {"A": 2}},
        {"environment": ["A=2", "B=true"]},
    ),
    (
        "labels merged by key",
        {"labels": {"a": "1", "b": "2"}},
        {"labels": ["b=3"]},
        {"labels": ["a=1", "b=3"]},
    ),
    (
        "ports appended, repeats dropped",
        {"ports": ["8080:80", "443:443"]},
        {"ports": ["8080:80", "9090:90"]},
        {"ports": ["8080:80", "443:443", "9090:90"]},
    ),
    (
        "expose appended",
        {"expose": [80, "81"]},
        {"expose": ["80", 82]},
        {"expose": ["80", "81", 82]},
    ),
    (
        "dns appended without repeats",
        {"dns": ["1.1.1.1"]},
        {"dns": "8.8.8.8"},
        {"dns": ["1.1.1.1", "8.8.8.8"]},
    ),
    (
        "volumes merged by target",
        {"volumes": ["./a:/data", "cache:/cache"]},
        {"volumes": [{"type": "volume", "source": "other", "target": "/data"}, "./b:/b:ro"]},
        {
            "volumes": [
                {"type": "volume", "source": "other", "target": "/data"},
                "cache:/cache",
                "./b:/b:ro",
            ]
        },
    ),
    (
        "secrets merged by target",
        {"secrets": ["db", {"source": "x", "target": "/run/secrets/api"}]},
        {"secrets": ["api", "db"]},
        {"secrets": ["db", "api"]},
    ),
    (
        "depends_on list and mapping merged",
        {"depends_on": ["db"]},
        {"depends_on": {"db": {"condition": "service_healthy"}, "cache": None}},
        {
            "depends_on": {
                "db": {"condition": "service_healthy", "required": True},
                "cache": None,
            }
        },
    ),
    (
        "networks list and mapping merged",
        {"networks": ["front"]},
        {"networks": {"back": {"aliases": ["x"]}}},
        {"networks": {"front": None, "back": {"aliases": ["x"]}}},
    ),
    (
        "extra_hosts appended without repeats",
        {"extra_hosts": ["a:1.1.1.1"]},
        {"extra_hosts": {"a": "1.1.1.1", "b": "2.2.2.2"}},
        {"extra_hosts": ["a:1.1.1.1", "a=1.1.1.1", "b=2.2.2.2"]},
    ),
    (
        "logging with the same driver merged",
        {"logging": {"driver": "json-file", "options": {"max-size": "1m"}}},
        {"logging": {"options": {"max-file": "3"}}},
        {"logging": {"driver": "json-file", "options": {"max-size": "1m", "max-file": "3"}}},
    ),
    (
        "logging with another driver replaced",
        {"logging": {"driver": "json-file", "options": {"max-size": "1m"}}},
        {"logging": {"driver": "syslog"}},
        {"logging": {"driver": "syslog"}},
    ),
    (
        "build string read as context",
        {"build": "."},
        {"build": {"dockerfile": "Dockerfile.dev"}},
        {"build": {"context": ".", "dockerfile": "Dockerfile.dev"}},
    ),
    (
        "ulimits entry replaced",
        {"ulimits": {"nofile": {"soft": 1, "hard": 2}}},
        {"ulimits": {"nofile": {"soft": 3}}},
        {"ulimits": {"nofile": {"soft": 3}}},
    ),
    (
        "cap_add appended once",
        {"cap_add": ["NET_ADMIN"]},
        {"cap_add": ["NET_ADMIN", "SYS_TIME"]},
        {"cap_add": ["NET_ADMIN", "SYS_TIME"]},
    ),
    (
        "env_file appended by path",
        {"env_file": "a.env"},
        {"env_file": ["a.env", {"path": "b.env"}]},
        {"env_file": ["a.env", {"path": "b.env"}]},
    ),
    (
        "profiles appended once",
        {"profiles": ["a"]},
        {"profiles": ["a", "b"]},
        {"profiles": ["a", "b"]},
    ),
    (
        "plain list appended",
        {"devices": ["/dev/a"]},
        {"devices": ["/dev/b"]},
        {"devices": ["/dev/a", "/dev/b"]},
    ),
]


@pytest.mark.parametrize(
    ("name", "base", "over", "want"), MERGE_TABLE, ids=[r[0] for r in MERGE_TABLE]
)
def test_merge_rules(
    name: str, base: dict[str, Any], over: dict[str, Any], want: dict[str, Any]
) -> None:
    assert merged(svc(**base), svc(**over)) == svc(**want)


def test_merge_of_top_level_resources() -> None:
    base = {"networks": {"front": {"labels": {"a": "1"}}}, "volumes": {"data": None}}
    over = {"networks": {"front": {"internal": True, "labels": ["b=2"]}}, "volumes": {"logs": {}}}
    assert merged(base, over) == {
        "networks": {"front": {"labels": ["a=1", "b=2"], "internal": True}},
        "volumes": {"data": None, "logs": {}},
    }


def test_a_mapping_over_a_list_cannot_be_merged(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: a\n    cap_drop: [ALL]\n")
    over = write(tmp_path, "over.yaml", "services:\n  web:\n    cap_drop:\n      x: 1\n")
    errors = _errors(tmp_path, files=(tmp_path / "compose.yaml", over))
    assert any(d.file == str(over) for d in errors)


# --------------------------------------------------------------------------- via files


def _load(folder: Path, **kw: Any) -> Stack:
    files = kw.pop("files", ())
    profiles = kw.pop("profiles", ())
    paths = [] if files else [folder]
    [stack] = load_stacks(paths, options=LoadOptions(tuple(files), tuple(profiles))).stacks
    return stack


def _errors(folder: Path, **kw: Any) -> list[Diagnostic]:
    files = kw.pop("files", ())
    paths = [] if files else [folder]
    with pytest.raises(InvalidStackError) as info:
        load_stacks(paths, options=LoadOptions(tuple(files), tuple(kw.pop("profiles", ()))))
    return [d for d in info.value.diagnostics if d.severity == "error"]


BASE = """
services:
  web:
    image: busybox:1
    environment:
      MODE: base
      KEEP: "yes"
    ports: ["8080:80"]
"""


def test_files_merge_in_order_and_findings_point_at_the_file_that_set_the_value(
    tmp_path: Path,
) -> None:
    base = write(tmp_path, "compose.yaml", BASE)
    over = write(
        tmp_path,
        "prod.yaml",
        """
        services:
          web:
            environment:
              MODE: prod
            ports: ["9090:90"]
            restart: sometimes
        """,
    )
    errors = _errors(tmp_path, files=(base, over))
    [err] = errors
    assert (err.file, err.line, err.path) == (str(over), 6, "services.web.restart")
    over.write_text(over.read_text().replace("sometimes", "always"))
    stack = _load(tmp_path, files=(base, over))
    web = stack.services["web"]
    assert web.environment == {"MODE": "prod", "KEEP": "yes"}
    assert [p.published for p in web.ports] == ["8080", "9090"] or len(web.ports) == 2
    assert stack.origin == base
    assert stack.file_of("services.web.restart") == over
    assert stack.file_of("services.web.image") == base
    assert stack.line_of("services.web.restart") == 6


def test_a_rule_finding_in_an_override_names_the_override(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", BASE)
    over = write(
        tmp_path,
        "compose.override.yaml",
        "services:\n  web:\n    depends_on: [ghost]\n",
    )
    checked = pipeline.check([tmp_path])
    [err] = [d for d in checked.errors if "ghost" in d.message]
    assert err.file == str(over)
    assert err.line == 3


def test_compose_file_env_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", "services:\n  web:\n    environment: [MODE=b]\n")
    write(tmp_path, ".env", "COMPOSE_FILE=a.yaml:b.yaml\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    [stack] = load_stacks([]).stacks
    assert stack.services["web"].environment["MODE"] == "b"
    monkeypatch.setenv("COMPOSE_FILE", "a.yaml")
    [stack] = load_stacks([]).stacks
    assert stack.services["web"].environment["MODE"] == "base"


# --------------------------------------------------------------------------- profiles

PROFILES = """
services:
  web:
    image: busybox:1
  debug:
    image: busybox:1
    profiles: [debug, all]
  tools:
    image: busybox:1
    profiles: [tools]
"""

PROFILE_TABLE = [
    ((), None, {"web"}),
    (("debug",), None, {"web", "debug"}),
    (("all", "tools"), None, {"web", "debug", "tools"}),
    (("*",), None, {"web", "debug", "tools"}),
    ((), "tools", {"web", "tools"}),
    ((), " debug , tools ", {"web", "debug", "tools"}),
    (("debug",), "tools", {"web", "debug"}),  # --profile wins over COMPOSE_PROFILES
    (("nothing",), None, {"web"}),
]


@pytest.mark.parametrize(("flags", "env", "active"), PROFILE_TABLE)
def test_profiles(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: tuple[str, ...],
    env: str | None,
    active: set[str],
) -> None:
    write(tmp_path, "compose.yaml", PROFILES)
    if env is None:
        monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    else:
        monkeypatch.setenv("COMPOSE_PROFILES", env)
    assert set(_load(tmp_path, profiles=flags).services) == active


def test_compose_profiles_from_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    write(tmp_path, "compose.yaml", PROFILES)
    write(tmp_path, ".env", "COMPOSE_PROFILES=tools\n")
    assert set(_load(tmp_path).services) == {"web", "tools"}


def test_a_dependency_on_a_disabled_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    text = PROFILES.replace(
        "  web:\n    image: busybox:1\n",
        "  web:\n    image: busybox:1\n    depends_on: [debug]\n",
    )
    write(tmp_path, "compose.yaml", text)
    [err] = _errors(tmp_path)
    assert err.line == 4 and err.path == "services.web.depends_on"
    assert "`debug`, which is not enabled" in err.message
    assert err.hint is not None and "--profile debug" in err.hint
    assert set(_load(tmp_path, profiles=("debug",)).services) == {"web", "debug"}
    optional = text.replace(
        "depends_on: [debug]",
        "depends_on:\n      debug: {condition: service_started, required: false}",
    )
    write(tmp_path, "compose.yaml", optional)
    stack = _load(tmp_path)
    assert set(stack.services) == {"web"} and not stack.services["web"].depends_on


# --------------------------------------------------------------------------- extends


def test_extends_in_the_same_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """
        services:
          base:
            image: busybox:1
            environment: {A: "1", B: "1"}
            command: [sleep, "1"]
          web:
            extends: base
            environment: {B: "2"}
          api:
            extends: {service: web}
            command: [sleep, "2"]
        """,
    )
    stack = _load(tmp_path)
    assert stack.services["web"].environment == {"A": "1", "B": "2"}
    assert stack.services["web"].image == "busybox:1"
    assert stack.services["api"].environment == {"A": "1", "B": "2"}
    assert stack.services["api"].command == ["sleep", "2"]


def test_extends_from_another_file_rebases_relative_paths(tmp_path: Path) -> None:
    write(
        tmp_path,
        "common/base.yaml",
        """
        services:
          base:
            image: busybox:1
            volumes: [./conf:/conf:ro]
        """,
    )
    write(
        tmp_path,
        "app/compose.yaml",
        """
        services:
          web:
            extends: {file: ../common/base.yaml, service: base}
        """,
    )
    stack = _load(tmp_path / "app")
    [mount] = stack.services["web"].volumes
    assert mount.source == "../common/conf" and mount.type == "bind"


@pytest.mark.parametrize(
    ("text", "says", "line"),
    [
        ("services:\n  a:\n    extends: b\n  b:\n    extends: a\n", "cycle", 3),
        ("services:\n  a:\n    image: x\n    extends: nothere\n", "no service `nothere`", 4),
        (
            "services:\n  a:\n    extends: {file: missing.yaml, service: b}\n",
            "does not exist",
            3,
        ),
    ],
)
def test_extends_errors_are_located(tmp_path: Path, text: str, says: str, line: int) -> None:
    write(tmp_path, "compose.yaml", text)
    errors = _errors(tmp_path)
    assert any(says in d.message and d.line == line for d in errors), errors


# --------------------------------------------------------------------------- detection, name


@pytest.mark.parametrize(
    ("text", "compose"),
    [
        ("services:\n  web:\n    image: busybox:1\n", True),
        ("name: x\nservices:\n  web:\n    image: busybox:1\n    profiles: [a]\n", True),
        ("name: x\nversion: '3'\nservices:\n  web:\n    image: busybox:1\n", True),
        ("name: x\nservices:\n  web:\n    image: busybox:1\n", False),
        ("engine: docker\nservices:\n  web:\n    image: busybox:1\n", False),
        ("name: x\nservices:\n  - name: web\n    image: busybox:1\n", False),
    ],
)
def test_compose_detected_by_content(text: str, compose: bool) -> None:
    from stackctl.load.documents import looks_like_compose

    assert looks_like_compose(yaml.safe_load(text)) is compose


def test_a_compose_file_under_any_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    path = write(
        tmp_path / "My Cloud", "nextcloud.yml", "services:\n  web:\n    image: busybox:1\n"
    )
    [stack] = load_stacks([path]).stacks
    assert stack.name == "mycloud"


NAME_TABLE = [
    # (name: in the file, COMPOSE_PROJECT_NAME in env, in .env, folder, expected)
    (None, None, None, "My_App", "my_app"),
    (None, None, None, "-x.Y", "xy"),
    ("Shop", None, None, "app", "shop"),
    ("shop", "envname", None, "app", "envname"),
    ("shop", None, "dotenvname", "app", "dotenvname"),
    ("shop", "envname", "dotenvname", "app", "envname"),
]


@pytest.mark.parametrize(("in_file", "env", "dotenv", "folder", "want"), NAME_TABLE)
def test_project_name(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_file: str | None,
    env: str | None,
    dotenv: str | None,
    folder: str,
    want: str,
) -> None:
    head = f"name: {in_file}\n" if in_file else ""
    write(tmp_path / folder, "compose.yaml", head + "services:\n  web:\n    image: busybox:1\n")
    if dotenv:
        write(tmp_path / folder, ".env", f"COMPOSE_PROJECT_NAME={dotenv}\n")
    if env:
        monkeypatch.setenv("COMPOSE_PROJECT_NAME", env)
    else:
        monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    assert _load(tmp_path / folder).name == want


def test_an_invalid_compose_project_name_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: busybox:1\n")
    write(tmp_path, ".env", "COMPOSE_PROJECT_NAME=My App\n")
    [err] = _errors(tmp_path)
    assert "COMPOSE_PROJECT_NAME is not a valid project name" in err.message
    assert err.file == str(tmp_path / ".env")


# --------------------------------------------------------------------------- parity, messages


def test_a_dot_source_is_a_bind_mount(tmp_path: Path) -> None:
    write(
        tmp_path / "app",
        "compose.yaml",
        "services:\n  web:\n    image: busybox:1\n    volumes: [.env:/src/.env:ro, .:/app]\n",
    )
    stack = _load(tmp_path / "app")
    assert [(m.type, m.source) for m in stack.services["web"].volumes] == [
        ("bind", ".env"),
        ("bind", "."),
    ]


@pytest.mark.parametrize(
    ("condition", "restart", "swarm"),
    [
        ("unless-stopped", "unless-stopped", "any"),
        ("any", "always", "any"),
        ("always", "always", "any"),
        ("none", "no", "none"),
        ("on-failure", "on-failure:3", "on-failure"),
    ],
)
def test_deploy_restart_policy_as_compose_maps_it(
    tmp_path: Path, condition: str, restart: str, swarm: str
) -> None:
    write(
        tmp_path,
        "compose.yaml",
        f"""
        services:
          web:
            image: busybox:1
            deploy:
              restart_policy: {{condition: {condition}, max_attempts: 3}}
        """,
    )
    web = _load(tmp_path).services["web"]
    assert web.restart == restart
    assert web.deploy is not None and web.deploy.restart_policy is not None
    assert web.deploy.restart_policy.condition == swarm


def test_a_repeated_environment_item_is_named_with_its_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  web:\n    image: busybox:1\n    environment:\n      - A=1\n      - B=2\n"
        "      - A=3\n",
    )
    result = load_stacks([tmp_path])
    [warning] = [d for d in result.warnings if d.code == "duplicate-item"]
    assert warning.line == 7 and "`A` is given twice" in warning.message
    assert "first at line 5" in warning.message
    assert result.stacks[0].services["web"].environment["A"] == "3"  # as in Compose


def test_a_repeated_item_the_schema_refuses_is_named_with_its_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  web:\n    image: busybox:1\n    security_opt:\n      - no-new-privileges\n"
        "      - label=a\n      - no-new-privileges\n",
    )
    [err] = _errors(tmp_path)
    assert (err.line, err.path) == (7, "services.web.security_opt.2")
    assert err.message == "an item is given twice in security_opt (first at line 5)"


def test_an_enum_error_lists_the_allowed_values(tmp_path: Path) -> None:
    write(
        tmp_path,
        "stack.yaml",
        "name: s\nservices:\n  web:\n    image: busybox:1\n    deploy:\n"
        "      update_config: {order: sideways}\n",
    )
    [err] = _errors(tmp_path / "stack.yaml")
    assert err.message == "the value is not one of: stop-first, start-first"
    assert err.hint == "write one of them, e.g. `order: stop-first`"


# --------------------------------------------------------------------------- include


def test_include_imports_resources_with_their_own_folder_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUBVAR", raising=False)
    write(
        tmp_path / "app",
        "compose.yaml",
        """
        include:
          - sub/compose.yaml
        services:
          web:
            image: busybox:1
            depends_on: [db]
          db:
            environment: {LOCAL: "1"}
        """,
    )
    sub = write(
        tmp_path / "app" / "sub",
        "compose.yaml",
        """
        services:
          db:
            image: busybox:1
            volumes: [./data:/data]
            environment: {X: "${SUBVAR:-none}"}
        """,
    )
    write(tmp_path / "app" / "sub", ".env", "SUBVAR=fromsub\n")
    stack = _load(tmp_path / "app")
    db = stack.services["db"]
    assert db.environment == {"X": "fromsub", "LOCAL": "1"}  # the local definition merged over
    assert [(m.type, m.source) for m in db.volumes] == [("bind", "./sub/data")]
    assert stack.file_of("services.db.image") == sub
    assert stack.line_of("services.db.image") == 3


def test_include_long_form_with_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAG", raising=False)
    write(
        tmp_path,
        "compose.yaml",
        """
        include:
          - path: [lib/a.yaml, lib/b.yaml]
            env_file: lib/vars.env
        """,
    )
    write(tmp_path / "lib", "a.yaml", "services:\n  a:\n    image: busybox:${TAG}\n")
    write(tmp_path / "lib", "b.yaml", "services:\n  a:\n    restart: always\n")
    write(tmp_path / "lib", "vars.env", "TAG=1\n")
    a = _load(tmp_path).services["a"]
    assert (a.image, a.restart) == ("busybox:1", "always")


@pytest.mark.parametrize(
    ("included", "says"),
    [
        ("include: [../compose.yaml]\nservices: {}\n", "`include` makes a cycle"),
        ("include: [nothere.yaml]\nservices: {}\n", "named by `include` does not exist"),
    ],
)
def test_include_errors_are_located(tmp_path: Path, included: str, says: str) -> None:
    write(tmp_path, "compose.yaml", "include: [sub/compose.yaml]\nservices: {}\n")
    sub = write(tmp_path / "sub", "compose.yaml", included)
    [err] = _errors(tmp_path)
    assert (err.file, err.line) == (str(sub), 1) and says in err.message
