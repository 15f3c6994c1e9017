"""The JSON Schema of the stack YAML/JSON format, generated from the model.

The model's own schema (``Stack.model_json_schema``) describes the canonical form only;
a person writes the friendly forms the model's validators accept (``"8080:80"`` ports,
``"./data:/data:ro"`` mounts, environment as a list, durations as numbers ...). This module
widens the generated schema to exactly those forms, so editors (through
``# yaml-language-server: $schema=...``) and the loader agree with the model.

Numbers and booleans may also be strings, as in the Compose schema: after ``${VAR}``
interpolation every value is a string, and the model reads ``"3"`` as 3. Values are
checked by the model afterwards, with its own messages.

``schemas/stack.schema.json`` in the repository is this module's output
(``stackctl schema -o schemas/stack.schema.json``); a test keeps the two equal.
"""

from __future__ import annotations

import copy
import functools
import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

from stackctl import model
from stackctl.model import build, fields, service

SCHEMA_URL = "https://raw.githubusercontent.com/stackctl/stackctl/main/schemas/stack.schema.json"
"""Where the published schema lives; used as ``$id`` and in dumped files' modeline."""

JSONDict = dict[str, Any]


def _ref(name: str) -> JSONDict:
    return {"$ref": f"#/$defs/{name}"}


_NULL: JSONDict = {"type": "null"}
_STR: JSONDict = {"type": "string"}
_STRS: JSONDict = {"type": "array", "items": _STR}
_SCALAR: JSONDict = {"type": ["string", "number", "boolean"]}
_STR_OR_LIST: JSONDict = {"anyOf": [_STR, _STRS]}


def _mapping(values: JSONDict) -> JSONDict:
    return {"type": "object", "additionalProperties": values}


def _keyed_schema(inner: Any) -> JSONDict:
    name = typing.get_args(inner)[1].__name__ if typing.get_origin(inner) is dict else "object"
    return {"anyOf": [_mapping({"anyOf": [_ref(name), _NULL]}), _NULL]}


# The input forms each of the model's "before" validators accepts.
_FRIENDLY: dict[Callable[..., Any], Callable[[Any], JSONDict]] = {
    fields._coerce_duration: lambda _: {"type": ["string", "number"]},
    fields._coerce_size: lambda _: {"type": ["string", "integer"]},
    fields._str_scalar: lambda _: _SCALAR,
    fields._command: lambda _: _STR_OR_LIST,
    fields._str_list: lambda _: _STR_OR_LIST,
    fields._kv_map: lambda _: {"anyOf": [_mapping(_SCALAR), _STRS]},
    service._environment: lambda _: {
        "anyOf": [
            _mapping({"anyOf": [_SCALAR, _ref("Secret"), _NULL]}),
            _STRS,
            _NULL,
        ]
    },
    service._ports: lambda _: {
        "type": "array",
        "items": {"anyOf": [{"type": "integer"}, _STR, _ref("Port")]},
    },
    service._mounts: lambda _: {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [_STR, _ref("Mount")]}},
            _mapping(_STR),
            _NULL,
        ]
    },
    service._service_networks: lambda _: {
        "anyOf": [_STRS, _mapping({"anyOf": [_ref("ServiceNetwork"), _NULL]}), _NULL]
    },
    fields._restart: lambda _: {"anyOf": [_STR, {"const": False}]},
    service._depends_on: lambda _: {
        "anyOf": [
            _STRS,
            _mapping({"anyOf": [_ref("Dependency"), _ref("Condition"), _NULL]}),
            _NULL,
        ]
    },
    fields._extra_hosts: lambda _: {"anyOf": [_mapping(_STR), _STRS]},
    build._build_args: lambda _: {"anyOf": [_mapping({"anyOf": [_SCALAR, _NULL]}), _STRS, _NULL]},
    build.build_form: lambda _: {"anyOf": [_STR, _ref("Build"), _NULL]},
    service._service_secrets: lambda _: {
        "type": "array",
        "items": {"anyOf": [_STR, _ref("ServiceSecret")]},
    },
    service._service_configs: lambda _: {
        "type": "array",
        "items": {"anyOf": [_STR, _ref("ServiceConfig")]},
    },
    service._ulimits: lambda _: _mapping({"anyOf": [{"type": "integer"}, _ref("Ulimit")]}),
    service._links: lambda _: _STRS,
    service._swap: lambda _: {"type": ["string", "integer"]},
    service._cpus: lambda _: {"type": ["string", "number"]},
}


def _friendly_for(func: Callable[..., Any], inner: Any) -> JSONDict | None:
    if getattr(func, "__qualname__", "").startswith("_keyed."):
        return _keyed_schema(inner)
    make = _FRIENDLY.get(func)
    return make(inner) if make else None


def _from_metadata(metadata: list[Any], inner: Any) -> JSONDict | None:
    for item in metadata:
        if isinstance(item, BeforeValidator):
            found = _friendly_for(item.func, inner)
            if found is not None:
                return found
    return None


def _friendly_annotation(tp: Any) -> JSONDict | None:
    """The input schema of a type that involves a friendly validator, else None."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(tp)
        return _from_metadata(metadata, inner) or _friendly_annotation(inner)
    if origin in (typing.Union, __import__("types").UnionType):
        members = typing.get_args(tp)
        found = [_friendly_annotation(m) for m in members]
        if not any(found):
            return None
        alternatives: list[JSONDict] = []
        for member, schema in zip(members, found, strict=True):
            if schema is not None:
                alternatives.append(schema)
            elif member is type(None):
                alternatives.append(_NULL)
            elif isinstance(member, type) and issubclass(member, BaseModel):
                alternatives.append(_ref(member.__name__))
            else:
                return None  # not expected in this model; keep pydantic's schema
        return {"anyOf": alternatives}
    if origin is list:
        item = _friendly_annotation(typing.get_args(tp)[0])
        return {"type": "array", "items": item} if item else None
    return None


def _field_schema(field: FieldInfo) -> JSONDict | None:
    return _from_metadata(list(field.metadata), field.annotation) or _friendly_annotation(
        field.annotation
    )


def _widen_scalars(node: Any) -> None:
    """``integer``/``number``/``boolean`` also accept strings (interpolated values)."""
    if isinstance(node, dict):
        kind = node.get("type")
        if isinstance(kind, str) and kind in ("integer", "number", "boolean"):
            node["type"] = [kind, "string"]
        elif (
            isinstance(kind, list)
            and "string" not in kind
            and set(kind)
            & {
                "integer",
                "number",
                "boolean",
            }
        ):
            node["type"] = [*kind, "string"]
        for key, value in node.items():
            if key not in ("enum", "const", "default", "examples"):
                _widen_scalars(value)
    elif isinstance(node, list):
        for value in node:
            _widen_scalars(value)


def _models() -> dict[str, type[BaseModel]]:
    out: dict[str, type[BaseModel]] = {}
    for name in dir(model):
        value = getattr(model, name)
        if (
            isinstance(value, type)
            and issubclass(value, BaseModel)
            and value.__module__.startswith(f"{model.__name__}.")
        ):
            out[value.__name__] = value
    return out


def _keep_doc(old: JSONDict, new: JSONDict) -> JSONDict:
    for key in ("title", "description", "default"):
        if key in old and key not in new:
            new[key] = old[key]
    return new


@functools.cache
def _generate() -> str:
    schema = model.Stack.model_json_schema(mode="validation")
    defs: JSONDict = schema.setdefault("$defs", {})
    classes = _models()
    for name, definition in [("Stack", schema), *defs.items()]:
        cls = classes.get(name)
        if cls is None:
            continue
        props: JSONDict = definition.get("properties", {})
        for field_name, field in cls.model_fields.items():
            friendly = _field_schema(field)
            if friendly is not None and field_name in props:
                props[field_name] = _keep_doc(props[field_name], copy.deepcopy(friendly))

    # Field validators that accept more than the annotation says.
    hc = defs["Healthcheck"]["properties"]
    hc["test"] = _keep_doc(hc["test"], {"anyOf": [_STR, _STRS, _NULL]})
    net = defs["Network"]["properties"]
    net["ipam"] = _keep_doc(net["ipam"], {"anyOf": [_ref("Ipam"), _ref("IpamPool"), _NULL]})
    # Compose's service-level tmpfs, folded into tmpfs mounts by the model.
    defs["Service"]["properties"]["tmpfs"] = {
        **_STR_OR_LIST,
        "description": "tmpfs mounts: '/run' or '/run:size=64m'.",
    }
    # Compose's long mount syntax extras.
    defs["Mount"]["properties"].update(
        {
            "bind": {
                "type": "object",
                "properties": {
                    "create_host_path": {"type": "boolean"},
                    "propagation": {"enum": list(service.PROPAGATIONS)},
                    "selinux": {"enum": ["z", "Z"]},
                },
                "additionalProperties": False,
            },
            "volume": {
                "type": "object",
                "properties": {"nocopy": {"type": "boolean"}, "subpath": _STR},
                "additionalProperties": False,
            },
            "tmpfs": {
                "type": "object",
                "properties": {
                    "size": {"type": ["string", "integer"]},
                    "mode": {"type": ["string", "integer"]},
                },
                "additionalProperties": False,
            },
            "consistency": _STR,
        }
    )
    mount = defs["Mount"]["properties"]  # tmpfs_mode: a number, or a string read as Go does
    mount["tmpfs_mode"] = _keep_doc(mount["tmpfs_mode"], {"type": ["string", "integer", "null"]})
    # In the mapping form the key names the item; its name/key field is optional.
    for name, key in (
        ("Service", "name"),
        ("Network", "key"),
        ("Volume", "key"),
        ("SecretSource", "key"),
        ("ConfigSource", "key"),
    ):
        required = [r for r in defs[name].get("required", []) if r != key]
        if required:
            defs[name]["required"] = required
        else:
            defs[name].pop("required", None)

    _widen_scalars(schema)
    schema["properties"] = {
        "$schema": {"type": "string", "description": "The schema of this file (JSON)."},
        **schema["properties"],
    }
    schema["patternProperties"] = {"^x-": {"description": "Extension: ignored (for YAML anchors)."}}
    out: JSONDict = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URL,
        "title": "stackctl stack",
        "description": (
            "A stackctl stack in YAML or JSON: the typed stack model's own format. "
            "Generated by `stackctl schema`; do not edit."
        ),
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


def schema_text() -> str:
    """The schema as the exact text committed in ``schemas/stack.schema.json``."""
    return _generate()


def stack_schema() -> JSONDict:
    """The schema as data (a fresh copy)."""
    result: JSONDict = json.loads(_cached_text())
    return result


# What the generated schema depends on: the model, this module and what they import.
_SOURCES = ("model", "schema.py", "units.py", "core/redact.py")


@functools.cache
def _cached_text() -> str:
    """:func:`_generate`'s text, kept in the user's cache: generating it asks pydantic for
    the model's JSON schema, about 0.25 s, on every run that reads a stack file. The file
    is named by a hash of pydantic's version and of the sources the schema comes from, so
    an edited model or another pydantic never reads a stale schema."""
    import hashlib

    import pydantic

    from stackctl import schema_check

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(pydantic.VERSION.encode())
    for name in _SOURCES:
        part = root / name
        for source in sorted(part.glob("*.py")) if part.is_dir() else [part]:
            digest.update(f"\0{source.relative_to(root)}\0".encode())
            digest.update(source.read_bytes())
    path = schema_check.cache_dir() / f"stack-schema_{digest.hexdigest()[:32]}.json"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeError):  # not cached yet, or unreadable: generate (again)
        text = _generate()
        schema_check.store(path, text.encode())
        return text


class SchemaValidator:
    """A JSON Schema and its jsonschema validator, made on first use.

    A valid document never needs jsonschema: the compiled check (``schema_check``) answers
    yes first, so importing jsonschema and building its validator (about 0.1 s) waits until
    a document fails, or a caller asks for the errors."""

    def __init__(self, schema: JSONDict, make: Callable[[JSONDict], Any]) -> None:
        self.schema = schema
        self._make = make
        self._validator: Any = None

    def iter_errors(self, instance: Any) -> Any:
        if self._validator is None:
            self._validator = self._make(self.schema)
        return self._validator.iter_errors(instance)


def _checked_validator(schema: JSONDict) -> Any:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _draft7_validator(schema: JSONDict) -> Any:
    import jsonschema

    # The file declares draft-07 by an https URL that jsonschema does not recognise.
    return jsonschema.Draft7Validator(schema)


@functools.cache
def stack_validator() -> SchemaValidator:
    """A reusable JSON Schema validator for stack documents."""
    return SchemaValidator(stack_schema(), _checked_validator)


@functools.cache
def compose_validator() -> SchemaValidator:
    """A reusable validator for the Compose specification shipped in ``stackctl/data``."""
    import importlib.resources

    text = importlib.resources.files("stackctl").joinpath("data/compose-spec.json").read_text()
    return SchemaValidator(json.loads(text), _draft7_validator)
