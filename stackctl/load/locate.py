"""Turn pydantic and jsonschema errors into :class:`Diagnostic` objects people can act on.

Each diagnostic names the file, the line (the nearest line known for the attribute path)
and the dotted attribute path, and says what to do: unknown fields get a "did you mean"
hint, missing ones say what to add.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from stackctl.core.redact import MIN_REDACTED
from stackctl.errors import Diagnostic, did_you_mean
from stackctl.load.outcome import dotted
from stackctl.schema_check import satisfies

if TYPE_CHECKING:  # jsonschema is imported where a schema is checked, not on every run
    import jsonschema

LineOf = Callable[[Sequence[str | int]], int | None]
UnknownKey = Callable[[tuple[str | int, ...], str, Sequence[str]], tuple[str, str | None]]

_TYPE_TAGS = {"str", "int", "float", "bool", "none", "list", "dict", "is-instance"}


def _is_tag(part: str | int) -> bool:
    """Pydantic inserts union member names into ``loc``; they are not part of the input."""
    if not isinstance(part, str):
        return False
    return "[" in part or "(" in part or part in _TYPE_TAGS or part[:1].isupper()


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, Mapping):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def clean_loc(loc: Iterable[str | int], data: Any) -> tuple[str | int, ...]:
    """A pydantic ``loc`` as a path into the input: union tags that are not keys dropped."""
    out: list[str | int] = []
    node: Any = data
    for part in loc:
        if _has(node, part):
            node = node[part]
        elif _is_tag(part):
            continue
        else:
            node = None
        out.append(part)
    return tuple(out)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            tp = models[0] if models else members[0]
            continue
        return tp


def model_at(root: type[BaseModel], path: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that the attribute ``path`` lands in, following field annotations."""
    tp: Any = root
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def unknown_field(
    path: tuple[str | int, ...], key: str, known: Sequence[str]
) -> tuple[str, str | None]:
    """Default wording for a field the format does not have."""
    return f"unknown field `{key}`", did_you_mean(key, known) or "remove it"


def without_value(message: str, value: Any) -> str:
    """``message`` without the value it is about (quoted or not): an error never shows
    the input it refuses, since any field may hold a secret. Our own validators quote
    values; the value of the field is cut out here, in one place."""
    if not isinstance(value, str) or not value.strip():
        return message
    forms = {repr(value), f'"{value}"', f"'{value}'", f"`{value}`"}
    if len(value.strip()) >= MIN_REDACTED:  # bare: only where it cannot be ordinary text
        forms |= {value, value.strip()}
    for form in sorted(forms, key=len, reverse=True):
        message = message.replace(form, "(the value)")
    return message


def pydantic_diagnostics(
    error: ValidationError,
    *,
    data: Any,
    file: str | None,
    line_of: LineOf,
    root: type[BaseModel],
    prefix: tuple[str | int, ...] = (),
    unknown: UnknownKey = unknown_field,
    line: int | None = None,
) -> list[Diagnostic]:
    """One diagnostic per failing attribute (union alternatives folded into one)."""
    out: list[Diagnostic] = []
    seen: set[str] = set()
    for err in error.errors(include_url=False):
        path = clean_loc(err["loc"], data)
        where = dotted((*prefix, *path))
        if where in seen:
            continue
        seen.add(where)
        kind = err["type"]
        hint: str | None = None
        if kind == "extra_forbidden" and path:
            model = model_at(root, path[:-1])
            known = list(model.model_fields) if model else []
            message, hint = unknown(path[:-1], str(path[-1]), known)
        elif kind == "missing" and path:
            message = f"`{path[-1]}` is required"
            hint = f"add `{path[-1]}`"
        elif kind in ("literal_error", "enum"):
            allowed = _allowed(str((err.get("ctx") or {}).get("expected", "")))
            message = f"the value is not one of: {', '.join(allowed)}"
            hint = f"write one of them, e.g. `{path[-1] if path else 'value'}: {allowed[0]}`"
        else:
            message = str(err["msg"])
            given = err.get("input")
            if message.startswith("Value error, "):
                message = without_value(message[len("Value error, ") :], given)
            elif message.startswith("Assertion failed, "):
                message = without_value(message[len("Assertion failed, ") :], given)
            else:
                # pydantic's own wording names the expected kind; the value is not shown
                # (any field may hold a secret): only its kind is.
                message = without_value(message, given) + f" (got {_json_type(given)})"
        out.append(
            Diagnostic(
                "error",
                message,
                file=file,
                line=line if line is not None else line_of(path),
                path=where or None,
                hint=hint,
            )
        )
    return out


def _allowed(expected: str) -> list[str]:
    """pydantic's ``'a', 'b' or 'c'`` as ``["a", "b", "c"]``."""
    import re

    found = re.findall(r"'((?:[^'\\]|\\.)*)'", expected)
    return found or [expected]


_JSON_TYPES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    list: "a list",
    dict: "a mapping",
    type(None): "null",
}


def _json_type(value: Any) -> str:
    for tp, name in _JSON_TYPES.items():
        if isinstance(value, tp):
            return name
    return type(value).__name__


def _expected(schema_type: Any) -> str:
    names = {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "array": "a list",
        "object": "a mapping",
        "null": "nothing",
    }
    kinds = schema_type if isinstance(schema_type, list) else [schema_type]
    return " or ".join(names.get(str(k), str(k)) for k in kinds)


def _extra_keys(err: jsonschema.ValidationError) -> list[str]:
    import re

    schema = err.schema if isinstance(err.schema, Mapping) else {}
    props = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    instance = err.instance if isinstance(err.instance, Mapping) else {}
    return [
        str(k)
        for k in instance
        if k not in props and not any(re.search(p, str(k)) for p in patterns)
    ]


def _is_mismatch(err: jsonschema.ValidationError) -> bool:
    """An error saying the value is not of this alternative's kind at all."""
    return not err.relative_path and err.validator in ("type", "const")


def _alternatives(err: jsonschema.ValidationError) -> list[list[jsonschema.ValidationError]]:
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in err.context or []:
        key = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches.setdefault(key, []).append(sub)
    return list(branches.values())


def _leaves(err: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors worth showing: inside an anyOf/oneOf, those of the alternative that has
    the value's kind (a mapping where a mapping is expected), not of every alternative."""
    if err.validator not in ("anyOf", "oneOf") or not err.context:
        return [err]
    matching = [b for b in _alternatives(err) if not any(_is_mismatch(e) for e in b)]
    if not matching:
        return [err]
    if len(matching) == 1:
        return [leaf for sub in matching[0] for leaf in _leaves(sub)]
    from jsonschema.exceptions import best_match

    best = best_match([e for b in matching for e in b])
    return _leaves(best) if best is not None else [err]


def _expected_of(err: jsonschema.ValidationError) -> str:
    kinds: list[str] = []
    for sub in err.context or []:
        if not _is_mismatch(sub):
            continue
        value: Any = sub.validator_value
        if sub.validator == "const":
            kinds.append(json.dumps(value))
        else:
            kinds.extend(_expected(v) for v in (value if isinstance(value, list) else [value]))
    return " or ".join(dict.fromkeys(kinds)) or "another kind of value"


def _repeated(items: Any) -> tuple[int, int] | None:
    """The first item of a list that repeats an earlier one: (earlier, later) indices."""
    if not isinstance(items, list):
        return None
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        key = json.dumps(item, sort_keys=True)
        if key in seen:
            return seen[key], i
        seen[key] = i
    return None


def _what_repeats(item: Any) -> str:
    """The repeated item named without its value: ``KEY=...`` by its key."""
    if isinstance(item, str) and "=" in item:
        return f"`{item.partition('=')[0]}`"
    return "an item"


def _describe(err: jsonschema.ValidationError) -> str:
    if err.validator == "type":
        return f"expected {_expected(err.validator_value)}, got {_json_type(err.instance)}"
    if err.validator == "enum":
        allowed = ", ".join(str(v) for v in list(err.validator_value))  # type: ignore[arg-type]
        return f"the value is not one of: {allowed}"
    if err.validator in ("anyOf", "oneOf") and err.context:
        return f"expected {_expected_of(err)}, got {_json_type(err.instance)}"
    return without_value(err.message, err.instance)  # jsonschema's wording quotes it


def schema_diagnostics(
    validator: Any,
    data: Any,
    *,
    file: str | None,
    line_of: LineOf,
    unknown: UnknownKey = unknown_field,
) -> list[Diagnostic]:
    """Every JSON Schema violation of ``data`` as a located diagnostic."""
    if satisfies(validator.schema, data):  # the quick answer for a valid document
        return []
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for top in errors:
        for err in _leaves(top):
            path = tuple(err.absolute_path)
            if err.validator == "additionalProperties":
                schema = err.schema if isinstance(err.schema, Mapping) else {}
                props = list(schema.get("properties", {}))
                for key in _extra_keys(err):
                    message, hint = unknown(path, key, props)
                    where = (*path, key)
                    diag = Diagnostic("error", message, file, line_of(where), dotted(where), hint)
                    _add(out, seen, diag)
            elif err.validator == "required" and isinstance(err.instance, Mapping):
                for key in [str(r) for r in list(err.validator_value)]:  # type: ignore[arg-type]
                    if key not in err.instance:
                        diag = Diagnostic(
                            "error",
                            f"`{key}` is required",
                            file,
                            line_of(path) or 1,
                            dotted((*path, key)),
                            f"add `{key}`",
                        )
                        _add(out, seen, diag)
            elif err.validator == "uniqueItems" and _repeated(err.instance) is not None:
                first, again = _repeated(err.instance) or (0, 0)
                where = (*path, again)
                items: Any = err.instance
                message = (
                    f"{_what_repeats(items[again])} is given twice in "
                    f"{path[-1] if path else 'the list'} (first at line "
                    f"{line_of((*path, first))})"
                )
                diag = Diagnostic(
                    "error", message, file, line_of(where), dotted(where), "remove one of them"
                )
                _add(out, seen, diag)
            else:
                where_path = dotted(path) or None
                hint = None
                allowed: list[Any] = (
                    list(err.validator_value)  # type: ignore[arg-type]
                    if err.validator == "enum"
                    else []
                )
                if allowed:
                    first = allowed[0]
                    hint = f"write one of them, e.g. `{path[-1] if path else 'value'}: {first}`"
                diag = Diagnostic("error", _describe(err), file, line_of(path), where_path, hint)
                _add(out, seen, diag)
    return out


def _add(out: list[Diagnostic], seen: set[tuple[str, str]], diag: Diagnostic) -> None:
    key = (diag.path or "", diag.message)
    if key not in seen:
        seen.add(key)
        out.append(diag)
