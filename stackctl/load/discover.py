"""Which files under the given paths are stacks, and of which kind.

File kinds, by name:

- ``*.py``: a Python stack.
- Compose: ``compose.yaml``/``.yml``, ``docker-compose.yaml``/``.yml`` and their variants
  (``compose.prod.yaml``, ``docker-compose-dev.yml``, ``prod.compose.yaml``).
- Every other ``*.yaml``, ``*.yml`` or ``*.json``: the stack format (``stackctl schema``).

A folder is ONE stack when it holds exactly one of ``compose.yaml``, ``compose.yml``,
``docker-compose.yml``, ``docker-compose.yaml``, ``stack.yaml``, ``stack.yml``,
``stack.json``, ``stack.py`` or ``__init__.py`` (a package); beside a Compose file, the
first of ``compose.override.yml``, ``compose.override.yaml``,
``docker-compose.override.yml``, ``docker-compose.override.yaml`` is merged over it, as
``docker compose`` does (a Compose file named explicitly is loaded alone, as with ``-f``).
A stack-format file under another name is read as Compose when its content is Compose
(see :func:`stackctl.load.documents.looks_like_compose`). Otherwise it is a folder of
stacks: each child, sorted by name, that is a stack file or a stack folder is loaded (one
level deep); hidden names and names starting with ``_`` (helper modules) are skipped, and so
is anything that is not ``.py``/``.yaml``/``.yml``/``.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from stackctl.errors import Diagnostic

_COMPOSE_NAME = re.compile(r"^(?:docker-)?compose(?:[.-].+)?\.ya?ml$|^.+\.compose\.ya?ml$")
_DATA_SUFFIXES = (".yaml", ".yml", ".json")

MARKERS = (
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
    "stack.yaml",
    "stack.yml",
    "stack.json",
    "stack.py",
    "__init__.py",
)
_OVERRIDES = (  # in docker compose's order of preference: the first found is merged
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)


class SourceKind(StrEnum):
    PYTHON = "python"
    PACKAGE = "package"
    COMPOSE = "compose"
    STACK = "stack"


@dataclass(frozen=True)
class Source:
    """One stack source: the path to load and how to read it."""

    path: Path
    kind: SourceKind
    overrides: tuple[Path, ...] = ()  # Compose files merged after ``path``, in order


def kind_of_file(path: Path) -> SourceKind | None:
    """The kind of a stack file by its name, or None if it is not one."""
    name = path.name.lower()
    if name.endswith(".py"):
        return SourceKind.PYTHON
    if _COMPOSE_NAME.match(name):
        return SourceKind.COMPOSE
    if name.endswith(_DATA_SUFFIXES):
        return SourceKind.STACK
    return None


def _markers(folder: Path) -> list[Path]:
    return [folder / m for m in MARKERS if (folder / m).is_file()]


def _folder_source(folder: Path, diagnostics: list[Diagnostic]) -> Source | None:
    """The one stack in a stack folder, or None (with a diagnostic if it is ambiguous)."""
    found = _markers(folder)
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        diagnostics.append(
            Diagnostic(
                "error",
                f"the folder holds more than one stack definition ({names})",
                file=str(folder),
                hint="keep one of them (after `stackctl import`, remove the compose file), "
                "or name the file to load",
            )
        )
        return None
    marker = found[0]
    overrides = [folder / name for name in _OVERRIDES if (folder / name).is_file()]
    kind = kind_of_file(marker)
    if overrides and kind != SourceKind.COMPOSE:
        diagnostics.append(
            Diagnostic(
                "error",
                f"{overrides[0].name} overrides a Compose file, and {marker.name} is not one",
                file=str(overrides[0]),
                hint=f"fold its settings into {marker.name}, then remove it",
            )
        )
        return None
    if marker.name == "__init__.py":
        return Source(folder, SourceKind.PACKAGE)
    return Source(marker, kind, tuple(overrides[:1])) if kind else None


def _skipped(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def discover(path: Path) -> tuple[list[Source], list[Diagnostic]]:
    """The stack sources under ``path`` (a file, a stack folder or a folder of stacks)."""
    diagnostics: list[Diagnostic] = []
    if path.is_file():
        kind = kind_of_file(path)
        if kind is None:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "not a stack file",
                    file=str(path),
                    hint="give a .py, .yaml, .yml or .json file, or a folder",
                )
            )
            return [], diagnostics
        return [Source(path, kind)], diagnostics
    if not path.is_dir():
        diagnostics.append(Diagnostic("error", "no such file or folder", file=str(path)))
        return [], diagnostics
    single = _folder_source(path, diagnostics)
    if single is not None or diagnostics:
        return ([single] if single else []), diagnostics
    sources: list[Source] = []
    for child in sorted(path.iterdir(), key=lambda p: p.name):
        if _skipped(child):
            continue
        if child.is_dir():
            found = _folder_source(child, diagnostics)
            if found is not None:
                sources.append(found)
        elif child.is_file():
            kind = kind_of_file(child)
            if kind is not None:
                sources.append(Source(child, kind))
    if not sources and not diagnostics:
        diagnostics.append(
            Diagnostic(
                "error",
                "no stack found in this folder",
                file=str(path),
                hint="a stack is a .py, .yaml, .yml or .json file, or a folder holding "
                + ", ".join(MARKERS[:-1])
                + " or __init__.py",
            )
        )
    return sources, diagnostics
