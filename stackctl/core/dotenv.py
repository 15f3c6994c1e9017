"""The one dotenv parser: the ``.env`` beside a stack and every service's ``env_file``.

It follows compose-go's ``dotenv`` package (what Compose v2 runs for both), line for line in
behaviour:

- ``KEY=VALUE`` or ``KEY: VALUE``; spaces around the separator are ignored; an optional
  ``export`` prefix; blank lines and ``#`` comment lines are skipped; a UTF-8 byte order
  mark is skipped.
- A key is letters, digits (also first), ``_ . - [ ]``.
- A bare ``KEY`` line takes KEY's value from the lookup (the process environment), and is
  left out when that has none.
- Unquoted values run to the end of the line, less an inline comment (whitespace then
  ``#``: ``a#b`` is not one) and trailing whitespace; ``${VAR}`` references are expanded.
- ``'single quoted'`` values are literal (only ``\\'`` is unescaped) and may span lines.
- ``"double quoted"`` values may span lines, know the escapes ``\\a \\b \\f \\n \\r \\t \\v
  \\\\ \\" \\$`` and ``\\0NNN`` (octal), and are then expanded (``\\$`` stays a ``$``).
- References see the lookup first, then the keys above them in the same file.

Where stackctl deliberately differs (README, "Interpolation and .env files"): a tab before
``#`` also starts an inline comment; text after a closing quote other than a comment, an
empty key, a key with whitespace inside and a NUL character are errors; a bare ``KEY`` on
the last line without a newline is a bare key (compose-go reads it as a value of the key
``""``). Errors say the file and line, raise :class:`DotenvError`, and never hold a value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stackctl.core.interpolate import InterpolationError, Lookup, interpolate
from stackctl.core.redact import remember
from stackctl.errors import StackctlError
from stackctl.secrets import looks_secret

_BOM = "\ufeff"
_EXPORT = re.compile(r"export[^\S\n]+")
_SPACE = frozenset("\t\v\f\r \x85\xa0")  # compose-go's isSpace: whitespace but newline
_KEY_PUNCTUATION = frozenset("_.-[]")
_INLINE_COMMENT = re.compile(r"[ \t]#")
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})')
_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "\\": "\\",
    "$": "$$",  # kept for the interpolation that follows: "\$X" -> "$$X" -> "$X"
}


class DotenvError(StackctlError):
    """A dotenv file that cannot be read as one: where (file and line) and what.

    ``problem`` is the bare message; neither it nor ``str(error)`` ever holds a value.
    """

    def __init__(
        self, problem: str, line: int, file: str | None = None, hint: str | None = None
    ) -> None:
        where = f"{file}:{line}" if file else f"line {line}"
        super().__init__(f"{where}: {problem}", hint)
        self.problem = problem
        self.line = line
        self.file = file


def parse_dotenv(
    text: str, lookup: Lookup | None = None, *, file: str | None = None
) -> dict[str, str]:
    """The variables of a dotenv file's text, in file order. Raises :class:`DotenvError`.

    ``lookup`` answers bare ``KEY`` lines and ``${VAR}`` references (before the keys above
    them); ``file`` only names the file in errors.
    """
    return _Parser(text, lookup, file).parse()


def read_dotenv_file(
    path: Path, lookup: Lookup | None = None, *, display: str | None = None
) -> dict[str, str]:
    """Read and parse a dotenv file. Raises :class:`DotenvError`, or ``OSError``."""
    file = display or str(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DotenvError(
            "the file is not UTF-8 text", line, file, hint="save it as UTF-8"
        ) from None
    return parse_dotenv(text, lookup, file=file)


class _Parser:
    def __init__(self, text: str, lookup: Lookup | None, file: str | None) -> None:
        self.text = text[1:] if text.startswith(_BOM) else text
        self.lookup = lookup
        self.file = file
        self.values: dict[str, str] = {}

    def error(self, problem: str, pos: int, hint: str | None = None) -> DotenvError:
        return DotenvError(problem, self.text.count("\n", 0, pos) + 1, self.file, hint)

    def resolve(self, name: str) -> str | None:
        value = self.lookup(name) if self.lookup is not None else None
        return self.values.get(name) if value is None else value

    def parse(self) -> dict[str, str]:
        pos = self.statement_start(0)
        while pos < len(self.text):
            pos = self.statement(pos)
            pos = self.statement_start(pos)
        return self.values

    def statement_start(self, pos: int) -> int:
        """Skip whitespace and comment lines."""
        text, n = self.text, len(self.text)
        while pos < n:
            if text[pos].isspace():
                pos += 1
            elif text[pos] == "#":
                end = text.find("\n", pos)
                pos = n if end < 0 else end
            else:
                break
        return pos

    def statement(self, pos: int) -> int:
        """Parse the statement at ``pos``; return where the next may start."""
        text, n = self.text, len(self.text)
        m = _EXPORT.match(text, pos)
        if m:
            pos = m.end()
        start, i, sep = pos, pos, ""
        while i < n:
            c = text[i]
            if c in "=:\n":
                sep = c
                break
            if c in _SPACE or c in _KEY_PUNCTUATION or c.isalpha() or c.isnumeric():
                i += 1
                continue
            raise self.error(
                f"unexpected character {c!r} in a variable name",
                i,
                "a line is KEY=VALUE; a name holds letters, digits, '_', '.', '-', '[' and ']'",
            )
        key = text[start:i].rstrip()
        if not key:
            raise self.error("the variable name is missing before the '='", start)
        if any(c.isspace() for c in key):
            raise self.error(
                "a variable name cannot contain whitespace", start, "quote the value, not the name"
            )
        if sep in ("", "\n"):  # a bare KEY: inherited from the lookup, if it has one
            value = self.resolve(key)
            if value is not None:
                self.values[key] = self.checked(value, key, start)
            return i + 1
        pos = i + 1
        while pos < n and text[pos] in _SPACE:
            pos += 1
        if text[pos : pos + 1] in ("'", '"'):
            value, pos = self.quoted(key, pos)
        else:
            end = text.find("\n", pos)
            end = n if end < 0 else end
            raw = _INLINE_COMMENT.split(text[pos:end], maxsplit=1)[0].rstrip()
            value = self.expanded(raw, key, pos)
            pos = end
        self.values[key] = self.checked(value, key, start)
        return pos

    def quoted(self, key: str, pos: int) -> tuple[str, int]:
        text, n = self.text, len(self.text)
        quote = text[pos]
        chars: list[str] = []
        escaped = False
        i = pos + 1
        while i < n:
            c = text[i]
            i += 1
            if c != quote:
                if not escaped and c == "\\":
                    escaped = True
                    continue
                if escaped:
                    escaped = False
                    chars.append("\\")
                chars.append(c)
                continue
            if escaped:  # \" in "...", \' in '...'
                escaped = False
                chars.append(c)
                continue
            break
        else:
            raise self.error(
                f"{key}: the value's opening {quote} is never closed",
                pos,
                f"end the value with {quote}, or escape a {quote} inside it as \\{quote}",
            )
        self.after_quote(key, i)
        value = "".join(chars)
        if quote == '"':
            value = self.expanded(_ESCAPE.sub(_unescape, value), key, pos)
        return value, i

    def after_quote(self, key: str, pos: int) -> None:
        """Only whitespace or a comment may follow a closing quote on its line."""
        text = self.text
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos < len(text) and text[pos] not in "#\n":
            raise self.error(
                f"{key}: unexpected text after the closing quote",
                pos,
                "put the whole value inside the quotes, or a '#' comment after them",
            )

    def expanded(self, value: str, key: str, pos: int) -> str:
        try:
            return interpolate(value, self.resolve)
        except InterpolationError as e:
            raise self.error(f"{key}: {e.message}", pos) from None

    def checked(self, value: str, key: str, pos: int) -> str:
        if "\0" in value:  # no environment can hold one
            raise self.error(f"{key} holds a NUL character", pos)
        return value


def _unescape(m: re.Match[str]) -> str:
    match = m.group(0)
    if match[1] != "0":
        return _ESCAPES[match[1]]
    digits = match[2:]  # \0NNN: exactly three octal digits, at most 0377
    if len(digits) == 3 and all(d in "01234567" for d in digits) and int(digits, 8) <= 0o377:
        return chr(int(digits, 8))
    return match


# --------------------------------------------------------------------------- variables


@dataclass
class DotenvProblem:
    line: int
    message: str
    hint: str | None = None


@dataclass
class Variables:
    """Where values come from: the process environment, then the ``.env`` beside the stack."""

    process: Mapping[str, str]
    dotenv: dict[str, str] = field(default_factory=dict)
    dotenv_path: Path | None = None

    secret_values: set[str] = field(default_factory=set)  # filled by lookups, see below

    def lookup(self, name: str) -> str | None:
        value = self.process[name] if name in self.process else self.dotenv.get(name)
        if value and looks_secret(name):
            self.secret_values.add(value)  # hidden wherever it lands (desired.py)
            remember(value)  # and from every message of this run
        return value

    def where_to_set(self, name: str) -> str:
        """A hint for an unset variable: where a person can set it."""
        if self.dotenv_path is not None:
            return f"export {name}=... or add {name}=... to {self.dotenv_path}"
        return f"export {name}=... or add it to a .env file beside the stack"


def variables_for(
    folder: Path, process: Mapping[str, str] | None = None
) -> tuple[Variables, list[DotenvProblem]]:
    """The variables for a stack in ``folder``: process environment, then ``folder/.env``.

    The ``.env`` file's own references and bare keys see the process environment.
    """
    env = Variables(dict(os.environ) if process is None else process)
    dotenv = folder / ".env"
    env.dotenv_path = dotenv
    if not dotenv.is_file():
        return env, []
    try:
        env.dotenv = read_dotenv_file(dotenv, env.process.get)
        remember(*(v for k, v in env.dotenv.items() if looks_secret(k)))
    except DotenvError as e:
        return env, [DotenvProblem(e.line, e.problem, e.hint)]
    except OSError as e:
        return env, [DotenvProblem(1, f"cannot read {dotenv}: {e.strerror}")]
    return env, []


def chain(*lookups: Callable[[str], str | None]) -> Lookup:
    """A lookup asking each of ``lookups`` in turn; the first that knows the name answers."""

    def lookup(name: str) -> str | None:
        for each in lookups:
            value = each(name)
            if value is not None:
                return value
        return None

    return lookup
