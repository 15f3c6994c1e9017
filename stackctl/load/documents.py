"""Load one YAML/JSON document (stack format or Compose) into a Stack.

read -> parse with lines -> interpolate (``.env`` beside the file) -> JSON Schema
(the stack schema, or the Compose specification) -> [Compose: map onto the stack format,
report what stackctl cannot honour] -> the model. Every step reports all it finds, each
finding located by file, line and attribute path; a later step runs only when the earlier
ones found nothing that would make its findings noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stackctl.core.dotenv import variables_for
from stackctl.errors import Diagnostic
from stackctl.load import compose as compose_map
from stackctl.load.locate import schema_diagnostics, unknown_field
from stackctl.load.options import LoadOptions
from stackctl.load.outcome import Outcome
from stackctl.load.project import load_compose
from stackctl.load.reading import build_stack, interpolate, read_document
from stackctl.load.yamldoc import Document
from stackctl.schema import stack_validator


def load_document(
    path: Path,
    *,
    compose: bool,
    keep_templates: bool = False,
    display: str | None = None,
    overrides: Sequence[Path] = (),
    options: LoadOptions | None = None,
) -> Outcome:
    """Load a stack-format or Compose file (with ``overrides``: Compose files merged after
    it). A YAML file not named as Compose is read as Compose when its content says so
    (:func:`looks_like_compose`). Never raises for bad input: see the diagnostics."""
    file = display or str(path)
    if compose or overrides:
        return load_compose(
            [path, *overrides], keep_templates=keep_templates, options=options, display=display
        )
    out = Outcome()
    doc = read_document(path, file, out, compose=False)
    if doc is not None and looks_like_compose(doc.data):
        return load_compose([path], keep_templates=keep_templates, options=options, display=display)
    if doc is not None:
        _load_stack_format(doc, path, file, keep_templates, out)
    out.diagnostics.sort(key=lambda d: (d.file != file, d.line or 0))  # stable: line order
    return out


_STACK_ONLY_TOP = frozenset({"$schema", "engine"})
_COMPOSE_ONLY_TOP = frozenset({"version", "include", "configs", "models"})


def looks_like_compose(data: Any) -> bool:
    """Whether a YAML document is a Compose file whatever its name: a ``services:``
    mapping, nothing only the stack format has (``$schema``, ``engine``), and no ``name:``
    or something only Compose has (``version``, ``include``, a service key such as
    ``profiles``, ``extends``, ``build`` or ``scale``)."""
    if not isinstance(data, Mapping) or _STACK_ONLY_TOP & set(data):
        return False
    services = data.get("services")
    if not isinstance(services, Mapping):
        return False
    if "name" not in data or _COMPOSE_ONLY_TOP & set(data):
        return True
    compose_only = compose_map.compose_only_service_keys()
    return any(isinstance(svc, Mapping) and compose_only & set(svc) for svc in services.values())


def _load_stack_format(
    doc: Document, path: Path, file: str, keep_templates: bool, out: Outcome
) -> None:
    variables, dotenv_problems = variables_for(path.parent)
    for dp in dotenv_problems:
        out.diagnostics.append(
            Diagnostic("error", dp.message, str(variables.dotenv_path), dp.line, hint=dp.hint)
        )
    data = interpolate(doc, variables, keep_templates, file, out)
    if out.failed:
        return
    schema_errors = schema_diagnostics(
        stack_validator(), data, file=file, line_of=doc.line_of, unknown=unknown_field
    )
    out.diagnostics += schema_errors
    data = {k: v for k, v in data.items() if k != "$schema" and not str(k).startswith("x-")}
    if "name" not in data:
        # Reported by the schema; a name from the folder lets every other check run.
        data["name"] = compose_map.project_name(path.resolve().parent.name)
    build_stack(
        data,
        doc.data,
        dict(doc.lines),
        {},
        origin=path,
        file=file,
        variables=variables,
        keep_templates=keep_templates,
        compose=False,
        schema_errors=schema_errors,
        out=out,
    )
