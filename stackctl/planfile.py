"""Saved plans (``stackctl plan -o FILE``), applied later with ``stackctl apply FILE``.

A plan file holds the redacted JSON plan, the stack paths it came from and the
fingerprint of what the daemon held. It never holds secret values: applying it loads the
stacks again, re-observes the daemon, plans again and refuses unless both the
fingerprint and the operations (ids, kinds, config hashes and steps) are the same.
Written with mode 0600.

``version`` is the file's own format: 2 since operations carry their steps (a paused
container is unpaused by its own kind). A file of another version is refused with a
clear message rather than compared (and called stale) field by field.

Reading one (:func:`read_plan`) checks the whole file against :func:`schema` (committed as
``schemas/plan.schema.json``; ``python -m stackctl.planfile`` writes it) before any field
is used: anything else is "not a valid plan file: what, at which JSON path", exit 1,
never a traceback. A file is taken for a plan by its content (:func:`is_plan_file`): one
whose name is not a stack file's is read as a plan (there is nothing else it could be);
one named like a stack file (``*.json``, ``*.yaml``) only when it is a JSON object whose
``kind`` is the plan marker and that holds a plan file's other keys.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackctl.core.plan import Kind, Plan, Step
from stackctl.core.redact import redact_known
from stackctl.errors import LoadError, StalePlanError
from stackctl.load.discover import kind_of_file
from stackctl.model import Condition
from stackctl.render import PLAN_FORMAT_VERSION, plan_json

if TYPE_CHECKING:  # jsonschema is imported where a saved plan is read, not on every run
    import jsonschema

    from stackctl.load.options import LoadOptions

MAGIC = "stackctl-plan"
VERSION = 2


def save(
    path: Path,
    plan: Plan,
    sources: list[Path],
    options: dict[str, Any],
    load: LoadOptions | None = None,
) -> None:
    """``load``: the ``-f`` files and ``--profile`` names the plan was made with (the files
    are listed in ``sources`` too, after the paths)."""
    options = dict(options)
    files = [str(p.resolve()) for p in (load.files if load else ())]
    if files:
        options["files"] = files
    if load and load.profiles:
        options["profiles"] = list(load.profiles)
    data = {
        "kind": MAGIC,
        "version": VERSION,
        "sources": [str(p.resolve()) for p in sources] + files,
        "options": options,
        "plan": redact_known(plan_json(plan)),  # the run's one redaction pass, as printed
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")


SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "plan.schema.json"
"""Where the schema is committed (beside the stack schema), for editors and other tools."""

_KEYS = frozenset({"version", "sources", "options", "plan"})
"""A plan file's keys besides ``kind``: with the marker, they tell a plan from a stack."""

_HINT = "make the plan again with `stackctl plan -o FILE`, review it, then apply it"


def schema() -> dict[str, Any]:
    """The JSON Schema of a plan file, as :func:`save` writes it."""
    text = {"type": "string"}
    strings = {"type": "array", "items": text}
    count = {"type": "integer", "minimum": 0}
    change = {
        "type": "object",
        "required": ["path", "old", "new", "sensitive"],
        "properties": {"path": text, "old": {}, "new": {}, "sensitive": {"type": "boolean"}},
        "additionalProperties": False,
    }
    operation = {
        "type": "object",
        "required": ["id", "kind", "action", "resource", "reason", "changes", "depends_on"],
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "kind": {"enum": [k.value for k in Kind]},
            "action": text,
            "resource": {
                "type": "object",
                "required": ["type", "name", "stack"],
                "properties": {
                    "type": text,
                    "name": text,
                    "stack": {"type": ["string", "null"]},  # a pull serves every stack
                    "service": text,
                },
                "additionalProperties": False,
            },
            "reason": text,
            "changes": {"type": "array", "items": change},
            "depends_on": strings,
            "config_hash": {"type": ["string", "null"]},
            "version": {"type": "integer"},
            "wait": {
                "type": "object",
                "required": ["service", "condition", "containers"],
                "properties": {
                    "service": {"type": ["string", "null"]},
                    "condition": {"enum": [*(c.value for c in Condition), None]},
                    "containers": strings,
                },
                "additionalProperties": False,
            },
            "target_id": text,
            "steps": {"type": "array", "items": {"enum": [s.value for s in Step]}},
            "rollback": {"type": "array", "items": {"enum": [s.value for s in Step]}},
            "notes": strings,
        },
        "additionalProperties": False,
    }
    summary_keys = ["add", "change", "replace", "destroy", "pull", "build", "wait", "adopt"]
    plan = {
        "type": "object",
        "required": [
            *("format_version", "stacks", "destroy", "fingerprint", "api_version"),
            *("has_changes", "summary", "operations", "unchanged", "warnings"),
        ],
        "properties": {
            "format_version": {"const": PLAN_FORMAT_VERSION},
            "stacks": strings,
            "destroy": {"type": "boolean"},
            "fingerprint": {"type": "string", "minLength": 1},
            "api_version": text,
            "has_changes": {"type": "boolean"},
            "summary": {
                "type": "object",
                # build, adopt: added later (older saved plans lack them)
                "required": [k for k in summary_keys if k not in ("build", "adopt")],
                "properties": dict.fromkeys(summary_keys, count),
                "additionalProperties": False,
            },
            "operations": {"type": "array", "items": operation},
            "unchanged": strings,
            "warnings": strings,
            "targets": strings,
            "target_services": strings,
            "orphans": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "name", "stack", "service"],
                    "properties": {
                        "type": {"enum": ["container", "service", "network", "secret"]},
                        "name": {"type": "string"},
                        "stack": {"type": ["string", "null"]},
                        "service": {"type": ["string", "null"]},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://stackctl.dev/schemas/plan.schema.json",
        "title": "stackctl saved plan (stackctl plan -o FILE)",
        "type": "object",
        "required": ["kind", "version", "sources", "options", "plan"],
        "properties": {
            "kind": {"const": MAGIC},
            "version": {"const": VERSION},
            "sources": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "pattern": "^/[^\\u0000]*$"},
            },
            "options": {
                "type": "object",
                "properties": {
                    "prune": {"type": "boolean"},
                    "no_build": {"type": "boolean"},
                    "pull": {"type": "boolean"},
                    "adopt": {"type": "boolean"},
                    "target": strings,
                    "replace": strings,
                    "files": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^/[^\\u0000]*$"},
                    },
                    "profiles": {"type": "array", "items": {"type": "string"}},
                },
                "additionalProperties": False,
            },
            "plan": plan,
        },
        "additionalProperties": False,
    }


def load_options_of(saved: dict[str, Any]) -> LoadOptions:
    """The ``-f`` files and ``--profile`` names a saved plan was made with."""
    from stackctl.load.options import LoadOptions

    options = saved.get("options", {})
    files = tuple(Path(f) for f in options.get("files", []))
    return LoadOptions(files, tuple(options.get("profiles", [])))


def sources_of(saved: dict[str, Any]) -> list[Path]:
    """The PATHs a saved plan was made from (its ``-f`` files aside)."""
    files = set(saved.get("options", {}).get("files", []))
    return [Path(p) for p in saved["sources"] if p not in files]


def _parse(path: Path) -> Any:
    """The file's JSON; PlanFileError on anything that is not JSON text."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise _invalid(path, f"cannot read it ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _invalid(path, f"not UTF-8 text (byte {e.start + 1})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise _invalid(path, f"not JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except (RecursionError, ValueError) as e:  # nested too deeply; numbers too long
        raise _invalid(path, f"not JSON stackctl can read ({type(e).__name__})") from None


def _invalid(path: Path, what: str) -> LoadError:
    return LoadError(f"{path}: not a valid plan file: {what}", hint=_HINT)


def _marked(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == MAGIC and bool(_KEYS & data.keys())


def is_plan_file(path: Path) -> bool:
    """Whether ``apply`` should read ``path`` as a saved plan: by content, never by suffix.

    A file named like no stack file (``plan.bin``, ``saved.plan``) can only be a plan, so
    it is read as one (and refused as "not a valid plan file" if it is not). A file named
    like a stack (``*.json``, ``*.yaml``, ``*.py``) is a plan only when it is a JSON
    object with the plan marker as its ``kind`` and a plan file's keys.
    """
    if not path.is_file():
        return False
    if kind_of_file(path) is None:
        return True
    try:
        return _marked(_parse(path))
    except LoadError:
        return False


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _describe(error: jsonschema.ValidationError) -> str:
    """What is wrong, without the value (a hand-edited file may hold anything)."""
    where = error.json_path
    validator = str(error.validator)
    wanted: Any = error.validator_value
    instance: Any = error.instance
    rule: Any = error.schema
    keys = list(instance) if isinstance(instance, dict) else []
    if validator == "required":
        missing = [k for k in wanted if k not in keys]
        return f"missing {', '.join(repr(k) for k in missing)} at {where}"
    if validator == "additionalProperties":
        known = rule.get("properties", {}) if isinstance(rule, dict) else {}
        extra = sorted(str(k) for k in keys if k not in known)
        return f"unknown key {', '.join(repr(k) for k in extra)} at {where}"
    if validator == "type":
        want = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"expected {want}, got {_type_name(instance)} at {where}"
    if validator in ("const", "enum"):
        return f"not an allowed value at {where}"
    if validator == "pattern":
        return f"not an absolute path without NUL characters at {where}"
    if validator in ("minItems", "minLength"):
        return f"empty at {where}"
    return f"fails {validator} at {where}"


def read_plan(path: Path) -> dict[str, Any]:
    """The saved plan in ``path``, its whole shape checked against :func:`schema`;
    LoadError ("not a valid plan file: what, at which JSON path") on anything else."""
    data = _parse(path)
    if not isinstance(data, dict):
        raise _invalid(path, f"expected a JSON object, got {_type_name(data)} at $")
    if data.get("kind") != MAGIC:
        raise _invalid(path, f'no "kind": "{MAGIC}" at $ (not written by `stackctl plan -o`)')
    version = data.get("version", 1)
    if isinstance(version, int) and not isinstance(version, bool) and version != VERSION:
        raise LoadError(
            f"{path}: not a valid plan file: it is of format {version}; this stackctl reads "
            f"format {VERSION}",
            hint=_HINT,
        )
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise _invalid(path, _describe(error))
    return data


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    import jsonschema

    spec = schema()
    cls = jsonschema.validators.validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def _shape(plan: dict[str, Any]) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
    return [
        (op["id"], op["kind"], op.get("config_hash"), tuple(op.get("steps", ())))
        for op in plan["operations"]
    ]


def check_fresh(saved: dict[str, Any], current: Plan) -> None:
    """Refuse a saved plan when the daemon or the stacks changed since it was made."""
    old = saved["plan"]
    if old["fingerprint"] != current.fingerprint:
        raise StalePlanError(
            "the saved plan is stale: the daemon changed since it was made",
            hint="run stackctl plan again and review the new plan",
        )
    if _shape(old) != _shape(plan_json(current)):
        raise StalePlanError(
            "the saved plan is stale: the stacks changed since it was made",
            hint="run stackctl plan again and review the new plan",
        )


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(json.dumps(schema(), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":  # python -m stackctl.planfile [PATH]
    write_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH)
