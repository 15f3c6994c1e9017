"""Keep a Python stack from ending or replacing the stackctl process while it runs.

``sys.exit()`` raises SystemExit, which the loader already turns into a diagnostic. The
calls that end the process without unwinding it (``os._exit``, ``os.abort``, a signal to
itself, ``exec``, a ``fork`` whose child would go on as a second stackctl, a libc ``exit``
reached through ctypes) would make ``validate`` exit with the stack's own code and no
output, or never return. While a stack runs (:func:`process_guard`), each of them raises
:class:`StackEndedProcess` at the user's own line instead:

- ``os._exit``, ``os.abort`` and ``signal.raise_signal`` (no audit event) are replaced;
- an audit hook (:func:`sys.addaudithook`, installed once, idle outside a stack) refuses
  ``os.exec``, ``os.fork``, ``os.forkpty``, ``os.kill``/``os.killpg`` of this process or
  its group, ``signal.pthread_kill`` and ctypes' look-up of libc's process-ending symbols.

Not covered: native code that ends the process without ctypes' look-ups (an extension
module, a pointer fault), and threads or ``atexit`` handlers the stack leaves running
after it returns.
"""

from __future__ import annotations

import os
import posix
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

_ENDING_SYMBOLS = frozenset(
    {
        "exit", "_exit", "_Exit", "quick_exit", "abort", "kill", "killpg", "raise",
        "tgkill", "tkill", "pthread_kill", "syscall", "execv", "execve", "execvp",
        "execvpe", "execl", "execle", "execlp", "fexecve", "fork", "vfork", "clone",
        "Py_Exit", "Py_FatalError", "_Py_FatalErrorFunc", "Py_Finalize", "Py_FinalizeEx",
    }
)  # fmt: skip


class StackEndedProcess(BaseException):
    """A stack tried to end or replace the process; ``how`` says with what."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


_state = threading.local()
_hook_lock = threading.Lock()
_hook_installed = False


def _active() -> bool:
    return getattr(_state, "depth", 0) > 0


def _own(pid: int) -> bool:
    """``pid`` (as os.kill takes it) reaches this process."""
    return pid in (0, -1, os.getpid()) or pid == -os.getpgrp()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _active():
        return
    if event in ("os.exec", "os.fork", "os.forkpty"):
        raise StackEndedProcess(event.removeprefix("os.") + "()")
    if event == "os.kill" and len(args) == 2 and args[1] != 0 and _own(args[0]):
        raise StackEndedProcess(f"os.kill(..., {args[1]})")
    if event == "os.killpg" and len(args) == 2 and args[1] != 0 and args[0] == os.getpgrp():
        raise StackEndedProcess(f"os.killpg(..., {args[1]})")
    if event == "signal.pthread_kill" and len(args) == 2 and args[1] != 0:
        raise StackEndedProcess(f"signal.pthread_kill(..., {args[1]})")
    if event == "ctypes.dlsym" and len(args) == 2:
        name = args[1].decode() if isinstance(args[1], bytes) else str(args[1])
        if name in _ENDING_SYMBOLS:
            raise StackEndedProcess(f"ctypes: {name}()")


def _install_hook() -> None:
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True


def _refuse(name: str) -> Callable[..., NoReturn]:
    def refused(*args: Any, **_kwargs: Any) -> NoReturn:
        shown = ", ".join(repr(a) for a in args[:1])
        raise StackEndedProcess(f"{name}({shown})")

    refused.__name__ = name.rpartition(".")[2]
    return refused


_REPLACED: tuple[tuple[Any, str, str], ...] = (
    (os, "_exit", "os._exit"),
    (posix, "_exit", "os._exit"),
    (os, "abort", "os.abort"),
    (posix, "abort", "os.abort"),
    (signal, "raise_signal", "signal.raise_signal"),
)


@contextmanager
def process_guard() -> Iterator[None]:
    """While the block runs (a stack's code), a call that would end or replace the process
    raises StackEndedProcess instead."""
    _install_hook()
    saved = [(mod, attr, getattr(mod, attr)) for mod, attr, _ in _REPLACED]
    for mod, attr, name in _REPLACED:
        setattr(mod, attr, _refuse(name))
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
        for mod, attr, original in saved:
            setattr(mod, attr, original)
