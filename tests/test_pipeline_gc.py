"""Loading and validating run with Python's cyclic garbage collector paused (a large
stack makes a few hundred thousand objects and no garbage cycles worth finding), and the
collector is back on afterwards, also after a failure."""

from __future__ import annotations

import gc
import textwrap
from pathlib import Path

import pytest

from stackctl import pipeline
from stackctl.errors import InvalidStackError

STACK = """
import gc
from stackctl import Service, Stack

stack = Stack(
    name="gcprobe",
    services=[Service(name="web", image="busybox", labels={"collector": str(gc.isenabled())})],
)
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stack.py"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.mark.parametrize("run", ["check", "load"])
def test_the_collector_is_paused_while_a_stack_loads_and_on_again_after(
    tmp_path: Path, run: str
) -> None:
    path = _write(tmp_path, STACK)
    assert gc.isenabled()
    stacks = pipeline.check([path]).stacks if run == "check" else pipeline.load([path]).stacks
    assert stacks[0].services["web"].labels["collector"] == "False"
    assert gc.isenabled()


def test_the_collector_is_on_again_after_an_invalid_stack(tmp_path: Path) -> None:
    path = _write(tmp_path, STACK.replace('image="busybox"', 'image=""'))
    with pytest.raises(InvalidStackError):
        pipeline.load([path])
    assert gc.isenabled()
    assert pipeline.check([path]).errors
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off(tmp_path: Path) -> None:
    path = _write(tmp_path, STACK)
    gc.disable()
    try:
        pipeline.check([path])
        assert not gc.isenabled()
    finally:
        gc.enable()
