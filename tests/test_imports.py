"""The package's import graph: no cycles, and no private name crosses a package boundary.

Read from the source with ``ast`` (nothing is imported): every ``from stackctl.X import Y``
and ``import stackctl.X`` inside ``stackctl/``, at any depth (imports inside functions
count: they are cycles too, only later).
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "stackctl"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every stackctl import in ``path``."""
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "stackctl" or node.module.startswith("stackctl."):
                out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("stackctl.")]
    return out


def resolve(module: str, name: str) -> str:
    """``from module import name``: the submodule when ``name`` is one, else ``module``."""
    sub = f"{module}.{name}"
    return sub if sub in MODULES else module


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for mod, path in MODULES.items():
        deps = edges.setdefault(mod, set())
        for target, names in imports(path):
            for dep in {resolve(target, n) for n in names} or {target}:
                if dep in MODULES and dep != mod:
                    deps.add(dep)
    return edges


def test_the_scan_sees_the_package() -> None:
    g = graph()
    assert "stackctl.core.plan" in g and "stackctl.backends.docker.plan" in g
    assert "stackctl.core.plan" in g["stackctl.backends.docker.plan"]


def test_no_import_cycles() -> None:
    g = graph()
    # A package's __init__ re-exporting its own submodules is not a cycle of behaviour:
    # leave out the edge from a package to the modules inside it.
    pruned = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in g.items()}
    try:
        tuple(TopologicalSorter(pruned).static_order())
    except CycleError as e:
        raise AssertionError(f"import cycle: {' -> '.join(e.args[1])}") from e


def test_no_private_name_is_imported_from_another_package() -> None:
    found: list[str] = []
    for mod, path in MODULES.items():
        here = package_of(mod, path)
        for target, names in imports(path):
            target_path = MODULES.get(target)
            there = package_of(target, target_path) if target_path else target
            for name in names:
                if name.startswith("_") and not name.startswith("__") and there != here:
                    found.append(f"{mod} imports {target}.{name}")
    assert not found, "private names across packages:\n" + "\n".join(found)


def test_the_core_imports_no_backend_and_backends_not_each_other() -> None:
    g = graph()
    bad = [
        f"{m} -> {d}"
        for m, deps in g.items()
        for d in deps
        if (m.startswith("stackctl.core") and d.startswith("stackctl.backends"))
        or (m.startswith("stackctl.backends.docker") and d.startswith("stackctl.backends.swarm"))
        or (m.startswith("stackctl.backends.swarm") and d.startswith("stackctl.backends.docker"))
    ]
    assert not bad, "\n".join(bad)
