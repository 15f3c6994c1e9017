"""A Python stack that ends or replaces the process (not through SystemExit) is a located
error, exit 1: never an exit with the stack's own code and no output.

Each runs as its own ``python -m stackctl`` in a session of its own: were the guard to
fail, ``os._exit(0)`` inside the test process would end pytest with a green code, and a
signal to the process group would reach the test runner.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stackctl.load.guard import StackEndedProcess, process_guard
from tests.fuzz.strategies import PROCESS_ENDINGS

HEAD = "from stackctl import Service, Stack\n"
ENDINGS = [*PROCESS_ENDINGS, "import os\nos.killpg(os.getpgrp(), 9)\n"]


@pytest.mark.parametrize("code", [0, 3])
@pytest.mark.parametrize("body", ENDINGS, ids=[e.splitlines()[-1][:40] for e in ENDINGS])
def test_a_stack_that_ends_the_process_is_a_located_error(
    tmp_path: Path, body: str, code: int
) -> None:
    f = tmp_path / "stack.py"
    f.write_text(HEAD + body.format(code=code))
    lines = (HEAD + body).splitlines()
    line = max(n for n, text in enumerate(lines, 1) if not text.startswith(" "))
    proc = subprocess.run(
        [sys.executable, "-m", "stackctl", "validate", str(f)],
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert f"error: {f}:{line}: the stack tried to end the process" in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_the_guard_is_idle_outside_a_stack() -> None:
    assert os._exit.__name__ == "_exit" and os._exit.__module__ == "posix"
    with process_guard():
        with pytest.raises(StackEndedProcess, match=r"os\._exit"):
            os._exit(0)
        with pytest.raises(StackEndedProcess, match=r"os\.kill"):
            os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), 0)  # signal 0 only asks whether the process exists
    assert os._exit.__module__ == "posix"
    os.kill(os.getpid(), 0)
    subprocess.run(["true"], check=True)  # fork+exec of a child is not the process's end
