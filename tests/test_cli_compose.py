"""``-f/--file``, ``--profile``, ``COMPOSE_PROFILES`` and ``COMPOSE_PROJECT_NAME`` on the
command line, end to end (validate, graph and import: no daemon needed)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import stackctl.cli.graph_cmd
import stackctl.cli.import_cmd  # noqa: F401  (registers `import`)
from stackctl.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    write(
        folder / "compose.yaml",
        """
        services:
          web:
            image: busybox:1
            environment: {MODE: base}
          debug:
            image: busybox:1
            profiles: [debug]
        """,
    )
    write(folder / "prod.yaml", "services:\n  web:\n    environment: {MODE: prod}\n")
    return folder


def stacks_of(out: str) -> list[dict[str, object]]:
    doc = json.loads(out)
    assert isinstance(doc["stacks"], list)
    return doc["stacks"]


def test_file_option_merges_in_order(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(project / "bad.yaml", "services:\n  web:\n    restart: sometimes\n")
    code, out, _ = run(
        capsys,
        "validate",
        "-f",
        project / "compose.yaml",
        "--file",
        project / "prod.yaml",
        "-f",
        bad,
    )
    assert code == 1
    assert f"error: {bad}:3: services.web.restart" in out
    code, out, _ = run(
        capsys, "validate", "--json", "-f", project / "compose.yaml", "-f", project / "prod.yaml"
    )
    assert code == 0, out
    [stack] = stacks_of(out)
    assert stack["name"] == "shop"


def test_profile_option_and_env(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out, _ = run(capsys, "graph", project)
    assert "debug" not in out
    _, out, _ = run(capsys, "graph", project, "--profile", "debug")
    assert "debug" in out
    monkeypatch.setenv("COMPOSE_PROFILES", "debug")
    _, out, _ = run(capsys, "graph", project)
    assert "debug" in out


def test_project_name_from_dotenv(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / ".env", "COMPOSE_PROJECT_NAME=storefront\n")
    code, out, _ = run(capsys, "validate", "--json", project)
    assert code == 0, out
    assert [s["name"] for s in stacks_of(out)] == ["storefront"]


def test_no_path_reads_the_current_folder(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    code, out, _ = run(capsys, "validate", "--json")
    assert code == 0, out
    assert [s["name"] for s in stacks_of(out)] == ["shop"]


def test_missing_file_is_a_clear_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "-f", project / "nothere.yaml")
    assert code == 1
    assert f"error: {project / 'nothere.yaml'}: no such compose file" in out


def test_import_refuses_what_validate_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "app" / "compose.yaml",
        """
        services:
          web:
            image: busybox:1
            depends_on: [ghost]
        """,
    )
    code, vout, _ = run(capsys, "validate", path)
    assert code == 1
    code, out, err = run(capsys, "import", path)
    assert code == 1
    assert out == ""
    assert f"{path}:4" in err and "ghost" in err
    assert "ghost" in vout


def test_import_merges_files_and_enables_profiles(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "import",
        "-f",
        project / "compose.yaml",
        "-f",
        project / "prod.yaml",
        "--profile",
        "debug",
    )
    assert code == 0
    assert '"MODE": "prod"' in out and '"debug"' in out
