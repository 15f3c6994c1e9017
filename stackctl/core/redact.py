"""Redaction: one pass, driven by the secret values known at load time, never by position.

Two forms of the same pass:

- :meth:`Secrets.data` for structured data (a unit's canonical config, labels, a network's
  config): a string that holds a secret value is replaced *as a whole* by a keyed digest of
  the whole string (so no context around a match tells what the secret was, and a change
  still shows as a change); a list of strings (a command split into words) is also read
  joined by spaces, so a passphrase with spaces split across words is found.
- :func:`redact_text` for free text that leaves the process (messages, plan text, JSON,
  progress, saved plans, import output): every whitespace-delimited token holding a secret
  value (as written, JSON-escaped or quoted by ``repr``) becomes ``(sensitive value)``.

Values shorter than :data:`MIN_REDACTED` characters would match ordinary text everywhere:
in structured data they are redacted only where a whole string or a whole word equals
them; in free text only where quoted ('x', "x", `x`), as messages quote values (and
pydantic's messages never quote the refused value, see ``load/locate.py``). A short value
inside a longer word, or bare in a daemon's message, is not found.

The values are collected while loading (:func:`remember`, called by the variable lookup,
the dotenv reader, ``Secret`` and the env-file and secret-file readers) into the
:class:`Known` set of the current run, which ``stackctl.cli.main`` opens and uses to filter
stdout and stderr (:class:`RedactingStream`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import secrets as _random
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

MIN_REDACTED = 4  # shorter values: whole strings / whole words only (see the module doc)
MARKER = "(sensitive value)"
DIGEST_KEY_ENV = "STACKCTL_DIGEST_KEY"

# --------------------------------------------------------------------------- digests


def digest(value: str, key: bytes | None) -> str:
    """What a secret value is replaced by in a stored or shown config.

    Keyed (``hmac:`` + 16 hex of HMAC-SHA256 under the stack's digest key): a reader of the
    labels or of a plan cannot test guesses without the key. ``key=None`` gives the old,
    unkeyed form (``sha256:`` + 16 hex), used only to recognise labels written before.
    """
    if key is None:
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]
    return "hmac:" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


_DIGEST = re.compile(r"(sha256:[0-9a-f]{16}|hmac:[0-9a-f]{16})")


def is_digest(value: Any) -> bool:
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "stackctl"


def digest_key(stack: str) -> bytes:
    """The stack's digest key: ``STACKCTL_DIGEST_KEY`` when set (machines that apply one
    stack to one daemon share it), else 32 random bytes kept in
    ``$XDG_STATE_HOME/stackctl/digest-keys/<stack>`` (mode 0600, made on first use)."""
    shared = os.environ.get(DIGEST_KEY_ENV)
    if shared:
        return hmac.new(shared.encode(), stack.encode(), hashlib.sha256).digest()
    folder = state_dir() / "digest-keys"
    path = folder / stack
    with contextlib.suppress(OSError):
        data = path.read_bytes()
        if len(data) >= 32:
            return data[:32]
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = folder / f".{stack}.{os.getpid()}.{_random.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(_random.token_bytes(32))
        try:
            os.link(tmp, path)  # the first writer wins; the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return path.read_bytes()[:32]
    except OSError:
        # No writable state folder: a key only this run knows would replace every unit on
        # each run, so fall back to a key derived from the stack's name (still not the
        # plain hash a dictionary of common passwords is made for).
        return hashlib.sha256(b"stackctl-digest\0" + stack.encode()).digest()


# --------------------------------------------------------------------------- the values


def _forms(value: str) -> set[str]:
    """How a value can be written out: as is, JSON-escaped (ASCII or not), repr-quoted, or
    with ``$`` doubled (generated Python and stack files)."""
    out = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    out.add(repr(value)[1:-1])
    out |= {f.replace("$", "$$") for f in out}  # as a stack's source writes a literal $
    return {f for f in out if f}


def _quoted(value: str) -> set[str]:
    """A short value as a message quotes it ('x', "x", `x`, JSON-escaped "x"): the only
    place a 1-3 character value is searched in free text (bare, it is ordinary text)."""
    out: set[str] = set()
    for inner in _forms(value):
        out |= {f"'{inner}'", f'"{inner}"', f"`{inner}`", f'\\"{inner}\\"'}
    return out


@dataclass
class Known:
    """The secret values of one run, as they become known while loading."""

    values: set[str] = field(default_factory=set)
    _pattern: re.Pattern[str] | None = None
    _size: int = -1

    def add(self, values: Iterable[str]) -> None:
        for v in values:
            if v and v.strip():
                self.values.add(v)
                self.values.add(v.strip())

    def pattern(self) -> re.Pattern[str] | None:
        """One regex for every long value in every written form, longest first."""
        if self._size != len(self.values):
            forms = {f for v in self.values if len(v.strip()) >= MIN_REDACTED for f in _forms(v)}
            forms |= {f for v in self.values if len(v.strip()) < MIN_REDACTED for f in _quoted(v)}
            ordered = sorted(forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
            self._size = len(self.values)
        return self._pattern


_KNOWN: ContextVar[Known | None] = ContextVar("stackctl_known_secrets", default=None)


def remember(*values: str) -> None:
    """Record secret values for this run's output filter (no-op outside a run)."""
    known = _KNOWN.get()
    if known is not None:
        known.add(values)


def known() -> Known:
    """This run's known values (an empty set outside a run)."""
    return _KNOWN.get() or Known()


@contextlib.contextmanager
def collecting() -> Iterator[Known]:
    """A run: values remembered inside it are redacted from what it prints."""
    current = _KNOWN.get()
    if current is not None:  # nested (a command calling another): one set
        yield current
        return
    token = _KNOWN.set(Known())
    try:
        yield _KNOWN.get() or Known()
    finally:
        _KNOWN.reset(token)


# --------------------------------------------------------------------------- free text


def redact_path(path: str, values: Known | None = None) -> str:
    """An attribute path (``services.web.depends_on.KEY``) with every segment that is a
    secret value, however short, replaced: a path names keys, and a key may be a value."""
    vals = (values or known()).values
    if not vals or not path:
        return path
    return ".".join(MARKER if part in vals else part for part in path.split("."))


_TOKEN_STOP = set(" \t\r\n\"'`,;()[]{}<>\\")


def redact_text(text: str, values: Known | None = None) -> str:
    """``text`` with every token that holds a (long enough) secret value replaced."""
    pattern = (values or known()).pattern()
    if pattern is None or not text:
        return text
    spans: list[tuple[int, int]] = []
    for m in pattern.finditer(text):
        start, end = m.start(), m.end()
        while start > 0 and text[start - 1] not in _TOKEN_STOP:
            start -= 1
        while end < len(text) and text[end] not in _TOKEN_STOP:
            end += 1
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(MARKER)
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_known(data: Any) -> Any:
    """Free-text redaction of every string in ``data`` (dicts, lists) with this run's values."""
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, dict):
        return {redact_known(k): redact_known(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_known(v) for v in data]
    return data


class RedactingStream(io.TextIOBase):
    """A text stream that writes whole lines through :func:`redact_text` (the rest on
    flush), so a value printed by any code path is caught where it leaves the process."""

    def __init__(self, inner: TextIO, values: Known) -> None:
        self.inner = inner
        self.values = values
        self._buffer = ""

    def write(self, s: str) -> int:
        self._buffer += s
        cut = self._buffer.rfind("\n")
        if cut >= 0:
            head, self._buffer = self._buffer[: cut + 1], self._buffer[cut + 1 :]
            self.inner.write(redact_text(head, self.values))
        return len(s)

    def flush(self) -> None:
        if self._buffer:
            self.inner.write(redact_text(self._buffer, self.values))
            self._buffer = ""
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8") or "utf-8"

    def writable(self) -> bool:
        return True


@contextlib.contextmanager
def redacted_output(values: Known) -> Iterator[None]:
    """stdout and stderr filtered through ``values`` for the duration."""
    import sys

    out, err = sys.stdout, sys.stderr
    sys.stdout = RedactingStream(out, values)
    sys.stderr = RedactingStream(err, values)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = out, err


# --------------------------------------------------------------------------- structured


@dataclass(frozen=True)
class Secrets:
    """A stack's secret values and its digest key: the structured form of the pass."""

    values: frozenset[str]
    key: bytes | None

    @staticmethod
    def of(values: Iterable[str], key: bytes | None) -> Secrets:
        vals = {v for v in values if v and v.strip()}
        vals |= {v.strip() for v in vals}
        return Secrets(frozenset(vals), key)

    def digest(self, value: str) -> str:
        return digest(value, self.key)

    def _long(self) -> list[str]:
        return sorted((v for v in self.values if len(v) >= MIN_REDACTED), key=len, reverse=True)

    def holds(self, text: str) -> bool:
        if text in self.values:
            return True
        if any(v in text for v in self._long()):
            return True
        words = text.split()
        return any(w in self.values for w in words)

    def data(self, item: Any, sensitive_env: Iterable[str] = ()) -> Any:
        """``item`` with every string holding a secret replaced by the digest of the whole
        string; ``sensitive_env``: keys of ``item["env"]`` that are digests whatever they
        hold."""
        hidden = set(sensitive_env)

        def walk(x: Any) -> Any:
            if isinstance(x, str):
                return self.digest(x) if self.holds(x) else x
            if isinstance(x, dict):
                return {k: walk(v) for k, v in x.items()}
            if isinstance(x, list):
                if x and all(isinstance(v, str) for v in x):
                    return self._words(x)
                return [walk(v) for v in x]
            return x

        if hidden and isinstance(item, dict) and isinstance(item.get("env"), dict):
            env = {
                k: (self.digest(v) if k in hidden and isinstance(v, str) else v)
                for k, v in item["env"].items()
            }
            return {k: (walk(env) if k == "env" else walk(v)) for k, v in item.items()}
        return walk(item)

    def _words(self, words: list[str]) -> list[str]:
        """A list of words (a command): each word holding a secret, and each word that a
        secret spanning several words (joined by spaces) touches, becomes a digest."""
        hit = [self.holds(w) for w in words]
        joined, starts, pos = " ".join(words), [], 0
        for w in words:
            starts.append(pos)
            pos += len(w) + 1
        for v in self._long():
            if " " not in v.strip():
                continue
            i = joined.find(v)
            while i >= 0:
                for n, s in enumerate(starts):
                    if s < i + len(v) and i < s + len(words[n]) + 1:
                        hit[n] = True
                i = joined.find(v, i + 1)
        return [self.digest(w) if h else w for w, h in zip(words, hit, strict=True)]


def legacy_redact(data: Any, values: Iterable[str], sensitive_env: Iterable[str] = ()) -> Any:
    """The config as stackctl before keyed digests stored it (unkeyed digests of each
    matched substring): only to recognise an unchanged unit labelled by an older version."""
    vals = sorted((s for s in set(values) if len(s) >= MIN_REDACTED), key=len, reverse=True)
    hidden = set(sensitive_env)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            for value in vals:
                if value in item:
                    item = item.replace(value, digest(value, None))
            return item
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    if isinstance(data, dict) and isinstance(data.get("env"), dict) and hidden:
        env = {k: (digest(v, None) if k in hidden else v) for k, v in sorted(data["env"].items())}
        return {k: (walk(env) if k == "env" else walk(v)) for k, v in data.items()}
    return walk(data)
