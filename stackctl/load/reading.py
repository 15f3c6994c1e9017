"""Reading one document and turning checked data into a Stack: the steps the stack
format (:mod:`stackctl.load.documents`) and Compose projects (:mod:`stackctl.load.project`)
share. Every finding is located by file, line and attribute path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stackctl.core.dotenv import Variables
from stackctl.core.interpolate import fills_secret, interpolate_tree, is_template_position
from stackctl.errors import Diagnostic, did_you_mean
from stackctl.load import compose as compose_map
from stackctl.load.locate import pydantic_diagnostics, unknown_field
from stackctl.load.outcome import Outcome, dotted, interpolation_diagnostics, nearest_line
from stackctl.load.yamldoc import Document, parse_json, parse_yaml
from stackctl.model import Secret, Stack


def read_document(path: Path, file: str, out: Outcome, *, compose: bool) -> Document | None:
    """Read and parse one file; None (with the problems in ``out``) if it cannot be."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        line = e.object.count(b"\n", 0, e.start) + 1
        message = f"the file is not UTF-8 text (byte 0x{e.object[e.start]:02x})"
        out.diagnostics.append(Diagnostic("error", message, file, line, hint="save it as UTF-8"))
        return None
    except OSError as e:
        out.diagnostics.append(Diagnostic("error", f"cannot read the file: {e}", file=file))
        return None
    doc = parse_json(text) if path.suffix.lower() == ".json" else parse_yaml(text)
    for p in doc.problems:
        out.diagnostics.append(Diagnostic("error", p.message, file, p.line, p.path, p.hint))
    if doc.problems:
        return None
    if not isinstance(doc.data, Mapping):
        what = "empty" if doc.data is None else "not a mapping"
        hint = "start with `services:`" if compose else "start with `name:` and `services:`"
        out.diagnostics.append(Diagnostic("error", f"the file is {what}", file, 1, hint=hint))
        return None
    return doc


def build_stack(
    data: dict[str, Any],
    raw: Any,
    lines: dict[str, int],
    files: dict[str, str],
    *,
    origin: Path,
    file: str,
    variables: Variables,
    keep_templates: bool,
    compose: bool,
    schema_errors: list[Diagnostic],
    out: Outcome,
) -> None:
    """Checked data (Compose: merged) to a Stack in ``out``; ``files`` says which file
    each attribute path came from when not ``file`` (merged Compose files)."""

    def file_of(p: str | None) -> str:
        if p is None:
            return file
        parts = p.split(".")
        while parts:
            found = files.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return file

    if compose:
        mapped = compose_map.compose_to_stack(data, default_name=origin.resolve().parent.name)
        for u in mapped.problems:
            where = dotted(u.path)
            out.diagnostics.append(
                Diagnostic(
                    "error", u.message, file_of(where), nearest_line(lines, u.path), where, u.hint
                )
            )
        for stack_path, compose_path in mapped.renamed.items():
            if compose_path in lines:
                lines[stack_path] = lines[compose_path]
            if compose_path in files:
                files[stack_path] = files[compose_path]
        data = mapped.data
    _resolve_bare_environment(data, variables, keep_templates)
    if not keep_templates:
        _mark_secrets(data, raw)

    try:
        stack = Stack.model_validate(data)
    except ValidationError as e:
        found = pydantic_diagnostics(
            e,
            data=data,
            file=file,
            line_of=lambda p: nearest_line(lines, p),
            root=Stack,
            unknown=compose_map.unsupported_wording if compose else unknown_field,
        )
        # The schema has spoken about these paths already; the model's view is noise there.
        out.diagnostics += [
            replace(d, file=file_of(d.path)) for d in found if not _covered(d, schema_errors)
        ]
        return
    except (TypeError, AttributeError, KeyError):
        # A model validator tripped over data of the wrong shape. If the schema has already
        # said what is wrong, that is enough; otherwise it is a bug and must show.
        if schema_errors or out.failed:
            return
        raise
    stack.with_origin(origin, lines, variables.secret_values, files=files)
    if not out.failed:
        out.stacks.append(stack)
    elif all(_name_only(d) for d in out.diagnostics if d.severity == "error"):
        out.partial.append(stack)  # checked by the rules too: a missing name hides nothing


def _name_only(d: Diagnostic) -> bool:
    return d.path == "name" and d.message == "`name` is required"


def _covered(diag: Diagnostic, earlier: list[Diagnostic]) -> bool:
    if diag.path is None:
        return bool(earlier)
    return any(
        e.path is not None
        and (
            diag.path == e.path
            or diag.path.startswith(e.path + ".")
            or e.path.startswith(diag.path + ".")
        )
        for e in earlier
    )


def interpolate(
    doc: Document, variables: Variables, keep_templates: bool, file: str, out: Outcome
) -> Any:
    result = interpolate_tree(
        doc.data, variables.lookup, keep=is_template_position if keep_templates else None
    )
    out.diagnostics += interpolation_diagnostics(result, variables, file, doc.line_of)
    return result.data


def unknown_compose_key(
    path: tuple[str | int, ...], key: str, known: Any
) -> tuple[str, str | None]:
    return f"`{key}` is not a Compose key", did_you_mean(key, list(known)) or "remove it"


def _resolve_bare_environment(data: Any, variables: Variables, keep_templates: bool) -> None:
    """``environment: [FOO]`` / ``FOO:`` take FOO from the process environment or ``.env``.

    When keeping templates (import), they become ``FOO=${FOO}`` so no value is baked in.
    """
    services = data.get("services") if isinstance(data, Mapping) else None
    if not isinstance(services, dict):
        return
    for svc in services.values():
        env = svc.get("environment") if isinstance(svc, dict) else None
        if isinstance(env, list):
            svc["environment"] = [_bare_item(item, variables, keep_templates) for item in env]
        elif isinstance(env, dict):
            for key, value in env.items():
                if value is None:
                    found = f"${{{key}}}" if keep_templates else variables.lookup(key)
                    env[key] = found
            svc["environment"] = {k: v for k, v in env.items() if v is not None}


def _bare_item(item: Any, variables: Variables, keep_templates: bool) -> Any:
    if not isinstance(item, str) or "=" in item:
        return item
    if keep_templates:
        return f"{item}=${{{item}}}"
    value = variables.lookup(item)
    return item if value is None else f"{item}={value}"


def _mark_secrets(data: Any, raw: Any) -> None:
    """Environment values filled from a secret-looking variable become Secrets (fills_secret).

    ``raw`` is the document before interpolation: ``AUTH: "Bearer ${API_TOKEN}"`` or
    ``- URL=postgres://u:${DB_PASSWORD}@db`` (a list becomes a mapping to hold a Secret).
    """
    services = data.get("services") if isinstance(data, Mapping) else None
    raw_services = raw.get("services") if isinstance(raw, Mapping) else None
    if not isinstance(services, dict) or not isinstance(raw_services, Mapping):
        return
    for name, svc in services.items():
        raw_svc = raw_services.get(name)
        env = svc.get("environment") if isinstance(svc, dict) else None
        raw_env = raw_svc.get("environment") if isinstance(raw_svc, Mapping) else None
        if isinstance(env, dict) and isinstance(raw_env, Mapping):
            for key, value in env.items():
                if isinstance(value, str) and fills_secret(key, raw_env.get(key)):
                    env[key] = Secret(value)
        elif isinstance(env, list) and isinstance(raw_env, list) and len(env) == len(raw_env):
            items = list(zip(env, raw_env, strict=True))
            if not all(isinstance(item, str) for item, _ in items):
                continue  # the model reports it
            if not any(fills_secret(i.partition("=")[0], r) for i, r in items):
                continue
            mapping: dict[str, Any] = {}
            for item, raw_item in items:
                key, sep, value = item.partition("=")
                if not sep:
                    mapping[key] = None  # unset: as in the list form, taken from os.environ
                else:
                    mapping[key] = Secret(value) if fills_secret(key, raw_item) else value
            svc["environment"] = mapping
