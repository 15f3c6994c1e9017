"""Variable interpolation with Compose's rules, and Compose's ``.env`` files.

Every string value of a YAML/JSON/compose stack (never a key), and every string value of a
Python stack except :class:`~stackctl.model.Secret` values, is interpolated:

=====================  ==========================================================
``$VAR``, ``${VAR}``   the value; an unset variable becomes ``""`` (with a warning)
``${VAR:-default}``    ``default`` if VAR is unset or empty
``${VAR-default}``     ``default`` if VAR is unset
``${VAR:?message}``    an error saying ``message`` if VAR is unset or empty
``${VAR?message}``     an error saying ``message`` if VAR is unset
``${VAR:+alt}``        ``alt`` if VAR is set and not empty, else ``""``
``${VAR+alt}``         ``alt`` if VAR is set, else ``""``
``$$``                 a literal ``$`` (so a literal dollar is always written ``$$``)
=====================  ==========================================================

Defaults and messages may themselves hold references (``${A:-${B}}``). A ``$`` followed by
anything else is an error, as in Compose. Values come from the process environment, then
from the ``.env`` file beside the stack (the process environment wins).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackctl.secrets import looks_secret

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")

Lookup = Callable[[str], str | None]
PathT = tuple[str | int, ...]


class InterpolationError(ValueError):
    """A template that cannot be expanded: a required variable is unset, or bad syntax."""

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.variable = variable


@dataclass
class _Expander:
    lookup: Lookup
    check_only: bool = False
    unset: list[str] = field(default_factory=list)

    def expand(self, text: str) -> str:
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c != "$":
                out.append(c)
                i += 1
                continue
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt == "{":
                end = _closing_brace(text, i + 2)
                if end < 0:
                    raise InterpolationError(
                        f"unclosed '${{' in {text!r}; close it with '}}' or write '$$' "
                        "for a literal dollar sign"
                    )
                out.append(self._braced(text[i + 2 : end], text))
                i = end + 1
            else:
                m = _NAME.match(text, i + 1)
                if not m:
                    raise InterpolationError(
                        f"invalid '$' in {text!r}; write '$$' for a literal dollar sign"
                    )
                out.append(self._value(m.group(0)))
                i = m.end()
        return "".join(out)

    def _value(self, name: str) -> str:
        if self.check_only:
            return ""
        value = self.lookup(name)
        if value is None:
            self.unset.append(name)
            return ""
        return value

    def _braced(self, body: str, whole: str) -> str:
        m = _NAME.match(body)
        if not m:
            raise InterpolationError(
                f"invalid variable reference '${{{body}}}' in {whole!r}; "
                "use ${NAME}, ${NAME:-default} or ${NAME:?message}"
            )
        name, rest = m.group(0), body[m.end() :]
        if not rest:
            return self._value(name)
        op = next((o for o in _OPERATORS if rest.startswith(o)), None)
        if op is None:
            raise InterpolationError(
                f"invalid variable reference '${{{body}}}' in {whole!r}; after the name use "
                ":-, -, :?, ?, :+ or +"
            )
        arg = rest[len(op) :]
        if self.check_only:
            self.expand(arg)
            return ""
        value = self.lookup(name)
        is_set = value is not None
        non_empty = bool(value)
        if op in (":-", "-"):
            use_default = not non_empty if op == ":-" else not is_set
            return self.expand(arg) if use_default else (value or "")
        if op in (":?", "?"):
            missing = not non_empty if op == ":?" else not is_set
            if missing:
                said = self.expand(arg).strip()
                raise InterpolationError(
                    f"{name} is required" + (f": {said}" if said else ""), variable=name
                )
            return value or ""
        use_alt = non_empty if op == ":+" else is_set
        return self.expand(arg) if use_alt else ""


def _closing_brace(text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def interpolate(text: str, lookup: Lookup) -> str:
    """Expand one string. Raises :class:`InterpolationError`; ignores unset plain references."""
    return _Expander(lookup).expand(text)


def escape(text: str) -> str:
    """The inverse of interpolation for a literal string: ``$`` -> ``$$``."""
    return text.replace("$", "$$")


def has_template(text: str) -> bool:
    return "$" in text


_REFERENCE = re.compile(r"\$\$|\$\{?([_A-Za-z][_A-Za-z0-9]*)")


def variables_in(text: str) -> list[str]:
    """The variables a template refers to, in defaults and messages too (``$$`` is none)."""
    return [m.group(1) for m in _REFERENCE.finditer(text) if m.group(1)]


def fills_secret(key: str, template: Any) -> bool:
    """Whether an environment value is loaded as a Secret: its template reads a variable
    whose name says secret while the key does not (``AUTH: "Bearer ${API_TOKEN}"``), so
    plans, JSON and labels show a digest, never the value. A key that says secret
    (``API_TOKEN: ${API_TOKEN}``) is hidden by its name already (secrets.looks_secret).
    """
    if not isinstance(template, str) or looks_secret(key):
        return False
    return any(looks_secret(n) for n in variables_in(template))


# --------------------------------------------------------------------------- data trees


@dataclass
class TreeProblem:
    path: PathT
    message: str
    variable: str | None = None


@dataclass
class TreeResult:
    data: Any
    errors: list[TreeProblem] = field(default_factory=list)
    unset: list[TreeProblem] = field(default_factory=list)


def interpolate_tree(
    data: Any,
    lookup: Lookup,
    *,
    keep: Callable[[PathT], bool] | None = None,
    skip: Callable[[PathT], bool] | None = None,
) -> TreeResult:
    """Interpolate every string value (not keys) of nested dicts and lists.

    ``keep(path)`` true: the template is only checked for syntax and kept as written (used
    by ``stackctl import`` so that ``${PASSWORD:?...}`` survives into the Python source).
    ``skip(path)`` true: the subtree is left alone entirely (secret values in Python).
    """
    result = TreeResult(None)

    def walk(node: Any, path: PathT) -> Any:
        if skip is not None and skip(path):
            return node
        # Scalars before the Mapping check: an ABC check on every number and flag of a
        # large stack costs more than the rest of the walk.
        if isinstance(node, str):
            if "$" not in node:
                return node
        elif node is None or isinstance(node, int | float):  # bool is an int
            return node
        elif isinstance(node, dict | Mapping):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        elif isinstance(node, list | tuple):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        else:
            return node
        expander = _Expander(lookup, check_only=keep is not None and keep(path))
        try:
            value = expander.expand(node)
        except InterpolationError as e:
            result.errors.append(TreeProblem(path, e.message, e.variable))
            return node
        for name in dict.fromkeys(expander.unset):
            result.unset.append(
                TreeProblem(path, f"{name} is not set; using an empty string", name)
            )
        return node if expander.check_only else value

    result.data = walk(data, ())
    return result


# --------------------------------------------------------------------------- .env files


@dataclass
class DotenvProblem:
    line: int
    message: str


@dataclass
class Variables:
    """Where values come from: the process environment, then a ``.env`` file."""

    process: Mapping[str, str]
    dotenv: dict[str, str] = field(default_factory=dict)
    dotenv_path: Path | None = None

    secret_values: set[str] = field(default_factory=set)  # filled by lookups, see below

    def lookup(self, name: str) -> str | None:
        value = self.process[name] if name in self.process else self.dotenv.get(name)
        if value and looks_secret(name):
            self.secret_values.add(value)  # hidden wherever it lands (desired.py)
        return value

    def where_to_set(self, name: str) -> str:
        """A hint for an unset variable: where a person can set it."""
        if self.dotenv_path is not None:
            return f"export {name}=... or add {name}=... to {self.dotenv_path}"
        return f"export {name}=... or add it to a .env file beside the stack"


def variables_for(
    folder: Path, process: Mapping[str, str] | None = None
) -> tuple[Variables, list[DotenvProblem]]:
    """The variables for a stack in ``folder``: process environment, then ``folder/.env``."""
    env = Variables(dict(os.environ) if process is None else process)
    dotenv = folder / ".env"
    env.dotenv_path = dotenv
    if not dotenv.is_file():
        return env, []
    try:
        text = dotenv.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return env, [DotenvProblem(1, f"cannot read {dotenv}: {e}")]
    values, problems = parse_dotenv(text, env.process)
    env.dotenv = values
    return env, problems


_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$$"}


def parse_dotenv(
    text: str, process: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[DotenvProblem]]:
    """Parse a ``.env`` file as Compose does.

    ``KEY=VALUE`` lines, ``# comments``, an optional ``export`` prefix; single-quoted values
    are literal; double-quoted values know ``\\n \\t \\" \\\\`` escapes and may span lines;
    unquoted values end at `` #``. Unquoted and double-quoted values are interpolated with
    the process environment and the lines above.
    """
    values: dict[str, str] = {}
    problems: list[DotenvProblem] = []
    proc = process or {}

    def lookup(name: str) -> str | None:
        return proc[name] if name in proc else values.get(name)

    lines = text.splitlines()
    i = 0
    while i < len(lines):
        lineno = i + 1
        raw = lines[i].strip()
        i += 1
        if not raw or raw.startswith("#"):
            continue
        if raw.startswith("export ") or raw.startswith("export\t"):
            raw = raw[7:].lstrip()
        m = _KEY.match(raw)
        rest = raw[m.end() :].lstrip() if m else ""
        if not m or not rest.startswith("="):
            # not echoed: the line may hold a secret value
            problems.append(DotenvProblem(lineno, "expected KEY=VALUE"))
            continue
        key, value = m.group(0), rest[1:].lstrip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            body = value[1:]
            while _closing_quote(body, quote) < 0 and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            end = _closing_quote(body, quote)
            if end < 0:
                problems.append(DotenvProblem(lineno, f"unclosed {quote} quote in {key}"))
                continue
            body = body[:end]
            if "\0" in body:  # no environment can hold one
                problems.append(DotenvProblem(lineno, f"{key} holds a NUL character"))
                continue
            if quote == "'":
                values[key] = body
                continue
            value = re.sub(r"\\(.)", lambda mm: _ESCAPES.get(mm.group(1), mm.group(0)), body)
        else:
            value = re.split(r"\s#", value, maxsplit=1)[0].strip()
            if "\0" in value:  # no environment can hold one
                problems.append(DotenvProblem(lineno, f"{key} holds a NUL character"))
                continue
        try:
            values[key] = interpolate(value, lookup)
        except InterpolationError as e:
            problems.append(DotenvProblem(lineno, e.message))
    return values, problems


def _closing_quote(body: str, quote: str) -> int:
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return -1


_TEMPLATE_FIELDS = frozenset({"environment", "labels", "command", "entrypoint"})


def is_template_position(path: Sequence[str | int]) -> bool:
    """Where ``stackctl import`` keeps ``${VAR}`` templates as written instead of expanding.

    Only free-text values qualify: environment, labels, command, entrypoint and the health
    check test of a service. Everything else (images, ports, paths) is parsed when the
    model is built, so it is expanded at import time.
    """
    if len(path) < 4 or path[0] != "services":
        return False
    return path[2] in _TEMPLATE_FIELDS or tuple(path[2:4]) == ("healthcheck", "test")
