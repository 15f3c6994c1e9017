"""``bind-outside-stack``: a relative bind source that climbs out of the stack's folder.

Decided: relative bind sources mean "beside the stack", so one that resolves outside the
stack's folder (``../../etc``, ``./a/../../b``) is an ERROR with the file, the line, the
attribute path and a hint (write an absolute path if a host path is meant). Absolute and
``~`` sources say what they mean and stay allowed; named volumes are not paths. The check
is on the text: symlinks are not followed (the source may not exist yet).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stackctl import Mount, Service, Stack
from stackctl.rules import validate

BASE = Path("/srv/stacks/app")


def findings(volumes: list[object], base: Path = BASE) -> list[str]:
    stack = Stack("app", services=[Service("web", image="nginx:1.25", volumes=volumes)])
    stack = stack.with_origin(base / "stack.yaml", {"name": 1, "services.web.volumes": 7})
    return [d.format() for d in validate([stack]) if d.code == "bind-outside-stack"]


@pytest.mark.parametrize(
    "source",
    ["../data", "../../etc", "./a/../../b", "..", "../app2/data", "./../app/../x", "a/../../x"],
)
def test_relative_source_outside_the_folder_is_a_warning(source: str) -> None:
    found = findings([f"{source}:/data"] if source.startswith(".") else [Mount.bind(source, "/d")])
    assert len(found) == 1, found
    text = found[0]
    assert text.startswith(f"warning: {BASE}/stack.yaml:7: services.web.volumes.0: ")
    assert f"bind mount source '{source}' of service 'web' resolves to " in text
    assert f"outside the stack's folder {BASE}" in text
    assert "hint: use an absolute path" in text


@pytest.mark.parametrize(
    "volume",
    [
        "./data:/data",
        ".:/here",
        "./a/../b:/b",
        "./a/b/../../c:/c",
        "/etc:/host-etc:ro",
        "/:/host",
        "~/media:/media",
        "data:/data",
        Mount.bind("sub/dir", "/d"),
        Mount.tmpfs("/run"),
    ],
)
def test_inside_absolute_home_and_named_volumes_are_allowed(volume: object) -> None:
    assert findings([volume]) == []


def test_a_sibling_folder_with_a_common_prefix_is_outside() -> None:
    # /srv/stacks/app2 starts with /srv/stacks/app, but is not inside it
    assert findings(["../app2:/x"], base=BASE)


def test_a_stack_at_the_root_folder_contains_everything() -> None:
    assert findings(["../x:/x"], base=Path("/")) == []


def test_each_climbing_mount_is_reported_with_its_index() -> None:
    found = findings(["./ok:/ok", "../a:/a", "/abs:/abs", "../../b:/b"])
    assert [f.split(": ")[2] for f in found] == ["services.web.volumes.1", "services.web.volumes.3"]
