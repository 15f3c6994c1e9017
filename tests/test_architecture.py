"""The seams hold: the core (and the executor) import no backend; the executor decides
nothing from an operation's text."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "stackctl"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (TYPE_CHECKING blocks included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def core_files() -> list[Path]:
    return [PACKAGE / "execute.py", *sorted((PACKAGE / "core").glob("*.py"))]


def core_imports_of(package: str) -> list[str]:
    """``file: module`` for each import of ``package`` (or a module in it) by the core."""
    return sorted(
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in core_files()
        for module in imported_modules(path)
        if module == package or module.startswith(f"{package}.")
    )


def test_core_imports_no_backend() -> None:
    assert not core_imports_of("stackctl.backends")


def test_core_imports_no_engine() -> None:
    """The core reaches the daemon only through the backend's objects (protocols)."""
    assert not core_imports_of("stackctl.engine")


def test_the_scan_sees_an_import_of_a_backend() -> None:
    here = imported_modules(PACKAGE / "backends" / "docker" / "backend.py")
    assert "stackctl.backends.docker.plan" in here


def test_no_runner_branches_on_a_reason() -> None:
    """The plan's ``reason`` is text for people, never control flow."""
    runners = [
        PACKAGE / "execute.py",
        PACKAGE / "core" / "run.py",
        *sorted(PACKAGE.glob("backends/*/run.py")),
    ]
    for path in runners:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "reason":
                raise AssertionError(f"{path.relative_to(PACKAGE)}:{node.lineno} reads op.reason")
