"""Modules stackctl defers (stackctl/engine/lazy.py): imported on first use, not before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stackctl.engine.lazy import Attributes, lazy_module


def test_a_deferred_module_loads_on_its_first_attribute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sct_heavy.py").write_text("LOADS = []\nLOADS.append(1)\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "sct_heavy", raising=False)
    lazy_module("sct_heavy")
    import sct_heavy  # an import statement does not load it

    assert type(sys.modules["sct_heavy"]).__name__ == "_Deferred"
    assert sct_heavy.VALUE == 42  # the first attribute does
    assert type(sys.modules["sct_heavy"]).__name__ == "module"
    assert sys.modules["sct_heavy"].LOADS == [1]  # once
    assert sct_heavy.LOADS == [1]  # the stand-in keeps answering from the real module
    monkeypatch.delitem(sys.modules, "sct_heavy")


def test_a_missing_module_is_left_to_fail_where_it_is_imported() -> None:
    lazy_module("sct_no_such_module")
    assert "sct_no_such_module" not in sys.modules
    with pytest.raises(ImportError):
        import sct_no_such_module  # noqa: F401


def test_the_engine_does_not_load_paramiko_until_an_ssh_daemon_needs_it() -> None:
    code = (
        "import sys, stackctl.engine, docker;"
        "print(type(sys.modules['paramiko']).__name__);"
        "import paramiko; paramiko.SSHConfig;"
        "print(type(sys.modules['paramiko']).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["_Deferred", "module"]


def test_attributes_load_their_module_on_the_first_one_and_stand_in_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sct_heavier.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "sct_heavier", raising=False)
    heavier = Attributes("sct_heavier")
    assert "sct_heavier" not in sys.modules
    assert heavier.VALUE == 7
    assert sys.modules["sct_heavier"].VALUE == 7
    monkeypatch.delitem(sys.modules, "sct_heavier")


def test_the_engine_does_not_load_the_sdk_and_its_errors_are_the_sdks_own() -> None:
    """The engine module imports no docker SDK; once something does (a submodule first),
    the exceptions the engine catches are the very classes the SDK raises."""
    code = (
        "import sys, stackctl.engine.docker as engine;"
        "print(sorted({'docker', 'requests'} & set(sys.modules)));"
        "import docker.errors, requests.exceptions;"
        "print(engine.docker_errors.APIError is docker.errors.APIError,"
        " engine.requests_exceptions.Timeout is requests.exceptions.Timeout,"
        " docker.errors is sys.modules['docker'].errors)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["[]", "True True True"]
