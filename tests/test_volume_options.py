"""Compose volume options that shape the container: bind propagation, SELinux relabel
(``:z``/``:Z``), ``volume.subpath``, ``tmpfs.mode``. Compose file -> model -> create body,
config hash and plan, without a daemon (tests/integration/test_volume_options.py checks
the daemon's side)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackctl import Service, Stack
from stackctl.backends.docker.desired import desire
from stackctl.backends.docker.plan import plan
from stackctl.core.plan import Kind
from stackctl.engine.docker import container_config
from stackctl.errors import PlanError, StackctlError
from stackctl.load import load_paths
from tests.test_plan import EMPTY, IMG, applied


def compose(tmp_path: Path, volume: Any, **service: Any) -> Stack:
    doc = {
        "name": "lab",
        "services": {"app": {"image": IMG, "volumes": [volume], **service}},
        "volumes": {"data": None},
    }
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    [stack] = load_paths([path])
    return stack


def host_config(stack: Stack) -> dict[str, Any]:
    body = container_config(desire([stack]).containers[0], all_networks=True)
    host: dict[str, Any] = body["HostConfig"]
    return host


# (compose volume item, Binds, Mounts) with the stack's folder written as {dir}.
ROWS: list[tuple[Any, list[str], list[dict[str, Any]]]] = [
    ("/srv/a:/b:ro,z", ["/srv/a:/b:ro,z"], []),
    ("/srv/a:/b:Z", ["/srv/a:/b:rw,Z"], []),
    ("/srv/a:/b:rshared", ["/srv/a:/b:rw,rshared"], []),
    ("/srv/a:/b:ro,z,rslave", ["/srv/a:/b:ro,z,rslave"], []),
    ("./conf:/b:z,ro", ["{dir}/conf:/b:ro,z"], []),
    ("data:/b:z", ["lab_data:/b:rw,z"], []),
    (
        {"type": "bind", "source": "/srv/a", "target": "/b", "bind": {"propagation": "slave"}},
        ["/srv/a:/b:rw,slave"],
        [],
    ),
    (
        {"type": "bind", "source": "/srv/a", "target": "/b", "bind": {"selinux": "z"}},
        ["/srv/a:/b:rw,z"],
        [],
    ),
    (
        {
            "type": "bind",
            "source": "/srv/a",
            "target": "/b",
            "read_only": True,
            "bind": {"create_host_path": False, "propagation": "private"},
        },
        [],
        [
            {
                "Type": "bind",
                "Source": "/srv/a",
                "Target": "/b",
                "ReadOnly": True,
                "BindOptions": {"Propagation": "private"},
            }
        ],
    ),
    (
        {"type": "volume", "source": "data", "target": "/b", "volume": {"subpath": "etc/app"}},
        [],
        [
            {
                "Type": "volume",
                "Source": "lab_data",
                "Target": "/b",
                "ReadOnly": False,
                "VolumeOptions": {"Subpath": "etc/app"},
            }
        ],
    ),
    (
        {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "1m", "mode": 0o1777}},
        [],
        [{"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 1023}}],
    ),
    (
        {"type": "tmpfs", "target": "/t", "tmpfs": {"mode": "0o750"}},
        [],
        [{"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"Mode": 0o750}}],
    ),
    (  # a number as written, as compose-go reads it (decimal 488 is 0o750)
        {"type": "tmpfs", "target": "/t", "tmpfs": {"mode": 488}},
        [],
        [{"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"Mode": 0o750}}],
    ),
]


@pytest.mark.parametrize(("volume", "binds", "mounts"), ROWS)
def test_compose_volume_options_reach_the_create_body(
    tmp_path: Path, volume: Any, binds: list[str], mounts: list[dict[str, Any]]
) -> None:
    host = host_config(compose(tmp_path, volume))
    assert host["Binds"] == [b.format(dir=tmp_path) for b in binds]
    assert host["Mounts"] == mounts


def test_service_level_tmpfs_mode_is_octal_as_the_daemon_reads_it(tmp_path: Path) -> None:
    stack = compose(tmp_path, "/srv/a:/a", tmpfs=["/run:size=64k,mode=1777"])
    tmpfs = host_config(stack)["Mounts"][0]
    assert tmpfs["TmpfsOptions"] == {"SizeBytes": 64 << 10, "Mode": 0o1777}


PLAIN_VOLUMES: list[Any] = [
    "/srv/a:/a:ro",
    "data:/data:nocopy",
    "/cache",
    {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "1m"}},
]


def lab(volumes: list[Any], **service: Any) -> Stack:
    return Stack(
        "lab",
        services=[Service("a", image=IMG, volumes=volumes, **service)],
        volumes={"data": None},
    )


def test_a_stack_without_these_options_keeps_its_config_hash() -> None:
    # The hash the same stack had before these options existed (the integrate branch).
    plain = lab(PLAIN_VOLUMES, tmpfs=["/run:size=64k"])
    assert desire([plain]).containers[0].config_hash == (
        "70747fff5097195f58ed30f307194c59174d328facc8ccd4b4979fce99b33ac7"
    )


# (key in the config, index in PLAIN_VOLUMES, the item that replaces it)
CHANGED: list[tuple[str, int, Any]] = [
    ("propagation", 0, "/srv/a:/a:ro,rslave"),
    ("selinux", 0, "/srv/a:/a:ro,z"),
    (
        "subpath",
        1,
        {
            "type": "volume",
            "source": "data",
            "target": "/data",
            "volume": {"nocopy": True, "subpath": "x"},
        },
    ),
    ("tmpfs_mode", 3, {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "1m", "mode": "0o700"}}),
]


@pytest.mark.parametrize(("key", "index", "item"), CHANGED)
def test_each_option_changes_the_hash_and_is_planned_as_a_replace(
    key: str, index: int, item: Any
) -> None:
    before = desire([lab(PLAIN_VOLUMES)])
    volumes = list(PLAIN_VOLUMES)
    volumes[index] = item
    after = desire([lab(volumes)])
    assert after.containers[0].config_hash != before.containers[0].config_hash
    p = plan(after, replace(applied(before), api_version="1.45"))
    assert [op.kind for op in p.operations] == [Kind.REPLACE]
    assert [c.path for c in p.operations[0].changes] == [f"mounts[{index}].{key}"]


def test_subpath_on_an_older_engine_is_a_located_plan_error(tmp_path: Path) -> None:
    volume = {"type": "volume", "source": "data", "target": "/b", "volume": {"subpath": "etc"}}
    desired = desire([compose(tmp_path, volume, scale=2)])
    with pytest.raises(PlanError) as e:
        plan(desired, replace(EMPTY, api_version="1.41"))
    text = str(e.value)
    assert "stack 'lab', services.app.volumes (target /b): volume.subpath needs" in text
    assert "this daemon speaks API 1.41" in text
    assert "hint: upgrade the daemon" in text
    assert text.count("volume.subpath needs") == 1  # once per service, not per replica
    ok = plan(desired, replace(EMPTY, api_version="1.45"))
    assert Kind.CREATE in [op.kind for op in ok.operations]


REFUSED: list[tuple[Any, str]] = [
    ("/srv/a:/b:shared-ish", "unknown volume option 'shared-ish'"),
    ("data:/b:rshared", "propagation 'rshared' applies to bind mounts only"),
    (
        {"type": "tmpfs", "target": "/t", "tmpfs": {"mode": "rwx"}},
        "tmpfs mode (the value) is not a number; write it as 0o1777",
    ),
    ({"type": "tmpfs", "target": "/t", "tmpfs": {"mode": 0o17777}}, "is not a file mode"),
    (
        {"type": "bind", "source": "/a", "target": "/b", "bind": {"propagation": "bogus"}},
        "propagation",
    ),
    (
        {
            "type": "bind",
            "source": "/a",
            "target": "/b",
            "bind": {"create_host_path": False, "selinux": "z"},
        },
        "cannot go with create_host_path: false",
    ),
    (
        {
            "type": "volume",
            "source": "data",
            "target": "/b",
            "volume": {"subpath": "x"},
            "bind": {"selinux": "Z"},
        },
        "subpath cannot go with SELinux relabel",
    ),
    ({"type": "bind", "source": "/a", "target": "/b", "volume": {"subpath": "x"}}, "subpath"),
]


@pytest.mark.parametrize(("volume", "message"), REFUSED)
def test_a_wrong_option_is_a_located_error(tmp_path: Path, volume: Any, message: str) -> None:
    with pytest.raises(StackctlError) as e:
        compose(tmp_path, volume)
    text = str(e.value)
    assert message in text
    assert "compose.yaml" in text and "volumes" in text
