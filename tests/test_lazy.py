"""Modules stackctl defers (stackctl/engine/lazy.py): imported on first use, not before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stackctl.engine.lazy import lazy_module


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
