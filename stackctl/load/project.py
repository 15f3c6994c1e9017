"""A Compose project as ``docker compose`` loads it: several files merged, ``include``,
``extends``, profiles and the project name (compose-go's ``loader`` package, in its order).

For each file, in order: read, interpolate (the ``.env`` beside the first file), one item
per identity in each list (:func:`stackctl.load.merge.enforce_unicity`), the Compose JSON
Schema, ``include``, ``extends``; then merged into the files before it
(:mod:`stackctl.load.merge`).
Then the project name, the profiles, and the mapping onto the stack format. Every value
keeps its file and line, so a finding points into the file that set it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stackctl.core.dotenv import DotenvError, Variables, read_dotenv_file, variables_for
from stackctl.errors import Diagnostic
from stackctl.load import reading
from stackctl.load.compose import EXTENSION
from stackctl.load.merge import (
    Flat,
    MergeError,
    Node,
    Path_,
    Repeat,
    enforce_unicity,
    flat_of_one_file,
    flatten,
    has_repeats,
    merge,
    to_node,
)
from stackctl.load.options import LoadOptions
from stackctl.load.outcome import Outcome, dotted, nearest_line

ENV_PROJECT_NAME = "COMPOSE_PROJECT_NAME"
ENV_PROFILES = "COMPOSE_PROFILES"

OVERRIDE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
"""The override files ``docker compose`` merges after the main file found in a folder."""


def normalize_project_name(text: str) -> str:
    """compose-go's ``NormalizeProjectName``: lowercase, only ``[a-z0-9_-]``, no leading
    ``_``/``-``."""
    return re.sub(r"[^a-z0-9_-]", "", text.lower()).lstrip("_-")


@dataclass
class _File:
    """One compose file after its own steps: its tree and the ``name:`` it gives."""

    file: str
    name: tuple[str, int | None] | None
    # the file's flattened tree when neither `include` nor `extends` changed the node
    # after it was flattened (a single such file is then not flattened a second time)
    flat: Flat | None
    # its located tree (merging, include); built on first use when the file did not need
    # one of its own (a single file without include, extends or repeated items)
    locate: Callable[[], Node]
    _node: Node | None = None

    @property
    def node(self) -> Node:
        if self._node is None:
            self._node = self.locate()
        return self._node


@dataclass
class _Project:
    out: Outcome
    variables: Variables
    keep_templates: bool
    schema_errors: list[Diagnostic] = field(default_factory=list)
    included: tuple[str, ...] = ()  # the files being loaded, outermost first (cycles)
    home: Path | None = None  # the including project's folder (paths are rebased to it)


def load_compose(
    paths: Sequence[Path],
    *,
    keep_templates: bool = False,
    options: LoadOptions | None = None,
    display: str | None = None,
) -> Outcome:
    """Load the compose files ``paths`` (merged in order) as one stack."""
    options = options or LoadOptions()
    out = Outcome()
    main = paths[0]
    main_file = display or str(main)
    variables, dotenv_problems = variables_for(main.resolve().parent)
    for dp in dotenv_problems:
        out.diagnostics.append(
            Diagnostic("error", dp.message, str(variables.dotenv_path), dp.line, hint=dp.hint)
        )
    project = _Project(
        out, variables, keep_templates, included=(str(main.resolve()),), home=main.resolve().parent
    )
    merged: Node | None = None
    names: list[tuple[str, str, int | None]] = []
    loaded_files: list[_File] = []
    for i, path in enumerate(paths):
        loaded = _load_file(path, main_file if i == 0 else str(path), project)
        if loaded is None:
            continue
        loaded_files.append(loaded)
        if loaded.name is not None:
            names.append((loaded.name[0], loaded.file, loaded.name[1]))
        if len(paths) == 1:
            continue  # nothing to merge it with
        try:
            merged = merge(merged, loaded.node) if merged is not None else loaded.node
        except MergeError as e:
            out.diagnostics.append(
                Diagnostic("error", str(e), e.node.file, e.node.line, dotted(e.path))
            )
    schema_only = all(d in project.schema_errors for d in out.diagnostics if d.severity == "error")
    if not schema_only or not loaded_files:
        return _sorted(out, main_file)
    single = loaded_files[0] if len(paths) == 1 else None
    if single is not None and single.flat is not None:
        flat = single.flat  # one file, unchanged since its own flatten: already unique
    else:
        tree = single.node if single is not None else merged
        if tree is None:
            return _sorted(out, main_file)
        enforce_unicity(tree)
        flat = flatten(tree)
    data: dict[str, Any] = flat.data
    name = _project_name(names, variables, main, main_file, out)
    before = len(out.diagnostics)
    _apply_profiles(data, flat.files, flat.lines, options, variables, out, main_file)
    if len(out.diagnostics) > before or name is None:
        return _sorted(out, main_file)
    data["name"] = name
    flat.lines.setdefault("name", 1)
    reading.build_stack(
        data,
        flat.raw,
        flat.lines,
        flat.files,
        origin=main,
        file=main_file,
        variables=variables,
        keep_templates=keep_templates,
        compose=True,
        schema_errors=project.schema_errors,
        out=out,
    )
    return _sorted(out, main_file)


def _sorted(out: Outcome, main_file: str) -> Outcome:
    out.diagnostics.sort(key=lambda d: (d.file != main_file, d.file or "", d.line or 0))
    return out


def _load_file(path: Path, file: str, project: _Project) -> _File | None:
    """One file: read, interpolate, unicity, schema, extends. None when it has errors."""
    from stackctl.load.locate import schema_diagnostics
    from stackctl.schema import compose_validator

    out = project.out
    before = len(out.diagnostics)
    doc = reading.read_document(path, file, out, compose=True)
    if doc is None:
        return None
    data = reading.interpolate(doc, project.variables, project.keep_templates, file, out)
    if any(d.severity == "error" for d in out.diagnostics[before:]):
        return None
    plain = _without_extensions(data)

    def located() -> Node:
        tree = to_node(plain, doc.data, doc.line_of, file)
        enforce_unicity(tree)  # its repeats were reported when the file was read
        return tree

    node: Node | None = None
    if _has_include_or_extends(plain) or has_repeats(plain):
        node = to_node(plain, doc.data, doc.line_of, file)
        for repeat in enforce_unicity(node):
            out.diagnostics.append(_repeat_warning(repeat))
        flat = flatten(node)
    else:  # the same Flat as flatten(located()) gives, without building the located tree
        # (``plain`` is shared: ``located`` must run before the Flat's data is changed,
        # as load_compose's merge and include's loop do, right after the file is read)
        flat = flat_of_one_file(plain, doc.data, doc.lines)
    errors = schema_diagnostics(
        compose_validator(),
        flat.data,
        file=file,
        line_of=lambda p: nearest_line(flat.lines, p),
        unknown=reading.unknown_compose_key,
    )
    out.diagnostics += errors
    project.schema_errors += errors
    unchanged = not _has_include_or_extends(flat.data)
    if not errors and node is not None:
        _apply_include(node, path, project)
        _apply_extends(node, path, project)
    raw_name = flat.data.get("name")
    extension = flat.data.get(EXTENSION)
    if raw_name in (None, "") and isinstance(extension, Mapping):
        raw_name = extension.get("name")  # what `stackctl export` writes (1.29 has no name:)
    name = (str(raw_name), flat.lines.get("name")) if raw_name not in (None, "") else None
    if any(d.severity == "error" and d not in errors for d in out.diagnostics[before:]):
        return None
    return _File(file, name, flat if unchanged and not errors else None, located, node)


def _has_include_or_extends(data: Any) -> bool:
    """Whether a file's tree has an ``include`` or a service with ``extends`` (both change
    the tree after its schema check)."""
    if not isinstance(data, dict):
        return True
    if "include" in data:
        return True
    services = data.get("services")
    return isinstance(services, dict) and any(
        isinstance(s, dict) and "extends" in s for s in services.values()
    )


def _without_extensions(data: Any) -> Any:
    """The document without its top-level ``x-*`` keys but ``x-stackctl`` (the settings
    ``stackctl export`` keeps there): stackctl ignores them (as the
    Compose mapping does), and a large anchor block there (a YAML alias bomb just under
    the limit) need not be copied into located nodes, merged and flattened."""
    if not isinstance(data, Mapping):
        return data
    return {k: v for k, v in data.items() if k == EXTENSION or not str(k).startswith("x-")}


def _repeat_warning(repeat: Repeat) -> Diagnostic:
    field_name = str(repeat.path[-1])
    return Diagnostic(
        "warning",
        f"`{repeat.key}` is given twice in {field_name} (first at line {repeat.first.line}); "
        "the last one is used, as in Compose",
        repeat.last.file,
        repeat.last.line,
        dotted(repeat.path),
        "remove one of them",
        code="duplicate-item",
    )


# --------------------------------------------------------------------------- name


def _project_name(
    names: list[tuple[str, str, int | None]],
    variables: Variables,
    main: Path,
    main_file: str,
    out: Outcome,
) -> str | None:
    """Compose's order: ``COMPOSE_PROJECT_NAME`` (environment, then ``.env``), then the
    last ``name:`` of the files (normalized), then the first file's folder (normalized)."""
    from_env = variables.lookup(ENV_PROJECT_NAME)
    if from_env:
        if normalize_project_name(from_env) != from_env:
            in_dotenv = ENV_PROJECT_NAME not in variables.process
            out.diagnostics.append(
                Diagnostic(
                    "error",
                    f"{ENV_PROJECT_NAME} is not a valid project name: lowercase letters, "
                    "digits, '_' or '-', starting with a letter or digit",
                    str(variables.dotenv_path) if in_dotenv else None,
                    hint=f"set {ENV_PROJECT_NAME} to a name such as "
                    f"{normalize_project_name(from_env) or 'myapp'!r}",
                )
            )
            return None
        return from_env
    if names:
        text, file, line = names[-1]
        name = normalize_project_name(text)
        if name:
            return name
        out.diagnostics.append(
            Diagnostic(
                "error",
                "the project name is empty once normalized (lowercase letters, digits, '_' or '-')",
                file,
                line,
                "name",
                "give `name:` letters or digits",
            )
        )
        return None
    folder = main.resolve().parent.name
    name = normalize_project_name(folder)
    if not name:
        out.diagnostics.append(
            Diagnostic(
                "error",
                f"no project name: the folder name {folder!r} has no letter or digit",
                main_file,
                1,
                hint=f"add `name:` to the file, or set {ENV_PROJECT_NAME}",
            )
        )
        return None
    return name


# --------------------------------------------------------------------------- profiles


def enabled_profiles(options: LoadOptions, variables: Variables) -> set[str]:
    """``--profile`` names, else ``COMPOSE_PROFILES`` (comma-separated; ``.env`` too)."""
    if options.profiles:
        return set(options.profiles)
    value = variables.lookup(ENV_PROFILES) or ""
    return {p.strip() for p in value.split(",") if p.strip()}


def _active(service: Any, enabled: set[str]) -> bool:
    profiles = service.get("profiles") if isinstance(service, Mapping) else None
    if not profiles or not isinstance(profiles, list):
        return True
    return "*" in enabled or any(str(p) in enabled for p in profiles)


def _apply_profiles(
    data: dict[str, Any],
    files: dict[str, str],
    lines: dict[str, int],
    options: LoadOptions,
    variables: Variables,
    out: Outcome,
    main_file: str,
) -> None:
    """Services whose profiles are not enabled leave the stack (Compose's
    ``WithProfiles``); a dependency on one is an error unless ``required: false``."""
    services = data.get("services")
    if not isinstance(services, dict):
        return
    enabled = enabled_profiles(options, variables)
    disabled = {n: s for n, s in services.items() if not _active(s, enabled)}
    for name in disabled:
        del services[name]
    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        svc.pop("profiles", None)
        deps = svc.get("depends_on")
        if isinstance(deps, list):
            deps = {str(d): None for d in deps}
            svc["depends_on"] = list(deps)
        if not isinstance(deps, dict):
            continue
        for dep, spec in list(deps.items()):
            if dep not in disabled:
                continue
            if isinstance(spec, Mapping) and spec.get("required") is False:
                _drop_dependency(svc, dep)
                continue
            where = f"services.{name}.depends_on"
            item = (
                f"{where}.{dep}"
                if isinstance(svc["depends_on"], dict)
                else f"{where}.{list(deps).index(dep)}"
            )
            wanted = ", ".join(str(p) for p in disabled[dep].get("profiles") or [])
            first = str((disabled[dep].get("profiles") or [""])[0])
            out.diagnostics.append(
                Diagnostic(
                    "error",
                    f"service `{name}` depends on `{dep}`, which is not enabled "
                    f"(profiles: {wanted})",
                    files.get(item) or files.get(where) or main_file,
                    lines.get(item) or lines.get(where),
                    where,
                    f"enable it with --profile {first} (or COMPOSE_PROFILES={first}), or mark "
                    "the dependency `required: false`",
                    code="disabled-dependency",
                )
            )


def _drop_dependency(svc: dict[str, Any], dep: str) -> None:
    deps = svc["depends_on"]
    if isinstance(deps, dict):
        del deps[dep]
    else:
        deps.remove(dep)


# --------------------------------------------------------------------------- include

_IMPORTED = ("services", "volumes", "networks", "secrets", "configs", "models")


def _apply_include(node: Node, path: Path, project: _Project) -> None:
    """compose-go's ``ApplyInclude``: each entry's files loaded as a project of their own
    (their folder, their ``.env`` or ``env_file``), then their resources imported; a
    resource defined here too is merged over the imported one."""
    include = node.value.pop("include", None) if isinstance(node.value, dict) else None
    if include is None or not isinstance(include.value, list):
        return
    here = (project.home or path.resolve().parent).resolve()
    for entry in include.value:
        files: list[Node] = []
        project_dir: Path | None = None
        env_files: list[Node] = []
        if isinstance(entry.value, str):
            files = [entry]
        elif isinstance(entry.value, dict):
            p = entry.value.get("path")
            files = (p.value if isinstance(p.value, list) else [p]) if p is not None else []
            d = entry.value.get("project_directory")
            if d is not None and isinstance(d.value, str):
                project_dir = here / d.value
            e = entry.value.get("env_file")
            if e is not None:
                env_files = e.value if isinstance(e.value, list) else [e]
        if not files:
            continue
        paths = [here / str(f.value) for f in files]
        imported = _load_included(paths, project_dir, env_files, entry, here, project)
        if imported is not None:
            _import_resources(imported, node, project)


def _load_included(
    paths: list[Path],
    project_dir: Path | None,
    env_files: list[Node],
    entry: Node,
    here: Path,
    project: _Project,
) -> Node | None:
    out = project.out
    where = ("include",)
    for p in paths:
        if not p.is_file():
            out.diagnostics.append(
                Diagnostic(
                    "error",
                    f"the file {p} named by `include` does not exist",
                    entry.file,
                    entry.line,
                    dotted(where),
                    "give a path relative to this file's folder",
                )
            )
            return None
    main = str(paths[0].resolve())
    if main in project.included:
        chain = " -> ".join((*project.included, main))
        out.diagnostics.append(
            Diagnostic(
                "error",
                f"`include` makes a cycle: {chain}",
                entry.file,
                entry.line,
                dotted(where),
                "a file cannot include itself, directly or not",
            )
        )
        return None
    folder = project_dir or paths[0].resolve().parent
    variables, problems = variables_for(folder)
    if env_files:
        problems = []
        variables.dotenv = {}
        for env in env_files:
            env_path = here / str(env.value)
            try:
                variables.dotenv.update(read_dotenv_file(env_path, variables.process.get))
            except (DotenvError, OSError) as e:
                out.diagnostics.append(
                    Diagnostic(
                        "error",
                        f"cannot read the env_file {env_path}: {e}",
                        env.file,
                        env.line,
                        "include.env_file",
                    )
                )
                return None
    for dp in problems:
        out.diagnostics.append(
            Diagnostic("error", dp.message, str(variables.dotenv_path), dp.line, hint=dp.hint)
        )
    # The parent's variables win over the included project's .env (Mapping.Merge).
    variables.dotenv = {**variables.dotenv, **project.variables.dotenv}
    sub = _Project(
        out,
        variables,
        project.keep_templates,
        project.schema_errors,
        (*project.included, main),
        folder.resolve(),
    )
    merged: Node | None = None
    for p in paths:
        loaded = _load_file(p, str(p), sub)
        if loaded is None:
            return None
        try:
            merged = merge(merged, loaded.node) if merged is not None else loaded.node
        except MergeError as e:
            out.diagnostics.append(
                Diagnostic("error", str(e), e.node.file, e.node.line, dotted(e.path))
            )
            return None
    if merged is not None and folder != here:
        services = merged.value.get("services") if isinstance(merged.value, dict) else None
        if services is not None and isinstance(services.value, dict):
            for svc in services.value.values():
                _rebase_paths(svc, folder, here)
    return merged


def _import_resources(imported: Node, node: Node, project: _Project) -> None:
    if not isinstance(imported.value, dict) or not isinstance(node.value, dict):
        return
    for key in _IMPORTED:
        source = imported.value.get(key)
        if source is None or not isinstance(source.value, dict):
            continue
        target = node.value.get(key)
        if target is None or not isinstance(target.value, dict):
            target = Node({}, source.file, source.line)
            node.value[key] = target
        for name, item in source.value.items():
            local = target.value.get(name)
            if local is None:
                target.value[name] = item
                continue
            try:
                result = merge(item, local, (key, name))
            except MergeError as e:
                project.out.diagnostics.append(
                    Diagnostic("error", str(e), e.node.file, e.node.line, dotted(e.path))
                )
                continue
            if result is not None:
                target.value[name] = result


# --------------------------------------------------------------------------- extends


def _apply_extends(node: Node, path: Path, project: _Project) -> None:
    """compose-go's ``ApplyExtends`` for one file's services, in place."""
    services = node.value.get("services") if isinstance(node.value, dict) else None
    if services is None or not isinstance(services.value, dict):
        return
    for name in list(services.value):
        _extend_service(name, services.value, path, project, ())


def _extend_service(
    name: str,
    services: dict[str, Node],
    path: Path,
    project: _Project,
    chain: tuple[tuple[str, str], ...],
) -> Node | None:
    svc = services.get(name)
    if svc is None or not isinstance(svc.value, dict) or "extends" not in svc.value:
        return svc
    ext = svc.value["extends"]
    where: Path_ = ("services", name, "extends")
    ref: str | None = None
    file: str | None = None
    if isinstance(ext.value, str):
        ref = ext.value
    elif isinstance(ext.value, dict):
        ref_node, file_node = ext.value.get("service"), ext.value.get("file")
        ref = str(ref_node.value) if ref_node is not None else None
        file = str(file_node.value) if file_node is not None and file_node.value else None
    link = (str(path.resolve()), name)
    if link in chain:
        cycle = " -> ".join(f"{Path(f).name}:{s}" for f, s in (*chain, link))
        project.out.diagnostics.append(
            Diagnostic(
                "error",
                f"`extends` makes a cycle: {cycle}",
                ext.file,
                ext.line,
                dotted(where),
                "break the cycle: a service cannot extend itself, directly or not",
            )
        )
        return None
    if ref is None:
        return None  # the schema has said so
    chain = (*chain, link)
    base_path = path
    base_services = services
    if file is not None:
        base_path = path.parent / file
        loaded = _extends_file(base_path, ext, where, project)
        if loaded is None:
            return None
        base_services = loaded
        if ref not in base_services:
            project.out.diagnostics.append(
                Diagnostic(
                    "error",
                    f"cannot extend service `{name}`: no service `{ref}` in {file}",
                    ext.file,
                    ext.line,
                    dotted(where),
                    "name a service of that file",
                )
            )
            return None
    elif ref not in services:
        project.out.diagnostics.append(
            Diagnostic(
                "error",
                f"cannot extend service `{name}`: no service `{ref}` in this file",
                ext.file,
                ext.line,
                dotted(where),
                "name a service defined in the file, or add `file:`",
            )
        )
        return None
    base = _extend_service(ref, base_services, base_path, project, chain)
    if base is None:
        return None
    source = _clone(base)
    if base_path.resolve().parent != path.resolve().parent:
        _rebase_paths(source, base_path.resolve().parent, path.resolve().parent)
    try:
        merged = merge(source, svc, ("services", "x"))
    except MergeError as e:
        project.out.diagnostics.append(
            Diagnostic("error", str(e), e.node.file, e.node.line, dotted(where))
        )
        return None
    assert merged is not None and isinstance(merged.value, dict)
    merged.value.pop("extends", None)
    merged = Node(merged.value, svc.file, svc.line)
    services[name] = merged
    return merged


def _extends_file(path: Path, ext: Node, where: Path_, project: _Project) -> dict[str, Node] | None:
    """The services of a file named by ``extends.file`` (read and checked like any)."""
    from stackctl.load.locate import schema_diagnostics
    from stackctl.schema import compose_validator

    out = project.out
    if not path.is_file():
        out.diagnostics.append(
            Diagnostic(
                "error",
                f"the file {path} named by `extends` does not exist",
                ext.file,
                ext.line,
                dotted(where),
                "give a path relative to this file",
            )
        )
        return None
    before = len(out.diagnostics)
    file = str(path)
    doc = reading.read_document(path, file, out, compose=True)
    if doc is None:
        return None
    data = reading.interpolate(doc, project.variables, project.keep_templates, file, out)
    if any(d.severity == "error" for d in out.diagnostics[before:]):
        return None
    node = to_node(_without_extensions(data), doc.data, doc.line_of, file)
    enforce_unicity(node)
    flat = flatten(node)
    out.diagnostics += schema_diagnostics(
        compose_validator(),
        flat.data,
        file=file,
        line_of=lambda p: nearest_line(flat.lines, p),
        unknown=reading.unknown_compose_key,
    )
    if any(d.severity == "error" for d in out.diagnostics[before:]):
        return None
    services = node.value.get("services") if isinstance(node.value, dict) else None
    if services is None or not isinstance(services.value, dict):
        return {}
    return dict(services.value)


def _clone(node: Node) -> Node:
    if isinstance(node.value, dict):
        return replace(node, value={k: _clone(v) for k, v in node.value.items()})
    if isinstance(node.value, list):
        return replace(node, value=[_clone(v) for v in node.value])
    return replace(node)


def _relative(text: str) -> bool:
    return text.startswith(".")


def _rebase(text: str, base: Path, here: Path) -> str:
    import os

    rebased = os.path.relpath(os.path.normpath(base / text), here)
    return rebased if rebased.startswith(".") else f"./{rebased}"


def _rebase_paths(svc: Node, base: Path, here: Path) -> None:
    """Relative paths of a service taken from another folder's file, made relative to
    this one (compose-go resolves them against the extended file's folder)."""
    if not isinstance(svc.value, dict):
        return
    volumes = svc.value.get("volumes")
    if volumes is not None and isinstance(volumes.value, list):
        for item in volumes.value:
            if isinstance(item.value, str):
                source, sep, rest = item.value.partition(":")
                if sep and _relative(source):
                    item.value = f"{_rebase(source, base, here)}:{rest}"
            elif isinstance(item.value, dict):
                src = item.value.get("source")
                kind = item.value.get("type")
                if (
                    src is not None
                    and isinstance(src.value, str)
                    and (kind is None or kind.value == "bind")
                    and _relative(src.value)
                ):
                    src.value = _rebase(src.value, base, here)
    env_files = svc.value.get("env_file")
    if env_files is not None:
        items = env_files.value if isinstance(env_files.value, list) else [env_files]
        for item in items:
            target = item.value.get("path") if isinstance(item.value, dict) else item
            if (
                target is not None
                and isinstance(target.value, str)
                and not target.value.startswith("/")
            ):
                target.value = _rebase(target.value, base, here)
