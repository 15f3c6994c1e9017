"""``stackctl import FILE [-o OUT] [--force]``: a compose or stack file as typed Python.

``${VAR}`` templates in free-text values (environment, labels, command, entrypoint,
health check test) are kept as written, so a password stays a variable rather than
becoming a value in the source; everything else is expanded as when loading.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from stackctl.cli import app
from stackctl.cli.common import Files, Profiles, load_options
from stackctl.codegen import to_python
from stackctl.core.redact import MIN_REDACTED, known
from stackctl.core.service_config import stack_secrets
from stackctl.errors import Diagnostic, InvalidStackError, StackctlError
from stackctl.load import LoadOptions, SourceKind, discover, load_source, sources_for


def import_stack(source: Path, options: LoadOptions | None = None) -> tuple[str, list[Diagnostic]]:
    """The Python source for the one stack in ``source``, and the warnings on the way.
    ``options``: ``-f`` files (then ``source`` is the first of them) and ``--profile``.

    The stack must pass what ``validate`` checks (the same load, rules and desired state):
    a file validate refuses is refused here with the same findings."""
    from stackctl import pipeline

    if options is not None and options.files:
        sources, diagnostics = sources_for([], options)
    else:
        sources, diagnostics = discover(source)
    if diagnostics:
        raise InvalidStackError(diagnostics)
    if len(sources) != 1:
        names = ", ".join(str(s.path) for s in sources)
        raise StackctlError(
            f"{source} holds {len(sources)} stacks ({names})",
            hint="import one stack at a time: name its file",
        )
    keep = sources[0].kind not in (SourceKind.PYTHON, SourceKind.PACKAGE)
    outcome = load_source(sources[0], keep_templates=keep, options=options)
    if outcome.failed:
        raise InvalidStackError(outcome.diagnostics)
    if len(outcome.stacks) != 1:
        raise StackctlError(
            f"{source} defines {len(outcome.stacks)} stacks",
            hint="import a file that defines one stack",
        )
    checked = pipeline.validated(outcome.stacks)  # validate's rules and desired state
    if checked.errors:
        raise InvalidStackError(checked.diagnostics)
    stack_secrets(outcome.stacks[0])  # env_file values and secret files become known too
    code = to_python(outcome.stacks[0], keep_templates=keep, source=str(source))
    refuse_secret_values(code, source)
    return code, outcome.diagnostics


_SECRET_CALL = re.compile(r"""Secret\(\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*\)""")


def refuse_secret_values(code: str, source: Path) -> None:
    """The generated Python holds a secret value only inside ``Secret(...)`` (where the
    source file held it too): a value of a secret-looking variable, a ``.env`` secret or a
    typed Secret expanded anywhere else (an image, a port, a label...) is refused, with the
    generated lines it would be on, rather than written or printed."""
    values = known()
    short = {v for v in values.values if len(v.strip()) < MIN_REDACTED}
    pattern = values.pattern()
    lines = []
    for n, line in enumerate(code.splitlines(), start=1):
        rest = _SECRET_CALL.sub("Secret(...)", line)
        literals = set(re.findall(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", rest))
        words = {w.replace("$$", "$") for pair in literals for w in pair if w}
        if (pattern is not None and pattern.search(rest)) or words & short:
            lines.append(n)
    if lines:
        raise StackctlError(
            f"the Python made from {source} would hold a secret value outside Secret(...) "
            f"(generated line(s) {', '.join(map(str, lines))}); nothing was written",
            hint="use the secret-looking variable only in environment, or as a whole value "
            "(${NAME}) in command, labels or health checks, where it stays a variable",
        )


@app.command("import")
def import_command(
    source: Annotated[
        Path | None,
        typer.Argument(
            help="A compose file, a stack YAML/JSON file or a stack folder.", show_default=False
        ),
    ] = None,
    files: Files = None,
    profiles: Profiles = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the Python to FILE instead of stdout."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Convert a compose (or stack YAML) file to a typed Python stack."""
    options = load_options(files, profiles)
    if source is None and not files:
        raise StackctlError("give the file to import", hint="stackctl import compose.yaml")
    source = source or options.files[0]
    code, warnings = import_stack(source, options)
    for d in warnings:
        print(d.format(), file=sys.stderr)
    if output is None:
        sys.stdout.write(code)
        return
    if output.exists() and not force:
        raise StackctlError(
            f"{output} exists; nothing was written", hint="pass --force to replace it"
        )
    output.write_text(code, encoding="utf-8")
    note = f"wrote {output}; check it with `stackctl validate {output}`"
    src_folder = source if source.is_dir() else source.parent
    if output.resolve().parent == src_folder.resolve():
        note += f", then remove {source} (a folder holding two stack definitions is ambiguous)"
    typer.echo(note, err=True)
