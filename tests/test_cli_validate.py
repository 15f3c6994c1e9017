"""``stackctl validate`` and ``stackctl graph`` end to end: files in, report and exit code out.

Each folder of tests/fixtures/invalid/ breaks one rule; the offending line carries a
``# <- rule-id`` marker, so the test knows which file and line the report must name.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import stackctl.cli.graph_cmd  # noqa: F401  (registers `graph` until cli/__init__ lists it)
from stackctl.cli import main
from stackctl.rules import RULES

FIXTURES = Path(__file__).parent / "fixtures" / "invalid"
SEVERITY = {r.code: r.severity for r in RULES} | {"stack-cycle": "error"}
# rules the loader already enforces, before validation runs (with its own code)
LOADER_CODES = {"duplicate-stack": "invalid"}
MARKER = re.compile(r"#\s*<-\s*(\S+)")


@dataclass(frozen=True)
class Case:
    name: str
    files: tuple[Path, ...]
    code: str
    file: Path
    line: int

    @property
    def severity(self) -> str:
        return SEVERITY[self.code]


def _case(folder: Path) -> Case:
    files = tuple(sorted(folder.rglob("*.yaml")))
    for f in files:
        for n, text in enumerate(f.read_text().splitlines(), start=1):
            m = MARKER.search(text)
            if m:
                return Case(folder.name, files, m.group(1), f, n)
    raise AssertionError(f"{folder}: no '# <- rule-id' marker")


CASES = [_case(p) for p in sorted(FIXTURES.iterdir()) if p.is_dir()]


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def names(file: Path) -> list[str]:
    """The ways a report may spell a file: as given, or relative to the working folder."""
    return [str(file), os.path.relpath(file)]


def test_every_rule_has_a_fixture() -> None:
    assert {c.code for c in CASES} == set(SEVERITY)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_is_reported_at_its_file_and_line(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "validate", *case.files)
    assert code == (1 if case.severity == "error" else 0)
    assert any(f"{case.severity}: {n}:{case.line}: " in out for n in names(case.file)), out
    if case.severity == "error":
        assert "invalid: " in out.splitlines()[-1]
        assert "Order:" not in out
    else:
        strict, out, _ = run(capsys, "validate", "--strict", *case.files)
        assert strict == 1
        assert "--strict" in out.splitlines()[-1]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_json_names_rule_file_and_line(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "validate", "--json", *case.files)
    doc = json.loads(out)
    assert doc["valid"] is (case.severity != "error")
    assert code == (0 if doc["ok"] else 1)
    found = [
        d
        for d in doc["diagnostics"]
        if d["code"] in (case.code, LOADER_CODES.get(case.code))
        and d["file"] in names(case.file)
        and d["line"] == case.line
    ]
    assert found, doc["diagnostics"]
    assert found[0]["path"] and found[0]["message"] and found[0]["severity"] == case.severity


# --------------------------------------------------------------------------- valid sets


TRAEFIK = """\
name: traefik
services:
  traefik:
    image: traefik:v3.1
    ports:
      - "80:80"
"""

MATRIX = """\
name: matrix
services:
  postgres:
    image: postgres:16.2
    healthcheck:
      test: ["CMD-SHELL", "pg_isready"]
    networks: [matrix_network]
  synapse:
    image: matrixdotorg/synapse:v1.99.0
    depends_on:
      postgres:
        condition: service_healthy
    networks: [traefik_default, matrix_network]
networks:
  traefik_default:
    external: true
  matrix_network:
    external: true
"""

PROXY = """\
name: proxy
services:
  nginx:
    image: nginx:1.25
    networks: [default, dashboard]
networks:
  default: {}
  dashboard:
    external: true
"""


@pytest.fixture
def homelab(tmp_path: Path) -> list[Path]:
    """Three stacks given in an order that needs fixing: matrix needs traefik first."""
    paths = []
    for name, text in (("matrix", MATRIX), ("traefik", TRAEFIK), ("proxy", PROXY)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "compose.yaml").write_text(text)
        paths.append(folder / "compose.yaml")
    return paths


def test_valid_set_prints_order_externals_and_summary(
    homelab: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "validate", *homelab)
    assert code == 0, out + err
    lines = out.splitlines()
    assert "Order: traefik -> matrix -> proxy" in lines
    assert (
        "external network 'matrix_network' is not defined by any stack here; "
        "it must exist on the daemon (used by matrix)"
    ) in lines
    assert any(line.startswith("external network 'dashboard' ") for line in lines)
    assert not any("traefik_default" in line for line in lines)
    assert lines[-1] == "3 stacks valid (0 warnings)"


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("0", "0")])
def test_the_cli_process_skips_pydantics_plugin_lookup_unless_told(
    homelab: list[Path], given: str | None, seen: str
) -> None:
    """The ``stackctl`` process sets PYDANTIC_DISABLE_PLUGINS=1 (pydantic's plugin lookup
    reads every installed distribution's metadata); a value the caller set is kept."""
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if given is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = given
    code = (
        "import atexit, os, sys; "
        "atexit.register(lambda: print('plugins:', os.environ.get('PYDANTIC_DISABLE_PLUGINS'))); "
        f"sys.argv = ['stackctl', 'validate', *{[str(p) for p in homelab]!r}]; "
        "from stackctl.cli import entry; entry()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"plugins: {seen}"


def test_valid_set_as_json(homelab: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--json", *homelab)
    doc = json.loads(out)
    assert code == 0
    assert doc["valid"] is True and doc["ok"] is True
    assert doc["order"] == ["traefik", "matrix", "proxy"]
    assert {e["name"] for e in doc["external_networks"]} == {"matrix_network", "dashboard"}
    assert doc["diagnostics"] == [] and doc["errors"] == 0 and doc["warnings"] == 0


def test_warnings_pass_unless_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "compose.yaml"
    f.write_text("name: app\nservices:\n  web:\n    image: nginx\n")
    code, out, _ = run(capsys, "validate", f)
    assert code == 0
    assert out.splitlines()[-1] == "1 stack valid (1 warning)"
    code, out, _ = run(capsys, "validate", "--strict", f)
    assert code == 1


def test_all_findings_are_printed_with_hints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "compose.yaml"
    f.write_text(
        "name: app\n"
        "services:\n"
        "  web:\n"
        "    image: nginx:1.25\n"
        "    networks: [bakend]\n"
        "    depends_on: [ghost]\n"
        "networks:\n"
        "  backend: {}\n"
    )
    code, out, _ = run(capsys, "validate", f)
    assert code == 1
    assert f"error: {f}:5: services.web.networks.bakend: " in out or "networks.bakend" in out
    assert "  hint: did you mean 'backend'?" in out
    assert "services.web.depends_on.ghost" in out
    assert out.splitlines()[-1] == "invalid: 2 errors, 0 warnings"


# --------------------------------------------------------------------------- bad input


def test_broken_yaml_is_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "compose.yaml"
    f.write_text("name: app\nservices:\n  web:\n    image: [nginx\n")
    code, out, err = run(capsys, "validate", f)
    assert code == 1
    assert any(n in out + err for n in names(f))
    assert re.search(r":\d+: ", out + err)


def test_model_error_is_reported_with_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "compose.yaml"
    f.write_text("name: app\nservices:\n  web:\n    image: nginx:1.25\n    ports: ['80:abc']\n")
    code, out, err = run(capsys, "validate", f)
    assert code == 1
    assert any(f"{n}:5: " in out + err for n in names(f)), out + err


def test_missing_path_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "validate", tmp_path / "nope.yaml")
    assert code == 1
    assert "nope.yaml" in out + err
    code, out, _ = run(capsys, "validate", "--json", tmp_path / "nope.yaml")
    assert code == 1 and json.loads(out)["valid"] is False


# --------------------------------------------------------------------------- graph


def test_graph_mermaid_and_dot(homelab: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", *homelab)
    assert code == 0
    assert out.startswith("flowchart LR\n")
    assert "svc_matrix_synapse -->|healthy| svc_matrix_postgres" in out
    assert "svc_matrix_synapse -.- net_traefik_default" in out
    code, out, _ = run(capsys, "graph", "--format", "dot", *homelab)
    assert code == 0
    assert out.startswith("digraph stackctl {")
    assert '"svc_matrix_synapse" -> "svc_matrix_postgres" [label="healthy"];' in out


def test_graph_refuses_an_invalid_set(capsys: pytest.CaptureFixture[str]) -> None:
    case = next(c for c in CASES if c.code == "dependency-cycle")
    code, out, err = run(capsys, "graph", *case.files)
    assert code == 1
    assert "dependency cycle: a -> b -> a" in err
    assert out == ""


SWARM_WITH_CONTAINER_NAME = """\
name: scv
engine: swarm
services:
  web:
    image: busybox:1
    container_name: web
"""


@pytest.mark.parametrize("how", ["stack says engine: swarm", "--engine swarm"])
def test_validate_refuses_what_plan_refuses_on_swarm(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, how: str
) -> None:
    """Issue 17, defect 3: a swarm stack with container_name passed validate and failed
    plan. validate runs the same pipeline (the engine's rules and desired state) now."""
    text = SWARM_WITH_CONTAINER_NAME
    args: list[str | Path] = ["validate"]
    if how == "--engine swarm":
        text = text.replace("engine: swarm\n", "")
        args += ["--engine", "swarm"]
    stack = tmp_path / "scv.stack.yaml"
    stack.write_text(text)
    code, out, _err = run(capsys, *args, stack)
    assert code == 1
    assert "container_name" in out and "swarm" in out.lower()
    # and without swarm, the same file is valid on one host
    if how == "--engine swarm":
        assert run(capsys, "validate", stack)[0] == 0


def test_validate_reads_env_files_as_plan_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An env_file that cannot be read was only found by plan; validate finds it too."""
    stack = tmp_path / "sce.stack.yaml"
    stack.write_text(
        "name: sce\nservices:\n  web:\n    image: busybox:1\n    env_file: [app.env]\n"
    )
    (tmp_path / "app.env").write_bytes(b"A=\xff\xfe\n")
    code, out, _err = run(capsys, "validate", stack)
    assert code == 1, out
    assert "app.env" in out
