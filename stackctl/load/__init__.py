"""Three ways in, one model out: load Python, stack YAML/JSON and Compose files as Stacks.

    from stackctl.load import load_paths
    stacks = load_paths([Path("stacks/")])   # raises InvalidStackError with every problem

Which files are stacks, and of which kind, is decided by name (see
:mod:`stackctl.load.discover`): ``*.py`` is Python; ``compose*.y[a]ml``,
``docker-compose*.y[a]ml`` and ``*.compose.y[a]ml`` are Compose; every other ``.yaml``,
``.yml`` or ``.json`` file is the stack format (``stackctl schema``). A folder holding one
of ``compose.yaml``, ``stack.yaml``, ``stack.py``, ``__init__.py`` ... is one stack;
any other folder is a folder of stacks, loaded one level deep.

String values are interpolated as Compose does (``${VAR:-default}``, ``${VAR:?message}``,
``$$`` for a literal ``$``; see :mod:`stackctl.core.interpolate`;
``.env`` files: :mod:`stackctl.core.dotenv`), with values from the
process environment, then the ``.env`` file beside the stack. This holds for Python stacks
too (except Secret values), so a literal ``$`` in a Python string is written ``$$``.

Every returned Stack knows its origin file and the line of its attribute paths
(``stack.line_of("services.db.ports")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stackctl.errors import Diagnostic, InvalidStackError
from stackctl.load.discover import Source, SourceKind, discover, kind_of_file
from stackctl.load.options import LoadOptions, compose_file_env
from stackctl.load.outcome import Outcome
from stackctl.load.pyfile import load_python
from stackctl.model import Stack

__all__ = [
    "LoadOptions",
    "LoadResult",
    "Source",
    "SourceKind",
    "discover",
    "kind_of_file",
    "load_paths",
    "load_source",
    "load_stacks",
    "sources_for",
]


@dataclass(frozen=True)
class LoadResult:
    """Loaded stacks and the warnings found on the way (errors raise instead)."""

    stacks: list[Stack]
    warnings: list[Diagnostic] = field(default_factory=list)


def load_source(
    source: Source, *, keep_templates: bool = False, options: LoadOptions | None = None
) -> Outcome:
    """Load one discovered source. ``keep_templates``: see :func:`load_stacks`."""
    if source.kind in (SourceKind.PYTHON, SourceKind.PACKAGE):
        return load_python(source.path)
    # Imported here: a Python stack never needs the YAML parser, JSON Schemas or the
    # Compose mapping (start-up time of every command).
    from stackctl.load.documents import load_document

    return load_document(
        source.path,
        compose=source.kind == SourceKind.COMPOSE,
        keep_templates=keep_templates,
        overrides=source.overrides,
        options=options,
    )


def sources_for(
    paths: Sequence[Path], options: LoadOptions | None = None
) -> tuple[list[Source], list[Diagnostic]]:
    """The sources of a run: each PATH's, then one Compose stack of the ``-f`` files.
    With neither, the current folder as ``docker compose`` reads it: ``COMPOSE_FILE``
    (environment or ``./.env``), else the stack (and override file) found there."""
    options = options or LoadOptions()
    sources: list[Source] = []
    diagnostics: list[Diagnostic] = []
    files = options.files
    if not paths and not files:
        files = compose_file_env(Path.cwd()) or ()
        if not files:
            paths = [Path(".")]
    for path in paths:
        found, problems = discover(Path(path))
        sources += found
        diagnostics += problems
    if files:
        missing = [f for f in files if not Path(f).is_file()]
        for f in missing:
            diagnostics.append(Diagnostic("error", "no such compose file", file=str(f)))
        if not missing:
            sources.append(Source(Path(files[0]), SourceKind.COMPOSE, tuple(files[1:])))
    return sources, diagnostics


def load_stacks(
    paths: Sequence[Path],
    *,
    keep_templates: bool = False,
    options: LoadOptions | None = None,
) -> LoadResult:
    """Load every stack under ``paths``; raise InvalidStackError listing every error found.

    ``keep_templates=True`` (for ``stackctl import``) keeps ``${VAR}`` templates in free-text
    values of YAML and Compose input (environment, labels, command, entrypoint, health check
    test) instead of expanding them, so the generated source still reads the variable.
    """
    stacks: list[Stack] = []
    partial: list[Stack] = []
    diagnostics: list[Diagnostic] = []
    origins: dict[str, Path | None] = {}
    sources, found = sources_for(paths, options)
    diagnostics += found
    for source in sources:
        outcome = load_source(source, keep_templates=keep_templates, options=options)
        diagnostics += outcome.diagnostics
        partial += outcome.partial
        for stack in outcome.stacks:
            if stack.name in origins:
                diagnostics.append(
                    Diagnostic(
                        "error",
                        f"stack {stack.name!r} is defined twice (also in {origins[stack.name]})",
                        file=str(stack.origin),
                        line=stack.line_of("name"),
                        path="name",
                        hint="give each stack its own name",
                    )
                )
                continue
            origins[stack.name] = stack.origin
            stacks.append(stack)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise InvalidStackError(diagnostics, partial=[*stacks, *partial])
    return LoadResult(stacks, diagnostics)


def load_paths(paths: Sequence[Path], options: LoadOptions | None = None) -> list[Stack]:
    """Load every stack under ``paths`` (files or folders); see :func:`load_stacks`."""
    return load_stacks(paths, options=options).stacks
