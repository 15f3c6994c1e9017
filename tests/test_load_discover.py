"""Which paths are stacks: files by name, stack folders, folders of stacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackctl.errors import InvalidStackError
from stackctl.load import SourceKind, discover, kind_of_file, load_paths

PY = (
    "from stackctl import Service, Stack\n"
    'stack = Stack("{name}", services=[Service("web", image="nginx:1")])\n'
)
COMPOSE = "services:\n  web:\n    image: nginx:1\n"
STACK = "name: {name}\nservices:\n  web:\n    image: nginx:1\n"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("stack.py", SourceKind.PYTHON),
        ("traefik.py", SourceKind.PYTHON),
        ("compose.yaml", SourceKind.COMPOSE),
        ("compose.yml", SourceKind.COMPOSE),
        ("docker-compose.yml", SourceKind.COMPOSE),
        ("docker-compose.yaml", SourceKind.COMPOSE),
        ("compose.prod.yaml", SourceKind.COMPOSE),
        ("docker-compose-dev.yml", SourceKind.COMPOSE),
        ("prod.compose.yaml", SourceKind.COMPOSE),
        ("stack.yaml", SourceKind.STACK),
        ("matrix.stack.yml", SourceKind.STACK),
        ("traefik.yaml", SourceKind.STACK),
        ("stack.json", SourceKind.STACK),
        ("README.md", None),
        ("nginx.conf", None),
    ],
)
def test_kind_by_name(name: str, kind: SourceKind | None) -> None:
    assert kind_of_file(Path(name)) == kind


def make(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_folder_of_stacks_one_level_sorted(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "whoami/stack.py": PY.format(name="whoami"),
            "traefik/compose.yaml": COMPOSE,
            "matrix.py": PY.format(name="matrix"),
            "blog.yaml": STACK.format(name="blog"),
            "README.md": "# my stacks\n",
            ".hidden.yaml": "not: loaded\n",
            "_helpers.py": "raise RuntimeError('never run')\n",
            "notes/todo.txt": "x",
            "deeper/nested/stack.py": PY.format(name="nested"),
        },
    )
    names = [s.name for s in load_paths([tmp_path])]
    assert names == ["blog", "matrix", "traefik", "whoami"]


def test_stack_folder_is_one_stack(tmp_path: Path) -> None:
    make(tmp_path / "app", {"compose.yaml": COMPOSE, "config/traefik.yml": "x: [unclosed"})
    [stack] = load_paths([tmp_path / "app"])
    assert stack.name == "app"


def test_folder_with_two_definitions_is_ambiguous(tmp_path: Path) -> None:
    make(tmp_path / "app", {"compose.yaml": COMPOSE, "stack.py": PY.format(name="app")})
    with pytest.raises(InvalidStackError) as info:
        load_paths([tmp_path / "app"])
    [err] = info.value.diagnostics
    assert "more than one stack definition (compose.yaml, stack.py)" in err.message


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidStackError) as info:
        load_paths([tmp_path / "nope", tmp_path / "empty"])
    messages = [d.message for d in info.value.diagnostics]
    assert messages == ["no such file or folder", "no stack found in this folder"]


def test_not_a_stack_file(tmp_path: Path) -> None:
    make(tmp_path, {"notes.txt": "x"})
    sources, diagnostics = discover(tmp_path / "notes.txt")
    assert sources == [] and diagnostics[0].message == "not a stack file"


def test_same_stack_name_twice_is_an_error(tmp_path: Path) -> None:
    make(tmp_path, {"a.py": PY.format(name="dup"), "b.yaml": STACK.format(name="dup")})
    with pytest.raises(InvalidStackError) as info:
        load_paths([tmp_path])
    [err] = info.value.diagnostics
    assert "stack 'dup' is defined twice" in err.message
    assert err.file == str(tmp_path / "b.yaml") and err.line == 1


def test_errors_from_all_files_are_collected(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "a.py": "stack = undefined_name\n",
            "b.yaml": "name: b\nservices:\n  web:\n    imgae: x\n",
            "c/compose.yaml": "services:\n  web:\n    build: {context: ., ssh: [x]}\n",
        },
    )
    with pytest.raises(InvalidStackError) as info:
        load_paths([tmp_path])
    files = {Path(d.file or "").name for d in info.value.diagnostics}
    assert files == {"a.py", "b.yaml", "compose.yaml"}
