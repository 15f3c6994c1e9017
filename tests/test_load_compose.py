"""Compose files: the reference workload loads; what stackctl cannot honour is named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.load import load_paths, load_stacks
from stackctl.model import Condition, Stack

REFERENCE = Path(__file__).parent / "fixtures" / "load" / "reference"
COMPOSE_FILES = sorted(REFERENCE.rglob("compose.yaml"))


def write(folder: Path, text: str, name: str = "compose.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def errors_of(path: Path) -> list[Diagnostic]:
    with pytest.raises(InvalidStackError) as info:
        load_paths([path])
    return [d for d in info.value.diagnostics if d.severity == "error"]


def one(path: Path) -> Stack:
    stacks = load_paths([path])
    assert len(stacks) == 1
    return stacks[0]


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "s3cret")


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.parent.name)
def test_reference_compose_files_load(path: Path) -> None:
    stack = one(path)
    assert stack.origin == path
    assert stack.services
    for name in stack.services:
        assert stack.line_of(f"services.{name}") is not None


def test_reference_matrix_maps_onto_the_model() -> None:
    stack = one(REFERENCE / "matrix")
    assert stack.name == "matrix"
    assert stack.networks["traefik_default"].external
    postgres = stack.services["postgres"]
    assert postgres.environment["POSTGRES_PASSWORD"] == "s3cret"
    assert postgres.healthcheck is not None
    assert postgres.healthcheck.test == ["CMD-SHELL", "pg_isready -U synapse_user"]
    wechat = stack.services["matrix-wechat"]
    assert wechat.depends_on["synapse"].condition is Condition.HEALTHY
    assert wechat.ports[0].published == 20002
    assert stack.line_of("services.postgres.healthcheck") == 128
    assert stack.line_of("services.postgres.healthcheck.interval") == 130
    assert "default" not in stack.networks  # every service names its networks


def test_reference_names_come_from_name_or_folder() -> None:
    names = {s.name for s in load_paths([REFERENCE / "traefik", REFERENCE / "patterns"])}
    assert names == {"traefik", "by-name", "external-network", "host-gateway"}


def test_reference_traefik_limits_and_default_network() -> None:
    stack = one(REFERENCE / "traefik")
    traefik = stack.services["traefik"]
    assert traefik.deploy is not None and traefik.deploy.resources is not None
    limits = traefik.deploy.resources.limits
    assert limits is not None and limits.cpus == 0.5 and limits.memory == "2048M"
    assert traefik.command == ["--api.insecure=true", "--providers.docker"]
    assert stack.network_name("default") == "traefik_default"


def test_reference_host_gateway_fixed_address() -> None:
    stack = one(REFERENCE / "patterns" / "host-gateway")
    assert stack.networks["nginx_default"].subnets == ["172.18.0.0/16"]
    assert stack.services["nginx_test"].networks["nginx_default"].ipv4_address == "172.18.0.2"


def test_missing_required_variable_fails_with_its_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POSTGRES_PASSWORD")
    [err] = errors_of(REFERENCE / "matrix")
    assert "set POSTGRES_PASSWORD" in err.message
    assert err.message.startswith("POSTGRES_PASSWORD is required")
    assert err.file is not None and err.file.endswith("compose.yaml")
    assert err.line == 124
    assert err.path == "services.postgres.environment.POSTGRES_PASSWORD"
    assert err.hint is not None and ".env" in err.hint and "export POSTGRES_PASSWORD" in err.hint


def test_required_variable_from_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("POSTGRES_PASSWORD")
    src = (REFERENCE / "matrix" / "compose.yaml").read_text()
    path = write(tmp_path / "matrix", src)
    (path.parent / ".env").write_text("POSTGRES_PASSWORD=from-dotenv\n")
    postgres = one(path).services["postgres"]
    assert postgres.environment["POSTGRES_PASSWORD"] == "from-dotenv"


def test_version_is_accepted_and_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "app", 'version: "3.8"\nservices:\n  web:\n    image: nginx:1\n')
    stack = one(path)
    assert stack.name == "app"
    assert list(stack.services) == ["web"]


def test_stack_name_from_folder_is_sanitised(tmp_path: Path) -> None:
    path = write(tmp_path / "My App.v2", "services:\n  web:\n    image: nginx:1\n")
    assert one(path).name == "myappv2"


UNSUPPORTED = """
services:
  web:
    image: nginx:1
    build: {context: ., ssh: [default]}
    volumes_from: [other]
    mac_address: 02:42:ac:11:00:02
    external_links: [db]
    x-anything: fine
    ports:
      - target: 80
        app_protocol: http
models:
  llm:
    model: ai/smollm2
x-common: fine
"""


def test_unsupported_keys_are_reported_by_name_with_line(tmp_path: Path) -> None:
    errors = errors_of(write(tmp_path / "app", UNSUPPORTED))
    by_path = {d.path: d for d in errors}
    assert set(by_path) == {
        "services.web.build.ssh",
        "services.web.volumes_from",
        "services.web.mac_address",
        "services.web.external_links",
        "services.web.ports.0.app_protocol",
        "models",
    }
    build = by_path["services.web.build.ssh"]
    assert build.message == "`ssh` is not supported by stackctl"
    assert build.line == 4
    assert build.hint is not None and "image:" in build.hint
    assert by_path["services.web.volumes_from"].line == 5
    links = by_path["services.web.external_links"]
    assert links.hint is not None and "external: true" in links.hint
    assert by_path["services.web.ports.0.app_protocol"].line == 11
    assert by_path["models"].line == 12


def test_compose_typo_gets_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path / "app", "services:\n  web:\n    imgae: nginx:1\n")
    errors = errors_of(path)
    [err] = [d for d in errors if d.path == "services.web.imgae"]
    # `image` is now optional (a service may `build`); the hint names it
    assert err.path == "services.web.imgae"
    assert err.line == 3
    assert err.hint == "did you mean 'image'?"


def test_compose_schema_errors_are_located(tmp_path: Path) -> None:
    text = """
    services:
      web:
        image: nginx:1
        restart: always
        environment: 12
    """
    [err] = errors_of(write(tmp_path / "app", text))
    assert err.path == "services.web.environment"
    assert err.line == 5
    assert "expected" in err.message


def test_compose_model_errors_are_located(tmp_path: Path) -> None:
    text = """
    services:
      web:
        image: nginx:1
        healthcheck:
          test: curl -f localhost
          interval: 5 seconds
        ports:
          - "99999999:80"
    """
    errors = errors_of(write(tmp_path / "app", text))
    by_path = {d.path: d for d in errors}
    assert by_path["services.web.healthcheck.interval"].line == 6
    assert "malformed duration" in by_path["services.web.healthcheck.interval"].message
    assert any(p.startswith("services.web.ports") for p in by_path)


def test_compose_sections_map_onto_the_model(tmp_path: Path) -> None:
    text = """
    name: shop
    x-env: &env
      TZ: UTC
    services:
      db:
        image: postgres:16
        environment:
          <<: *env
          PGDATA: /data
        volumes:
          - dbdata:/data
          - type: tmpfs
            target: /tmp
            tmpfs:
              size: 64m
        scale: 2
        healthcheck:
          disable: true
        tmpfs: /run
        secrets: [dbpass]
        env_file:
          - path: ./db.env
      web:
        image: nginx:1
        depends_on: [db]
        networks:
          front:
            aliases: [www]
          default:
        ports: [80, "127.0.0.1:8443:443/tcp"]
        labels: ["a=1", "b"]
        extra_hosts: ["host.docker.internal:host-gateway"]
        command: nginx -g 'daemon off;'
    networks:
      front:
        external:
          name: edge
    volumes:
      dbdata:
      old:
        external:
          name: legacy
    secrets:
      dbpass:
        file: ./dbpass.txt
    """
    stack = one(write(tmp_path / "shop", text))
    db, web = stack.services["db"], stack.services["web"]
    assert db.environment == {"TZ": "UTC", "PGDATA": "/data"}
    assert db.replicas == 2
    assert stack.line_of("services.db.replicas") == 16
    assert db.healthcheck is not None and db.healthcheck.disabled
    assert [m.type for m in db.volumes] == ["volume", "tmpfs", "tmpfs"]
    assert db.volumes[1].tmpfs_size == "64m"
    assert db.secrets[0].source == "dbpass"
    assert db.env_file == ["./db.env"]
    assert stack.networks["front"].external and stack.networks["front"].name == "edge"
    assert stack.volumes["old"].external and stack.volumes["old"].name == "legacy"
    assert stack.secrets["dbpass"].file == "./dbpass.txt"
    assert web.networks["front"].aliases == ["www"]
    assert "default" in web.networks and "default" in stack.networks
    assert [(p.target, p.published, p.host_ip) for p in web.ports] == [
        (80, None, None),
        (443, 8443, "127.0.0.1"),
    ]
    assert web.labels == {"a": "1", "b": ""}
    assert web.extra_hosts == {"host.docker.internal": "host-gateway"}
    assert web.command == ["nginx", "-g", "daemon off;"]
    assert list(web.depends_on) == ["db"]


def test_yaml_1_2_scalars(tmp_path: Path) -> None:
    text = """
    services:
      ssh:
        image: gitea/gitea:1
        ports:
          - 22:22
        environment:
          ANSWER: yes
          MODE: 0755
    """
    svc = one(write(tmp_path / "git", text)).services["ssh"]
    assert (svc.ports[0].published, svc.ports[0].target) == (22, 22)  # not 1342 (YAML 1.1)
    assert svc.environment["ANSWER"] == "yes"  # not "true" (YAML 1.1)


def test_bare_environment_names_read_process_env_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FROM_PROCESS", "p")
    monkeypatch.delenv("NOWHERE", raising=False)
    path = write(
        tmp_path / "app",
        """
        services:
          web:
            image: nginx:1
            environment: [FROM_PROCESS, FROM_FILE, NOWHERE]
        """,
    )
    (path.parent / ".env").write_text("FROM_FILE=f\n")
    env = one(path).services["web"].environment
    assert env == {"FROM_PROCESS": "p", "FROM_FILE": "f"}


def test_unset_variable_is_a_warning_not_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = write(
        tmp_path / "app",
        "services:\n  web:\n    image: nginx:1\n    environment:\n      A: x${NOT_SET_ANYWHERE}\n",
    )
    result = load_stacks([path])
    assert result.stacks[0].services["web"].environment["A"] == "x"
    [warning] = result.warnings
    assert warning.severity == "warning" and "NOT_SET_ANYWHERE is not set" in warning.message
    assert warning.line == 5


def test_every_error_of_every_file_is_collected(tmp_path: Path) -> None:
    a = write(tmp_path / "a", "services:\n  web:\n    build: {context: ., tags: [x]}\n")
    b = write(tmp_path / "b", "services:\n  web:\n    image: nginx:1\n    volumes_from: [x]\n")
    with pytest.raises(InvalidStackError) as info:
        load_paths([a, b])
    assert [(Path(d.file or "").parent.name, d.path) for d in info.value.diagnostics] == [
        ("a", "services.web.build.tags"),
        ("b", "services.web.volumes_from"),
    ]
    assert "Traceback" not in str(info.value)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    [err] = errors_of(write(tmp_path / "app", "services:\n  web: [\n    image: x\n"))
    assert err.message.startswith("YAML syntax error")
    assert err.line is not None


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    text = "services:\n  web:\n    image: nginx:1\n  web:\n    image: nginx:2\n"
    [err] = errors_of(write(tmp_path / "app", text))
    assert err.line == 4 and "defined twice (first at line 2)" in err.message


def test_override_file_beside_the_folder_s_compose_file_is_merged(tmp_path: Path) -> None:
    write(tmp_path / "app", "services:\n  web:\n    image: nginx:1\n")
    write(tmp_path / "app", "services:\n  web:\n    image: nginx:2\n", "compose.override.yaml")
    assert one(tmp_path / "app").services["web"].image == "nginx:2"
    # named explicitly, the file is loaded alone (docker compose -f compose.yaml)
    assert one(tmp_path / "app" / "compose.yaml").services["web"].image == "nginx:1"


def test_override_file_beside_a_stack_format_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "app", "name: app\nservices:\n  web:\n    image: nginx:1\n", "stack.yaml")
    write(tmp_path / "app", "services:\n  web:\n    image: nginx:2\n", "compose.override.yaml")
    [err] = errors_of(tmp_path / "app")
    assert "overrides a Compose file, and stack.yaml is not one" in err.message


def test_merge_keys_inside_merged_mappings_are_resolved(tmp_path: Path) -> None:
    # frappe/frappe_docker's compose.yaml: an anchor that merges other anchors, merged again
    # (YAML merges nest; Compose reads it so). Explicit keys win, nearest first.
    text = """
    x-image: &image
      image: busybox:1
      restart: always
    x-deps: &deps
      depends_on: [db]
    x-defaults: &defaults
      <<: [*deps, *image]
      restart: on-failure
    services:
      db:
        image: busybox:1
      app:
        <<: *defaults
        command: ["true"]
    """
    stack = one(write(tmp_path / "app", text))
    app = stack.services["app"]
    assert app.image == "busybox:1"
    assert app.restart == "on-failure"
    assert list(app.depends_on) == ["db"]


def test_a_chain_of_merges_is_read_once_per_mapping(tmp_path: Path) -> None:
    # `<<: [*m0, *m0]` forty deep would be 2^40 merges if each were read again.
    lines = ["x-m0: &m0\n  restart: always"]
    lines += [f"x-m{i}: &m{i}\n  <<: [*m{i - 1}, *m{i - 1}]\n  k{i}: v" for i in range(1, 41)]
    text = "\n".join(lines) + "\nservices:\n  app:\n    <<: *m40\n    image: busybox:1\n"
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "compose.yaml").write_text(text.replace("  k", "  x-k"))
    assert one(tmp_path / "app" / "compose.yaml").services["app"].restart == "always"
