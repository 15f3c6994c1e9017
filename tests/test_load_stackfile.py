"""The stack YAML/JSON format: the model's own shape, checked by schema and model, located."""

from __future__ import annotations

import json
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackctl import pipeline
from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.load import load_paths
from stackctl.model import Mount, Port, Secret, Stack


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def errors_of(path: Path) -> list[Diagnostic]:
    with pytest.raises(InvalidStackError) as info:
        load_paths([path])
    assert "Traceback" not in str(info.value)
    return [d for d in info.value.diagnostics if d.severity == "error"]


SHOP = """
# yaml-language-server: $schema=../schemas/stack.schema.json
name: shop
x-common: &common
  restart: unless-stopped
services:
  db:
    <<: *common
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: {value: "${DB_PASSWORD:-dev}"}
      PRICE: "$$5"
    volumes: ["pgdata:/var/lib/postgresql/data"]
    healthcheck:
      test: pg_isready
      interval: 5
  web:
    image: nginx:1.27
    ports: ["127.0.0.1:8080:80"]
    depends_on: {db: service_healthy}
    networks: [front]
networks:
  front: {}
volumes:
  pgdata:
"""


def test_stack_yaml_loads_with_friendly_forms_and_lines(tmp_path: Path) -> None:
    [stack] = load_paths([write(tmp_path / "shop.yaml", SHOP)])
    db, web = stack.services["db"], stack.services["web"]
    assert db.restart == "unless-stopped"
    assert db.environment["POSTGRES_PASSWORD"] == Secret("dev")
    assert db.environment["PRICE"] == "$5"
    assert db.volumes == [Mount.volume("pgdata", "/var/lib/postgresql/data")]
    assert db.healthcheck is not None and db.healthcheck.interval == "5s"
    assert web.ports == [Port(target=80, published=8080, host_ip="127.0.0.1")]
    assert stack.line_of("services.web.ports") == 18
    assert stack.line_of("services.db.healthcheck.interval") == 15
    assert stack.origin == tmp_path / "shop.yaml"


def test_stack_yaml_errors_carry_file_line_and_path(tmp_path: Path) -> None:
    path = write(
        tmp_path / "stack.yaml",
        """
        name: shop
        services:
          web:
            imgae: nginx:1
            ports: ["80:80", "eighty"]
            healthcheck:
              interval: 5 seconds
        """,
    )
    errors = errors_of(path)
    got = {(d.path, d.line) for d in errors}
    assert ("services.web.imgae", 4) in got
    assert ("services.web.ports", 5) in got
    assert ("services.web.healthcheck.interval", 7) in got
    typo = next(d for d in errors if d.path == "services.web.imgae")
    assert typo.message == "unknown field `imgae`"
    assert typo.hint == "did you mean 'image'?"
    assert all(d.file == str(path) for d in errors)


def test_stack_yaml_schema_errors_are_located(tmp_path: Path) -> None:
    path = write(
        tmp_path / "stack.yaml",
        """
        name: shop
        services:
          web:
            image: nginx:1
            depends_on: {db: service_happy}
            environment: 12
        """,
    )
    by_path = {d.path: d for d in errors_of(path)}
    assert by_path["services.web.depends_on.db"].line == 5
    message = by_path["services.web.depends_on.db"].message
    assert "not one of" in message and "service_happy" not in message  # values never shown
    assert by_path["services.web.environment"].line == 6
    assert by_path["services.web.environment"].message.startswith("expected a mapping")


def test_missing_name_and_image(tmp_path: Path) -> None:
    text = "engine: docker\nservices:\n  web:\n    restart: always\n"
    path = write(tmp_path / "stack.yaml", text)
    messages = {(d.path, d.message) for d in errors_of(path)}
    assert ("name", "`name` is required") in messages
    assert (
        "services.web",
        "a service needs `image` (what to run) or `build` (a folder with a Dockerfile to "
        "build it from)",
    ) in messages


def test_a_missing_name_hides_no_other_finding(tmp_path: Path) -> None:
    """The stack format's markers (engine:) make it no Compose file: the name is
    required, and the rules still run on the rest."""
    text = "engine: docker\nservices:\n  web:\n    image: busybox:1\n    depends_on: [nothere]\n"
    path = write(tmp_path / "stack.yaml", text)
    checked = pipeline.check([path])
    found = {(d.path, d.line) for d in checked.errors}
    assert ("name", 1) in found
    assert ("services.web.depends_on.nothere", 5) in found or any(
        "nothere" in d.message for d in checked.errors
    )


def test_required_variable_in_stack_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API_TOKEN", raising=False)
    path = write(
        tmp_path / "stack.yaml",
        """
        name: api
        services:
          api:
            image: ghcr.io/acme/api:2
            environment:
              TOKEN: ${API_TOKEN:?create a token at https://acme.example/tokens}
        """,
    )
    [err] = errors_of(path)
    assert err.line == 6
    assert err.message == "API_TOKEN is required: create a token at https://acme.example/tokens"
    assert err.hint is not None and str(tmp_path / ".env") in err.hint


def test_interpolated_numbers_and_booleans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICAS", "3")
    monkeypatch.setenv("RO", "true")
    path = write(
        tmp_path / "stack.yaml",
        """
        name: app
        services:
          web:
            image: nginx:1
            replicas: ${REPLICAS}
            read_only: ${RO}
            ports:
              - target: 80
                published: ${PORT:-8080}
        """,
    )
    [stack] = load_paths([path])
    web = stack.services["web"]
    assert (web.replicas, web.read_only, web.ports[0].published) == (3, True, 8080)


def test_stack_json_with_schema_key(tmp_path: Path) -> None:
    doc = {
        "$schema": "../schemas/stack.schema.json",
        "name": "app",
        "services": {"web": {"image": "nginx:1", "ports": [80]}},
    }
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(doc, indent="\t"))
    [stack] = load_paths([path])
    assert stack.services["web"].ports == [Port(target=80)]
    assert stack.line_of("services.web.ports") == 7


def test_stack_json_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text('{\n  "name": "app",\n  "services": {\n}\n')
    [err] = errors_of(path)
    assert err.message.startswith("JSON syntax error") and err.line is not None


@pytest.mark.parametrize(("text", "message"), [("", "empty"), ("- a\n- b\n", "not a mapping")])
def test_empty_or_non_mapping_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    [err] = errors_of(path)
    assert message in err.message


def test_unknown_yaml_tag_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "stack.yaml", "name: app\nservices: !reset {}\n")
    [err] = errors_of(path)
    assert "!reset" in err.message and err.line == 2


def test_loaded_stack_equals_the_python_one(tmp_path: Path) -> None:
    [stack] = load_paths([write(tmp_path / "shop.yaml", SHOP)])
    again = Stack.model_validate(stack.model_dump())
    assert again == stack


# --------------------------------------------------------------------------- robustness

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 70000)
    | st.sampled_from(
        ["nginx:1", "80:80", "./a:/b", "5s", "x", "${A:-1}", "service_healthy", "always", "CMD"]
    )
)
_keys = st.sampled_from(
    [
        "image",
        "ports",
        "volumes",
        "networks",
        "environment",
        "depends_on",
        "healthcheck",
        "test",
        "interval",
        "deploy",
        "resources",
        "limits",
        "external",
        "ipam",
        "config",
        "aliases",
        "condition",
        "target",
        "published",
        "type",
        "source",
        "secrets",
        "scale",
        "tmpfs",
        "env_file",
        "devices",
        "labels",
        "command",
        "restart",
        "x-a",
        "build",
        "name",
    ]
)
_data = st.recursive(
    _scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(_keys, c, max_size=4),
    max_leaves=20,
)
_documents = st.fixed_dictionaries(
    {"name": st.just("fz")},
    optional={
        "services": st.dictionaries(st.sampled_from(["web", "db"]), _data, max_size=2),
        "networks": _data,
        "volumes": _data,
    },
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents, st.sampled_from(["compose.yaml", "stack.yaml"]))
def test_bad_input_never_escapes_as_an_exception(doc: dict[str, Any], name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(yaml.safe_dump(doc))
        try:
            load_paths([path])
        except InvalidStackError as e:
            assert all(d.file == str(path) for d in e.diagnostics)
