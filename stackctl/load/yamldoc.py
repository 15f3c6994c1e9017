"""Parse a YAML (or JSON) document into plain data plus a map of attribute paths to lines.

Why not ``yaml.safe_load``: it forgets where things were, and it reads YAML 1.1, where
``22:22`` is the number 1342 and ``yes`` is ``True``. Compose reads YAML 1.2 (go-yaml v3),
so plain scalars here are resolved with the YAML 1.2 core schema: only ``true``/``false``,
``null``/``~``, decimal/octal (``0o``)/hex (``0x``) integers and floats are not strings;
as in go-yaml v3, YAML 1.1's octal ``0440`` is still an octal integer (a file ``mode``).
Keys are always strings (their source text). Anchors, aliases and ``<<`` merge keys work.

Paths are tuples of keys and list indices; :func:`stackctl.load.outcome.dotted` turns one into
``services.db.ports.0``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from stackctl.load.outcome import dotted, nearest_line

Path_ = tuple[str | int, ...]

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT8_OLD = re.compile(r"^0[0-7]+$")  # YAML 1.1's octal, which go-yaml v3 still reads
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")

_STR = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()
_STD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:merge",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:omap",
    "tag:yaml.org,2002:pairs",
    "tag:yaml.org,2002:set",
}


def resolve_plain(text: str) -> Any:
    """A plain (unquoted) scalar under the YAML 1.2 core schema."""
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT8_OLD.match(text):
        return int(text[1:], 8)
    if _INT10.match(text):
        return int(text)
    if _INT8.match(text):
        return int(text[2:], 8)
    if _INT16.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


@dataclass
class Problem:
    """A problem found while reading the document, before any model exists."""

    message: str
    line: int | None
    path: str | None = None
    hint: str | None = None


@dataclass
class Document:
    """A parsed document: plain data, and the line of every key and list item."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path`` or of its nearest ancestor that has one."""
        return nearest_line(self.lines, path)


MAX_DEPTH = 100
"""Deeper nesting is refused: no stack needs it, and recursive steps would overflow."""

MAX_ALIASED = 100_000
"""Values an alias may repeat, all aliases together: bounds "billion laughs" documents."""


class _TooComplex(Exception):
    """The document is too deep, or its aliases expand too far, to be read safely."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Loader(yaml.SafeLoader):
    """SafeLoader that stops composing past MAX_DEPTH: deeper nesting would overflow the
    recursive composer, after the scanner spent quadratic time on it."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _TooComplex(_too_deep(_line(event.start_mark)))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Walker:
    """Turns a composed node tree into data, recording lines and duplicate keys."""

    def __init__(self) -> None:
        self.lines: dict[str, int] = {}
        self.problems: list[Problem] = []
        self._active: set[int] = set()
        self._walked: set[int] = set()
        self._aliased = 0

    def walk(self, node: yaml.Node, path: Path_, where: str = "") -> Any:
        """``where``: ``path`` dotted (carried along: building it at each node is the
        walk's largest cost on a big file)."""
        if id(node) in self._active:
            self.problems.append(
                Problem("a YAML alias refers to itself", node.start_mark.line + 1, where)
            )
            return None
        self._check_limits(node, path)
        self._check_tag(node, path)
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path, where)
            if isinstance(node, yaml.SequenceNode):
                out: list[Any] = []
                for i, item in enumerate(node.value):
                    sub = f"{where}.{i}" if where else str(i)
                    self.lines.setdefault(sub, item.start_mark.line + 1)
                    out.append(self.walk(item, (*path, i), sub))
                return out
            return self._scalar(node)
        finally:
            self._active.discard(id(node))

    def _check_limits(self, node: yaml.Node, path: Path_) -> None:
        line = node.start_mark.line + 1
        if len(path) > MAX_DEPTH:
            raise _TooComplex(_too_deep(line))
        if id(node) in self._walked:  # reached again through an alias
            self._aliased += 1
            if self._aliased > MAX_ALIASED:
                raise _TooComplex(
                    Problem(
                        f"YAML aliases expand to more than {MAX_ALIASED} values",
                        line,
                        dotted(path) or None,
                        "an alias bomb? refer to each anchor a few times, not in nested layers",
                    )
                )
        else:
            self._walked.add(id(node))

    def _check_tag(self, node: yaml.Node, path: Path_) -> None:
        if node.tag not in _STD_TAGS:
            self.problems.append(
                Problem(
                    f"YAML tag {node.tag} is not supported",
                    node.start_mark.line + 1,
                    dotted(path) or None,
                    "remove the tag; stackctl reads plain YAML",
                )
            )

    @staticmethod
    def _scalar(node: yaml.Node) -> Any:
        text = str(node.value)
        if getattr(node, "style", None):
            return text  # quoted or block scalar: always a string
        if node.tag == _STR and _implicit_tag(text) != _STR:
            return text  # a plain scalar with an explicit !!str tag
        return resolve_plain(text)

    def _mapping(self, node: yaml.MappingNode, path: Path_, where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merged: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.extend(self._merge_sources(value_node, path))
                continue
            key = self._key(key_node, path)
            line = key_node.start_mark.line + 1
            if key in first_line:
                self.problems.append(
                    Problem(
                        f"`{key}` is defined twice (first at line {first_line[key]})",
                        line,
                        dotted((*path, key)),
                        "remove one of them",
                    )
                )
                continue
            first_line[key] = line
            sub = f"{where}.{key}" if where else key
            self.lines[sub] = line
            out[key] = self.walk(value_node, (*path, key), sub)
        seen: set[int] = set()
        for source in merged:  # explicit keys win over merged ones, as in YAML
            for key_node, value_node in self._merged_pairs(source, path, seen):
                key = self._key(key_node, path)
                if key in out:
                    continue
                sub = f"{where}.{key}" if where else key
                self.lines.setdefault(sub, key_node.start_mark.line + 1)
                out[key] = self.walk(value_node, (*path, key), sub)
        return out

    def _merged_pairs(
        self, source: yaml.MappingNode, path: Path_, seen: set[int]
    ) -> list[tuple[yaml.Node, yaml.Node]]:
        """The key/value pairs a merged mapping brings, its own ``<<`` merges resolved
        (its explicit keys first, so they win, as in YAML). ``seen``: the mappings already
        merged into this one; each is read once (a mapping merged twice adds nothing the
        first time did not, and a chain of ``<<: [*a, *a]`` stays linear, not 2^depth)."""
        if id(source) in seen:
            return []
        seen.add(id(source))
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        nested: list[yaml.MappingNode] = []
        for key_node, value_node in source.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                nested.extend(self._merge_sources(value_node, path))
            else:
                pairs.append((key_node, value_node))
        for inner in nested:
            pairs.extend(self._merged_pairs(inner, path, seen))
        return pairs

    def _merge_sources(self, node: yaml.Node, path: Path_) -> list[yaml.MappingNode]:
        if isinstance(node, yaml.MappingNode):
            return [node]
        if isinstance(node, yaml.SequenceNode) and all(
            isinstance(n, yaml.MappingNode) for n in node.value
        ):
            return list(node.value)
        self.problems.append(
            Problem(
                "a `<<` merge key needs a mapping or a list of mappings",
                node.start_mark.line + 1,
                dotted(path) or None,
            )
        )
        return []

    def _key(self, node: yaml.Node, path: Path_) -> str:
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        self.problems.append(
            Problem("a mapping key must be a plain value", node.start_mark.line + 1, dotted(path))
        )
        return f"<complex key at line {node.start_mark.line + 1}>"


def _implicit_tag(text: str) -> str:
    """The tag PyYAML's (YAML 1.1) resolver gives a plain scalar with this text."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
"""LibYAML's parser and composer (about 7x faster than PyYAML's own), when PyYAML was built
with it. Used for documents that parse cleanly within MAX_DEPTH; anything else is parsed
again by PyYAML's Python loader, whose messages and limits the problems report."""


class _Slow(Exception):
    """The document must be read by PyYAML's Python loader (an error, or too deep)."""


def _compose_fast(text: str) -> yaml.Node | None:
    """The node tree by LibYAML; raises _Slow where the Python loader must decide."""
    if _FAST_LOADER is None:
        raise _Slow
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_FAST_LOADER):  # no recursion: bounds depth
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _Slow
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        node: yaml.Node | None = yaml.compose(text, Loader=_FAST_LOADER)
    except (yaml.YAMLError, ValueError, UnicodeError) as e:
        raise _Slow from e
    return node


def parse_yaml(text: str) -> Document:
    """Parse one YAML document. Syntax errors become problems with a line, never exceptions."""
    try:
        return _walked(_compose_fast(text))
    except _Slow:
        pass
    try:
        node = yaml.compose(text, Loader=_Loader)
    except _TooComplex as e:
        return Document(None, problems=[e.problem])
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = e.problem or e.context or "malformed YAML"
        if e.context and e.problem:
            what = f"{e.problem} ({e.context})"
        return Document(None, problems=[Problem(f"YAML syntax error: {what}", _line(mark))])
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (NUL ...)
        what = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        line = text.count("\n", 0, e.position) + 1
        return Document(None, problems=[Problem(f"character {what}: {e.reason}", line)])
    except yaml.YAMLError as e:
        return Document(None, problems=[Problem(f"YAML syntax error: {e}", None)])
    except RecursionError:  # PyYAML composes recursively
        return Document(None, problems=[_too_deep(_deep_line(text))])
    return _walked(node)


def _walked(node: yaml.Node | None) -> Document:
    if node is None:
        return Document(None)
    walker = _Walker()
    try:
        data = walker.walk(node, ())
    except _TooComplex as e:
        return Document(None, problems=[e.problem])
    return Document(data, walker.lines, walker.problems)


def _too_deep(line: int | None) -> Problem:
    return Problem(
        f"the document is nested more than {MAX_DEPTH} levels deep",
        line,
        hint="a stack needs a handful of levels; flatten it",
    )


def _deep_line(text: str) -> int | None:
    """The line where nesting first goes deeper than MAX_DEPTH (events: no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return _line(event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def parse_json(text: str) -> Document:
    """Parse JSON with lines: checked by ``json`` (its messages), then walked as YAML.

    Valid JSON holds tabs only as whitespace, so they become spaces (PyYAML refuses tabs).
    """
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        return Document(None, problems=[Problem(f"JSON syntax error: {e.msg}", e.lineno)])
    except RecursionError:
        pass  # too deep for json: parse_yaml says where
    return parse_yaml(text.replace("\t", " "))


def _line(mark: Any) -> int | None:
    return int(mark.line) + 1 if mark is not None else None
