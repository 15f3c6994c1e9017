"""Variable interpolation with Compose's rules (compose-go's ``template`` package).

Every string value of a YAML/JSON/compose stack (never a key), every string value of a
Python stack except :class:`~stackctl.model.Secret` values, and every unquoted or
double-quoted value of a ``.env`` or ``env_file`` file (:mod:`stackctl.core.dotenv`) is
interpolated:

=====================  ==========================================================
``$VAR``, ``${VAR}``   the value; an unset variable becomes ``""`` (with a warning)
``${VAR:-default}``    ``default`` if VAR is unset or empty
``${VAR-default}``     ``default`` if VAR is unset
``${VAR:?message}``    an error saying ``message`` if VAR is unset or empty
``${VAR?message}``     an error saying ``message`` if VAR is unset
``${VAR:+alt}``        ``alt`` if VAR is set and not empty, else ``""``
``${VAR+alt}``         ``alt`` if VAR is set, else ``""``
``$$``                 a literal ``$``
=====================  ==========================================================

Defaults and alternatives may themselves hold references (``${A:-${B}}``), up to
:data:`MAX_DEPTH` levels deep, and braces (``${A:-{"json":1}}``): the reference ends at the
``}`` that balances its ``{`` (or, as in Compose, at the last ``}`` of the line when none
does). A ``$`` that is not followed by ``$``, ``{`` or a name character is kept as written
(``^REGEX$``, ``$(cmd)``, ``$1``), as in Compose v2; ``${`` that does not start a valid
reference is an error. Error messages name variables, never their values, and never quote
the template (it may be a secret value of a ``.env`` file): the message of
``${VAR:?message}`` is shown as written, its own references not expanded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stackctl.errors import StackctlError
from stackctl.secrets import looks_secret

MAX_DEPTH = 100
"""How deeply ``${A:-${B:-...}}`` may nest before it is an error (not a RecursionError)."""

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_BRACED = re.compile(r"([_A-Za-z][_A-Za-z0-9]*)(:?[-+?])?")
_OPERATORS = "':-', '-', ':?', '?', ':+' or '+'"

Lookup = Callable[[str], str | None]
PathT = tuple[str | int, ...]


class InterpolationError(StackctlError, ValueError):
    """A template that cannot be expanded: a required variable is unset, or bad syntax.

    ``message`` never holds a variable's value or the template's text.
    """

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


@dataclass
class _Expander:
    lookup: Lookup
    check_only: bool = False
    unset: list[str] = field(default_factory=list)

    def expand(self, text: str, depth: int = 0, base: int = 0) -> str:
        """``base``: where ``text`` starts in the whole template (for error positions)."""
        if depth > MAX_DEPTH:
            raise InterpolationError(
                f"variable references nested more than {MAX_DEPTH} levels deep"
            )
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            j = text.find("$", i)
            if j < 0:
                out.append(text[i:])
                break
            out.append(text[i:j])
            nxt = text[j + 1 : j + 2]
            if nxt == "$":
                out.append("$")
                i = j + 2
            elif nxt == "{":
                value, i = self._braced(text, j, depth, base)
                out.append(value)
            else:
                m = _NAME.match(text, j + 1)
                if m:
                    out.append(self._value(m.group(0)))
                    i = m.end()
                else:  # a lone '$' ("^REGEX$", "$(cmd)", "$1") is kept, as in Compose v2
                    out.append("$")
                    i = j + 1
        return "".join(out)

    def _value(self, name: str) -> str:
        if self.check_only:
            return ""
        value = self.lookup(name)
        if value is None:
            self.unset.append(name)
            return ""
        return value

    def _braced(self, text: str, start: int, depth: int, base: int) -> tuple[str, int]:
        """Expand the reference ``${...`` at ``text[start]``; return it and the index after it."""
        where = f"at character {base + start + 1}"
        m = _BRACED.match(text, start + 2)
        if not m:
            raise InterpolationError(
                f"invalid '${{' {where}: a variable name must follow (letters, digits and "
                "'_', not starting with a digit); write '$$' for a literal dollar sign"
            )
        name, op = m.group(1), m.group(2)
        if op is None:
            if text[m.end() : m.end() + 1] != "}":
                raise InterpolationError(
                    f"invalid reference to {name} {where}: after the name use '}}' or "
                    f"{_OPERATORS}; write '$$' for a literal dollar sign",
                    variable=name,
                )
            return self._value(name), m.end() + 1
        end = _closing_brace(text, start)
        if end < 0:
            raise InterpolationError(
                f"unclosed '${{{name}{op}' {where}: close it with '}}' on the same line, or "
                "write '$$' for a literal dollar sign",
                variable=name,
            )
        arg = text[m.end() : end]
        if self.check_only:
            self.expand(arg, depth + 1, base + m.end())
            return "", end + 1
        value = self.lookup(name)
        is_set = value is not None
        non_empty = bool(value)
        if op in (":-", "-"):
            use_default = not non_empty if op == ":-" else not is_set
            if use_default:
                return self.expand(arg, depth + 1, base + m.end()), end + 1
            return value or "", end + 1
        if op in (":?", "?"):
            missing = not non_empty if op == ":?" else not is_set
            if missing:
                # Checked, not expanded: the message would otherwise carry values.
                _Expander(self.lookup, check_only=True).expand(arg, depth + 1, base + m.end())
                said = arg.strip()
                raise InterpolationError(
                    f"{name} is required" + (f": {said}" if said else ""), variable=name
                )
            return value or "", end + 1
        use_alt = non_empty if op == ":+" else is_set
        return (self.expand(arg, depth + 1, base + m.end()) if use_alt else ""), end + 1


def _closing_brace(text: str, start: int) -> int:
    """The index of the ``}`` that ends the reference ``${NAME<op>...`` at ``text[start]``.

    As compose-go: the reference reaches at most to the last ``}`` of its line; within
    that, it ends at the first ``}`` that balances the braces counted from ``${`` (a ``{``
    also hides the character after it), else at that last ``}``. -1: there is none.
    """
    line_end = text.find("\n", start)
    last = text.rfind("}", start, len(text) if line_end < 0 else line_end)
    if last < 0:
        return -1
    depth, i = 0, start
    while i <= last:
        c = text[i]
        if c == "}":
            depth -= 1
            if depth == 0:
                return i
        elif c == "{":
            depth += 1
            i += 1
        i += 1
    return last


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


_TEMPLATE_FIELDS = frozenset({"environment", "labels", "command", "entrypoint"})


def is_template_position(path: Sequence[str | int]) -> bool:
    """Where ``stackctl import`` keeps ``${VAR}`` templates as written instead of expanding.

    Only free-text values qualify: environment, labels, command, entrypoint, the health
    check test and the build arguments of a service. Everything else (images, ports,
    paths) is parsed when the model is built, so it is expanded at import time.
    """
    if len(path) < 4 or path[0] != "services":
        return False
    return path[2] in _TEMPLATE_FIELDS or tuple(path[2:4]) in (
        ("healthcheck", "test"),
        ("build", "args"),
    )
