"""The stack JSON Schema: generated from the model, committed, and in step with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from stackctl.cli import main
from stackctl.dump import to_data
from stackctl.load import load_paths
from stackctl.schema import SCHEMA_URL, schema_text, stack_schema, stack_validator

ROOT = Path(__file__).parent.parent
COMMITTED = ROOT / "schemas" / "stack.schema.json"
REFERENCE = Path(__file__).parent / "fixtures" / "load" / "reference"


def test_committed_schema_is_the_generated_one() -> None:
    assert COMMITTED.exists(), "run `stackctl schema -o schemas/stack.schema.json`"
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "schemas/stack.schema.json is out of date with the model: "
        "run `stackctl schema -o schemas/stack.schema.json` and commit it"
    )


def test_schema_is_a_valid_json_schema() -> None:
    schema = stack_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == SCHEMA_URL
    assert schema["required"] == ["name"]


def test_schema_accepts_the_friendly_forms() -> None:
    doc = yaml.safe_load(
        """
        name: shop
        x-common: {restart: always}
        services:
          web:
            image: nginx:1
            command: nginx -g 'daemon off;'
            environment: ["A=1", "B"]
            env_file: .env.web
            ports: [80, "8080:80", {target: 443, published: "8443"}]
            volumes:
              - ./html:/usr/share/nginx/html:ro
              - type: bind
                source: ./conf
                target: /etc/nginx
                bind: {create_host_path: false}
            tmpfs: /run
            networks: [front]
            depends_on: {db: service_healthy}
            healthcheck: {test: curl -f localhost, interval: 5, retries: "3"}
            labels: ["a=b"]
            extra_hosts: ["host.docker.internal:host-gateway"]
            restart: false
            replicas: "2"
            stop_grace_period: 10
          db:
            image: postgres:16
            environment: {PASSWORD: {value: x}, PORT: 5432, DEBUG: true, EMPTY: null}
            networks: {back: {aliases: [database]}, front: null}
            depends_on: [web]
        networks:
          front:
          back: {ipam: {subnet: 172.30.0.0/16}}
        volumes: {data: null}
        """
    )
    assert list(stack_validator().iter_errors(doc)) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"services": {}},
        {"name": "x", "services": {"web": {"image": "nginx", "imgae": "x"}}},
        {"name": "x", "services": {"web": {"image": "nginx", "ports": [[80]]}}},
        {"name": "x", "services": {"web": {"image": "nginx", "environment": 3}}},
        {"name": "x", "networks": {"n": {"drivr": "bridge"}}},
    ],
)
def test_schema_rejects_what_the_model_rejects(bad: dict[str, object]) -> None:
    assert list(stack_validator().iter_errors(bad)) != []


def test_reference_stacks_dump_to_schema_valid_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "x")
    for stack in load_paths(sorted(p.parent for p in REFERENCE.rglob("compose.yaml"))):
        assert list(stack_validator().iter_errors(to_data(stack))) == []


def test_cli_schema_prints_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == stack_schema()
    out = tmp_path / "schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert out.read_text() == schema_text()
