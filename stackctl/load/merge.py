"""Compose's merge rules, ported from compose-go (``override/merge.go``, ``uncity.go``).

Compose files are merged as YAML trees, each value remembering the file and line it came
from (:class:`Node`), so a finding about a merged stack still points at the right file:

- mappings are merged key by key; a scalar of the later file replaces the earlier one;
  a sequence of the later file is appended to the earlier one;
- per-key rules (:data:`SPECIALS`): ``command``, ``entrypoint`` and ``healthcheck.test``
  are replaced; ``environment``, ``labels``, ``dns*``, ``env_file``, ``sysctls``,
  ``tmpfs``, ``annotations`` and ``build.args``/``labels`` become ``KEY=VALUE`` lists and
  are appended; ``extra_hosts`` appended without repeats; ``depends_on`` and ``networks``
  (list or mapping forms) merged as mappings; ``logging`` merged only when both name the
  same driver (or one names none), else replaced; ``build: DIR`` read as
  ``build: {context: DIR}``; one ``ulimits`` entry replaces the other;
- then each sequence with an identity (:data:`UNIQUE`) keeps one item per identity, in the
  position of the first and with the value of the last: ``environment``/``labels`` by key,
  ``volumes`` by target, ``ports`` by their text, ``secrets``/``configs`` by target,
  ``expose``, ``dns``, ``cap_add``, ``profiles``, ``env_file`` by path...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stackctl.load.outcome import dotted

Path_ = tuple[str | int, ...]


@dataclass
class Node:
    """A YAML value with its origin. ``value``: dict[str, Node], list[Node] or a scalar;
    ``raw``: a scalar before interpolation (for secret-looking templates)."""

    value: Any
    file: str
    line: int | None
    raw: Any = None


class MergeError(Exception):
    """Two files give one key values that cannot be merged (a list and a mapping...)."""

    def __init__(self, message: str, node: Node, path: Path_) -> None:
        super().__init__(message)
        self.node = node
        self.path = path


@dataclass
class Repeat:
    """Two items of one identity: ``last`` took the place of ``first`` (unicity rules)."""

    path: Path_
    key: str
    first: Node
    last: Node


# --------------------------------------------------------------------- building and reading


def to_node(
    data: Any,
    raw: Any,
    line_of: Callable[[Path_], int | None],
    file: str,
    path: Path_ = (),
) -> Node:
    """``data`` (interpolated) and ``raw`` (as written) as a Node tree located in ``file``."""
    line = line_of(path)
    if isinstance(data, dict):
        raws = raw if isinstance(raw, dict) else {}
        return Node(
            {k: to_node(v, raws.get(k), line_of, file, (*path, k)) for k, v in data.items()},
            file,
            line,
        )
    if isinstance(data, list):
        rawl = raw if isinstance(raw, list) and len(raw) == len(data) else [None] * len(data)
        return Node(
            [
                to_node(v, r, line_of, file, (*path, i))
                for i, (v, r) in enumerate(zip(data, rawl, strict=True))
            ],
            file,
            line,
        )
    return Node(data, file, line, raw if raw is not None else data)


def as_written(data: Any, raw: Any) -> Any:
    """``data``'s shape with the values of ``raw`` (as written): what ``to_node`` keeps as
    each scalar's ``raw``, and ``flatten`` gives back as ``Flat.raw``."""
    if isinstance(data, dict):
        raws = raw if isinstance(raw, dict) else {}
        return {k: as_written(v, raws.get(k)) for k, v in data.items()}
    if isinstance(data, list):
        rawl = raw if isinstance(raw, list) and len(raw) == len(data) else [None] * len(data)
        return [as_written(v, r) for v, r in zip(data, rawl, strict=True)]
    return raw if raw is not None else data


@dataclass
class Flat:
    """A Node tree as plain data, the data as written, and where each path came from."""

    data: Any
    raw: Any
    lines: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def flat_of_one_file(data: Any, raw: Any, lines: dict[str, int]) -> Flat:
    """What ``flatten(to_node(data, raw, ...))`` gives for one file's tree (``lines``: the
    file's, every path's own), without building the located tree: ``data`` is not copied."""
    return Flat(data, as_written(data, raw), dict(lines))


def flatten(node: Node) -> Flat:
    out = Flat(None, None)
    out.data, out.raw = _flatten(node, (), out)
    return out


def _flatten(node: Node, path: Path_, out: Flat) -> tuple[Any, Any]:
    if path:
        key = dotted(path)
        if node.line is not None:
            out.lines[key] = node.line
        out.files[key] = node.file
    if isinstance(node.value, dict):
        pairs = {k: _flatten(v, (*path, k), out) for k, v in node.value.items()}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    if isinstance(node.value, list):
        items = [_flatten(v, (*path, i), out) for i, v in enumerate(node.value)]
        return [p[0] for p in items], [p[1] for p in items]
    return node.value, node.raw


# --------------------------------------------------------------------------- merging

Merger = Callable[[Node | None, Node | None, Path_], Node | None]


def _matches(path: Path_, pattern: str) -> bool:
    parts = _parts(pattern)
    if len(parts) != len(path):
        return False
    return all(p == "*" or p == str(k) for p, k in zip(parts, path, strict=True))


@functools.cache
def _parts(pattern: str) -> tuple[str, ...]:
    return tuple(pattern.split("."))


@functools.cache
def _by_end(table: str, length: int, last: str) -> tuple[str, ...]:
    """The patterns of ``table`` (SPECIALS or UNIQUE) that a path of ``length`` ending in
    ``last`` can match: a walk over every node of a big file tries only those."""
    patterns = SPECIALS if table == "specials" else UNIQUE
    return tuple(p for p in patterns if len(_parts(p)) == length and _parts(p)[-1] in ("*", last))


def _candidates(table: str, path: Path_) -> tuple[str, ...]:
    return _by_end(table, len(path), str(path[-1])) if path else ()


def merge(base: Node | None, over: Node | None, path: Path_ = ()) -> Node | None:
    """compose-go's ``MergeYaml``: ``over`` (the later file) merged into ``base``."""
    for pattern in _candidates("specials", path):
        merger = SPECIALS[pattern]
        if _matches(path, pattern):
            return merger(base, over, path)
    if over is None or over.value is None:
        return base
    if base is None:
        return over
    if isinstance(base.value, dict):
        if not isinstance(over.value, dict):
            raise MergeError(f"cannot override `{dotted(path)}`: it is a mapping", over, path)
        return _merge_mappings(base, over, path)
    if isinstance(base.value, list):
        if not isinstance(over.value, list):
            raise MergeError(f"cannot override `{dotted(path)}`: it is a list", over, path)
        return Node([*base.value, *over.value], base.file, base.line)
    return over


def _merge_mappings(base: Node, over: Node, path: Path_) -> Node:
    merged: dict[str, Node] = dict(base.value)
    for key, value in over.value.items():
        if key not in merged:
            merged[key] = value
            continue
        result = merge(merged[key], value, (*path, key))
        if result is not None:
            merged[key] = result
    return Node(merged, base.file, base.line)


def _override(base: Node | None, over: Node | None, path: Path_) -> Node | None:
    return over


def _go_text(value: Any) -> str:
    """Go's ``%v`` of a YAML scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _sequence(node: Node | None) -> list[Node]:
    """compose-go's ``convertIntoSequence``: a mapping becomes sorted ``KEY=VALUE`` items."""
    if node is None:
        return []
    if isinstance(node.value, dict):
        items: list[Node] = []
        for key, val in node.value.items():
            if val.value is None:
                items.append(Node(key, val.file, val.line, key))
            elif isinstance(val.value, list):
                for v in val.value:
                    text = f"{key}={_go_text(v.value)}"
                    items.append(Node(text, v.file, v.line, f"{key}={_go_text(v.raw)}"))
            else:
                text = f"{key}={_go_text(val.value)}"
                items.append(Node(text, val.file, val.line, f"{key}={_go_text(val.raw)}"))
        return sorted(items, key=lambda n: str(n.value))
    if isinstance(node.value, list):
        return list(node.value)
    if isinstance(node.value, str):
        return [node]
    return []


def _to_sequence(base: Node | None, over: Node | None, path: Path_) -> Node | None:
    anchor = base or over
    if anchor is None:
        return None
    return Node([*_sequence(base), *_sequence(over)], anchor.file, anchor.line)


def _extra_hosts(base: Node | None, over: Node | None, path: Path_) -> Node | None:
    anchor = base or over
    if anchor is None:
        return None
    right = _sequence(base)
    seen = [n.value for n in right]
    return Node(
        [*right, *(n for n in _sequence(over) if n.value not in seen)], anchor.file, anchor.line
    )


def _mapping(node: Node | None, default: dict[str, Any] | None) -> Node | None:
    """compose-go's ``convertIntoMapping``: a list of names becomes a mapping."""
    if node is None or isinstance(node.value, dict):
        return node
    if isinstance(node.value, list):
        out: dict[str, Node] = {}
        for item in node.value:
            value: Any = None
            if default is not None:
                value = {k: Node(v, item.file, item.line, v) for k, v in default.items()}
            out[str(item.value)] = Node(value, item.file, item.line)
        return Node(out, node.file, node.line)
    return None


def _as_mappings(default: dict[str, Any] | None) -> Merger:
    def merger(base: Node | None, over: Node | None, path: Path_) -> Node | None:
        left, right = _mapping(base, default), _mapping(over, default)
        if left is None or right is None:
            return left or right
        return _merge_mappings(left, right, path)

    return merger


def _logging(base: Node | None, over: Node | None, path: Path_) -> Node | None:
    if base is None or over is None or not isinstance(base.value, dict):
        return over or base
    if not isinstance(over.value, dict):
        return over
    mine, theirs = base.value.get("driver"), over.value.get("driver")
    if mine is None or theirs is None or mine.value == theirs.value:
        return _merge_mappings(base, over, path)
    return over


def _build(base: Node | None, over: Node | None, path: Path_) -> Node | None:
    def as_map(node: Node | None) -> Node | None:
        if node is not None and isinstance(node.value, str):
            return Node({"context": node}, node.file, node.line)
        return node

    left, right = as_map(base), as_map(over)
    if left is None or right is None or not isinstance(left.value, dict):
        return right or left
    if not isinstance(right.value, dict):
        return right
    return _merge_mappings(left, right, path)


def _ipam_config(base: Node | None, over: Node | None, path: Path_) -> Node | None:
    if base is None or over is None:
        return over or base
    if not isinstance(base.value, list) or not isinstance(over.value, list):
        raise MergeError(f"`{dotted(path)}` must be a list", over, path)

    def subnet(n: Node) -> Any:
        s = n.value.get("subnet") if isinstance(n.value, dict) else None
        return s.value if s is not None else None

    configs: list[Node] = []
    for original in base.value:
        for extra in over.value:
            if subnet(extra) != subnet(original) and not any(
                subnet(c) == subnet(extra) for c in configs
            ):
                configs.append(extra)
                continue
            merged = (
                _merge_mappings(original, extra, path)
                if isinstance(original.value, dict) and isinstance(extra.value, dict)
                else extra
            )
            index = next((i for i, c in enumerate(configs) if subnet(c) == subnet(merged)), -1)
            if index >= 0:
                configs[index] = merged
            else:
                configs.append(merged)
    return Node(configs, base.file, base.line)


SPECIALS: dict[str, Merger] = {
    "networks.*.ipam.config": _ipam_config,
    "networks.*.labels": _to_sequence,
    "volumes.*.labels": _to_sequence,
    "services.*.annotations": _to_sequence,
    "services.*.build": _build,
    "services.*.build.args": _to_sequence,
    "services.*.build.additional_contexts": _to_sequence,
    "services.*.build.extra_hosts": _extra_hosts,
    "services.*.build.labels": _to_sequence,
    "services.*.command": _override,
    "services.*.depends_on": _as_mappings({"condition": "service_started", "required": True}),
    "services.*.deploy.labels": _to_sequence,
    "services.*.dns": _to_sequence,
    "services.*.dns_opt": _to_sequence,
    "services.*.dns_search": _to_sequence,
    "services.*.entrypoint": _override,
    "services.*.env_file": _to_sequence,
    "services.*.label_file": _to_sequence,
    "services.*.environment": _to_sequence,
    "services.*.extra_hosts": _extra_hosts,
    "services.*.healthcheck.test": _override,
    "services.*.labels": _to_sequence,
    "services.*.logging": _logging,
    "services.*.models": _as_mappings(None),
    "services.*.networks": _as_mappings(None),
    "services.*.sysctls": _to_sequence,
    "services.*.tmpfs": _to_sequence,
    "services.*.ulimits.*": _override,  # compose-go merges the override with itself
}


# --------------------------------------------------------------------------- unicity

Indexer = Callable[[Node], str | None]


def _key_value(node: Node) -> str | None:
    if not isinstance(node.value, str):
        return None
    return node.value.partition("=")[0]


def _volume_target(node: Node) -> str | None:
    if isinstance(node.value, dict):
        target = node.value.get("target")
        return str(target.value) if target is not None else None
    if isinstance(node.value, str):
        parts = node.value.split(":")
        return parts[1] if len(parts) > 1 else parts[0]
    return None


def _device_target(node: Node) -> str | None:
    if isinstance(node.value, dict):
        target = node.value.get("target")
        return str(target.value) if target is not None else None
    if isinstance(node.value, str):
        parts = node.value.split(":")
        return parts[1] if len(parts) > 1 else parts[0]
    return None


def _expose(node: Node) -> str | None:
    return str(node.value) if isinstance(node.value, str | int) else None


def _mount(default: str) -> Indexer:
    def index(node: Node) -> str | None:
        if isinstance(node.value, str):
            return f"{default}/{node.value}"
        if isinstance(node.value, dict):
            target = node.value.get("target")
            if target is not None:
                return str(target.value)
            source = node.value.get("source")
            return f"{default}/{source.value if source is not None else None}"
        return None

    return index


def _port(node: Node) -> str | None:
    if isinstance(node.value, int):
        return str(node.value)
    if isinstance(node.value, str):
        return node.value
    if isinstance(node.value, dict):
        v = {k: n.value for k, n in node.value.items()}
        if "target" not in v:
            return None
        return (
            f"{v.get('host_ip', '0.0.0.0')}:{v.get('published')}:{v['target']}"
            f"/{v.get('protocol', 'tcp')}"
        )
    return None


def _env_file(node: Node) -> str | None:
    if isinstance(node.value, str):
        return node.value
    if isinstance(node.value, dict) and "path" in node.value:
        return str(node.value["path"].value)
    return None


UNIQUE: dict[str, Indexer] = {
    "networks.*.labels": _key_value,
    "networks.*.ipam.options": _key_value,
    "services.*.annotations": _key_value,
    "services.*.build.args": _key_value,
    "services.*.build.additional_contexts": _key_value,
    "services.*.build.platform": _key_value,
    "services.*.build.tags": _key_value,
    "services.*.build.labels": _key_value,
    "services.*.cap_add": _key_value,
    "services.*.cap_drop": _key_value,
    "services.*.configs": _mount(""),
    "services.*.deploy.labels": _key_value,
    "services.*.dns": _key_value,
    "services.*.dns_opt": _key_value,
    "services.*.dns_search": _key_value,
    "services.*.environment": _key_value,
    "services.*.env_file": _env_file,
    "services.*.expose": _expose,
    "services.*.labels": _key_value,
    "services.*.links": _key_value,
    "services.*.networks.*.aliases": _key_value,
    "services.*.networks.*.link_local_ips": _key_value,
    "services.*.ports": _port,
    "services.*.profiles": _key_value,
    "services.*.secrets": _mount("/run/secrets"),
    "services.*.sysctls": _key_value,
    "services.*.tmpfs": _key_value,
    "services.*.volumes": _volume_target,
    "services.*.devices": _device_target,
}


def has_repeats(data: Any) -> bool:
    """Whether :func:`enforce_unicity` would drop an item of plain ``data``: only the short
    sequences at :data:`UNIQUE`'s paths are looked at (a file without repeats, nearly every
    file, then needs no located tree of its own)."""
    for pattern, indexer in UNIQUE.items():
        for items in _sequences_at(data, _parts(pattern)):
            seen: set[str] = set()
            for item in items:
                key = indexer(to_node(item, None, _no_line, ""))
                if key is None:
                    continue
                if key in seen:
                    return True
                seen.add(key)
    return False


def _no_line(_path: Path_) -> None:
    return None


def _sequences_at(data: Any, parts: tuple[str, ...]) -> list[list[Any]]:
    """The lists found at the dotted pattern ``parts`` (``*``: any key) in ``data``."""
    level = [data]
    for part in parts:
        level = [
            child
            for value in level
            if isinstance(value, dict)
            for child in (value.values() if part == "*" else [value.get(part)])
        ]
    return [v for v in level if isinstance(v, list)]


def enforce_unicity(node: Node, path: Path_ = ()) -> list[Repeat]:
    """compose-go's ``EnforceUnicity``, in place: one item per identity in each sequence
    of :data:`UNIQUE` (first position, last value). Returns the items dropped."""
    repeats: list[Repeat] = []
    if isinstance(node.value, dict):
        for key, child in node.value.items():
            repeats += enforce_unicity(child, (*path, key))
    elif isinstance(node.value, list):
        for pattern in _candidates("unique", path):
            indexer = UNIQUE[pattern]
            if not _matches(path, pattern):
                continue
            kept: list[Node] = []
            where: dict[str, int] = {}
            for item in node.value:
                key = indexer(item)
                if key is None:  # a shape the schema reports
                    kept.append(item)
                    continue
                if key in where:
                    repeats.append(Repeat(path, key, kept[where[key]], item))
                    kept[where[key]] = item
                else:
                    where[key] = len(kept)
                    kept.append(item)
            node.value = kept
            break
    return repeats
