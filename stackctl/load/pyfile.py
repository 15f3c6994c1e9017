"""Load a stack written in Python: a ``.py`` file, or a package folder with ``__init__.py``.

The code runs in a fresh module namespace with its folder on ``sys.path`` for the
duration (helper modules beside it are imported fresh for each stack, then forgotten). It
must define ``stack`` (a Stack) or ``stacks`` (a list of Stack). Any exception it raises
becomes a diagnostic at the user's own file and line, never a traceback.

String values are then interpolated as in YAML (``${VAR}``, ``.env`` beside the file), so a
literal ``$`` is written ``$$``, as in Compose. Secret values are not interpolated: they are
taken literally (use ``Secret.env("NAME")`` to read the environment).

While the code runs, a call that would end or replace the process (``os._exit``, a signal
to itself, ``exec``, ``fork``) raises instead (:mod:`stackctl.load.guard`), so it too is a
located error rather than an exit with the stack's own code and no output.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import runpy
import sys
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from stackctl.core.dotenv import Variables, variables_for
from stackctl.core.interpolate import fills_secret, interpolate_tree
from stackctl.errors import Diagnostic
from stackctl.load.guard import StackEndedProcess, process_guard
from stackctl.load.locate import pydantic_diagnostics
from stackctl.load.outcome import Outcome, interpolation_diagnostics, nearest_line
from stackctl.model import Stack

_KEYED_CALLS = {
    "Service": "services",
    "Network": "networks",
    "Volume": "volumes",
    "SecretSource": "secrets",
    "ConfigSource": "configs",
}


def load_python(path: Path, *, display: str | None = None) -> Outcome:
    """Run a Python stack file or package folder and collect its stacks."""
    file_path = path / "__init__.py" if path.is_dir() else path
    file = display or str(file_path)
    folder = file_path.parent
    out = Outcome()
    variables, dotenv_problems = variables_for(folder)
    for dp in dotenv_problems:
        out.diagnostics.append(
            Diagnostic("error", dp.message, str(variables.dotenv_path), dp.line, hint=dp.hint)
        )
    try:
        namespace = _execute(path, file_path, folder, variables.dotenv)
    except BaseException as e:  # a user's stack must never crash stackctl
        if isinstance(e, KeyboardInterrupt):
            raise
        out.diagnostics += _exception_diagnostics(e, file_path, folder, file)
        return out

    stacks = _collect(namespace, file, out)
    if out.failed:
        return out
    lines = _LineMap(file_path)  # read only when a message needs a line
    for stack in stacks:
        final = _interpolate(stack, variables, file, lines, out)
        if final is not None:
            out.stacks.append(final.with_origin(file_path, lines, variables.secret_values))
    if out.failed:
        out.stacks.clear()
    return out


@contextmanager
def _isolated(folder: Path, dotenv: Mapping[str, str]) -> Iterator[None]:
    """The stack's folder on sys.path; modules it imports from there forgotten afterwards.

    ``.env`` values the process environment lacks are visible in ``os.environ`` meanwhile,
    so ``Secret.env("NAME")`` reads ``.env`` too (the process environment still wins).
    """
    before = set(sys.modules)
    added = {k: v for k, v in dotenv.items() if k not in os.environ}
    os.environ.update(added)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
        with suppress(ValueError):
            sys.path.remove(str(folder))
        root = folder.resolve()
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules.get(name), "__file__", None)
            mine = origin is not None and Path(origin).resolve().is_relative_to(root)
            if mine or name.startswith("stackctl_stack_"):
                sys.modules.pop(name, None)


def _execute(
    path: Path, file_path: Path, folder: Path, dotenv: Mapping[str, str]
) -> Mapping[str, Any]:
    with _isolated(folder, dotenv), process_guard():
        if not path.is_dir():
            return runpy.run_path(str(file_path), run_name=f"stackctl_stack_{path.stem}")
        name = f"stackctl_stack_{uuid.uuid4().hex}"
        spec = importlib.util.spec_from_file_location(
            name, file_path, submodule_search_locations=[str(folder)]
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {file_path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return vars(module)


def _user_line(tb: TracebackType | None, folder: Path) -> tuple[str | None, int | None]:
    """The deepest traceback frame in the user's folder: (file, line)."""
    found: tuple[str | None, int | None] = (None, None)
    root = folder.resolve()
    for frame, lineno in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        try:
            inside = Path(name).resolve().is_relative_to(root)
        except (OSError, ValueError):
            inside = False
        if inside:
            found = (name, lineno)
    return found


def _exception_diagnostics(
    e: BaseException, file_path: Path, folder: Path, file: str
) -> list[Diagnostic]:
    if isinstance(e, SyntaxError):
        where = e.filename or file
        shown = file if where and Path(where).resolve() == file_path.resolve() else where
        return [
            Diagnostic(
                "error",
                f"Python syntax error: {e.msg}",
                shown,
                e.lineno or _nul_line(Path(where)),
                hint="fix the syntax; `python -m py_compile FILE` shows the same error",
            )
        ]
    user_file, line = _user_line(e.__traceback__, folder)
    shown = file
    if user_file is not None and Path(user_file).resolve() != file_path.resolve():
        shown = user_file
    if isinstance(e, ValidationError):
        where = f"{e.title}(...)"
        return [
            Diagnostic(d.severity, f"{where}: {d.message}", shown, line, d.path, d.hint)
            for d in pydantic_diagnostics(
                e, data=None, file=shown, line_of=lambda _: line, root=_model(e.title), line=line
            )
        ]
    if isinstance(e, SystemExit):
        message = f"the stack called exit({e.code})"
    elif isinstance(e, StackEndedProcess):
        return [
            Diagnostic(
                "error",
                f"the stack tried to end the process ({e.how}) instead of defining `stack`",
                shown,
                line,
                hint="a stack file only describes stacks: remove the call",
            )
        ]
    else:
        message = f"{type(e).__name__}: {e}"
    return [Diagnostic("error", message, shown, line)]


def _nul_line(path: Path) -> int | None:
    """Where the first NUL byte is (Python 3.11 refuses one without saying where)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    at = data.find(b"\0")
    return data.count(b"\n", 0, at) + 1 if at >= 0 else None


def _model(title: str) -> Any:
    from stackctl import model

    found = getattr(model, title, None)
    return found if isinstance(found, type) else Stack


def _collect(namespace: Mapping[str, Any], file: str, out: Outcome) -> list[Stack]:
    hint = 'end the file with `stack = Stack("name", services=[...])`'
    if "stack" in namespace:
        value = namespace["stack"]
        if isinstance(value, Stack):
            return [value]
        out.diagnostics.append(
            Diagnostic(
                "error", f"`stack` is a {type(value).__name__}, not a Stack", file, hint=hint
            )
        )
        return []
    if "stacks" in namespace:
        value = namespace["stacks"]
        if isinstance(value, list | tuple) and all(isinstance(s, Stack) for s in value):
            if value:
                return list(value)
            out.diagnostics.append(Diagnostic("error", "`stacks` is empty", file, hint=hint))
            return []
        out.diagnostics.append(
            Diagnostic("error", "`stacks` must be a list of Stack objects", file, hint=hint)
        )
        return []
    out.diagnostics.append(
        Diagnostic(
            "error",
            "defines no `stack` (nor `stacks`)",
            file,
            hint=hint + "; name helper modules with a leading underscore",
        )
    )
    return []


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


class _LineMap(Mapping[str, int]):
    """The file's line map (see _line_map), parsed on first use: a valid stack never
    needs it, and parsing a large stack file costs as much as the rest of loading it."""

    def __init__(self, file_path: Path) -> None:
        self._file_path = file_path
        self._lines: dict[str, int] | None = None

    def _get(self) -> dict[str, int]:
        if self._lines is None:
            self._lines = _line_map(self._file_path)
        return self._lines

    def __getitem__(self, key: str) -> int:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def _line_map(file_path: Path) -> dict[str, int]:
    """``services.<name>`` (and its keyword arguments) -> line of the ``Service(`` call."""
    try:
        tree = ast.parse(file_path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return {}
    lines: dict[str, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        kind = _call_name(node)
        first = node.args[0] if node.args else None
        if kind == "Stack" and first is not None:
            lines.setdefault("name", node.lineno)
            continue
        section = _KEYED_CALLS.get(kind or "")
        if section is None:
            continue
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        base = f"{section}.{first.value}"
        lines.setdefault(base, node.lineno)
        for kw in node.keywords:
            if kw.arg:
                lines.setdefault(f"{base}.{kw.arg}", kw.value.lineno)
    return lines


def _is_secret(path: tuple[str | int, ...]) -> bool:
    return len(path) == 4 and path[0] == "services" and path[2] == "environment"


def _interpolate(
    stack: Stack, variables: Variables, file: str, lines: Mapping[str, int], out: Outcome
) -> Stack | None:
    """Expand ``${VAR}`` in the stack's string values (dump, expand, validate again)."""
    try:
        if "$" not in stack.model_dump_json():  # the quick look: nothing to expand
            return stack
    except ValueError:
        pass  # a value JSON cannot hold: expand the slow way
    data = stack.model_dump(mode="python", exclude_defaults=True)
    result = interpolate_tree(
        data,
        variables.lookup,
        skip=lambda p: _is_secret(p) and isinstance(_get(data, p), dict),
    )

    def line_of(path: Any) -> int | None:
        return nearest_line(lines, path)

    out.diagnostics += interpolation_diagnostics(result, variables, file, line_of)
    if result.errors:
        return None
    _mark_secrets(data, result.data)
    if result.data == data:
        return stack
    try:
        return Stack.model_validate(result.data)
    except ValidationError as e:
        out.diagnostics += pydantic_diagnostics(
            e, data=result.data, file=file, line_of=line_of, root=Stack
        )
        return None


def _mark_secrets(before: Any, after: Any) -> None:
    """An environment string that read a secret-looking variable becomes a Secret
    (see fills_secret)."""
    for name, svc in (after.get("services") or {}).items():
        env = svc.get("environment") if isinstance(svc, dict) else None
        if not isinstance(env, dict):
            continue
        raw = before["services"][name].get("environment") or {}
        for key, value in env.items():
            if isinstance(value, str) and fills_secret(key, raw.get(key)):
                env[key] = {"value": value}


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data
