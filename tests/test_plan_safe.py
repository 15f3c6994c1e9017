"""Planner tables for safe updates (issue 19): anonymous volumes kept on replace and
removed by destroy --volumes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stackctl import Service, Stack
from stackctl.backends.docker.desired import desire
from stackctl.backends.docker.observe import parse_container
from stackctl.backends.docker.plan import plan, plan_destroy
from stackctl.core.labels import temp_name
from stackctl.core.plan import Kind, Step
from stackctl.render import plan_json, plan_text
from tests.test_plan import IMG, applied, with_container, without_container

ANON = "f" * 64
IMAGE_VOL = "e" * 64


def anon_stack(**overrides: object) -> Stack:
    svc = Service("app", image=IMG, volumes=["/data", "./conf:/conf"], **overrides)  # type: ignore[arg-type]
    return Stack("an", services=[svc])


def test_list_result_mounts_are_read() -> None:
    raw = {
        "Id": "x",
        "Names": ["/an-app-1"],
        "Mounts": [
            {"Type": "volume", "Name": ANON, "Destination": "/data"},
            {"Type": "volume", "Name": "an_named", "Destination": "/named"},
            {"Type": "bind", "Source": "/srv", "Destination": "/srv"},
        ],
    }
    c = parse_container(raw)
    assert c.volume_mounts == (("/data", ANON), ("/named", "an_named"))
    assert c.anonymous_volumes == {"/data": ANON}


def test_replace_keeps_anonymous_volumes() -> None:
    old = desire([anon_stack()])
    new = desire([anon_stack(environment={"V": "2"})])
    observed = with_container(
        applied(old), "an-app-1", volume_mounts=(("/data", ANON), ("/image-vol", IMAGE_VOL))
    )
    p = plan(new, observed)
    (op,) = p.operations
    assert op.kind == Kind.REPLACE
    assert op.notes[:2] == ("keeps anonymous volume /data", "keeps anonymous volume /image-vol")
    mounts = op.unit.spec["mounts"]  # type: ignore[union-attr]
    assert {"type": "volume", "target": "/data", "read_only": False, "source": ANON} in mounts
    assert {"type": "volume", "target": "/image-vol", "source": IMAGE_VOL} in mounts
    assert op.unit.config_hash == new.containers[0].config_hash  # type: ignore[union-attr]
    assert "keeps anonymous volume /data" in plan_text(p)
    assert plan_json(p)["operations"][0]["notes"][0] == "keeps anonymous volume /data"


def test_a_target_now_mounted_otherwise_is_not_kept() -> None:
    old = desire([anon_stack()])
    svc = Service("app", image=IMG, volumes=["./d:/data", "./conf:/conf"])
    new = desire([Stack("an", services=[svc])])
    observed = with_container(applied(old), "an-app-1", volume_mounts=(("/data", ANON),))
    (op,) = plan(new, observed).operations
    assert op.kind == Kind.REPLACE and not any("anonymous" in n for n in op.notes)
    assert all(m.get("source") != ANON for m in op.unit.spec["mounts"])  # type: ignore[union-attr]


def test_interrupted_replace_keeps_the_half_made_replacements_volumes() -> None:
    """Killed after the old container was removed, before the rename: the volume lives on
    in the temporary container, and the new container takes it from there."""
    d = desire([anon_stack()])
    current = applied(d)
    temp = replace(
        current.containers[0],
        id="tmp",
        name=temp_name("an-app-1"),
        volume_mounts=(("/data", ANON),),
    )
    observed = replace(without_container(current, "an-app-1"), containers=(temp,))
    p = plan(d, observed)
    create = next(op for op in p.operations if op.kind == Kind.CREATE)
    assert create.notes == ("keeps anonymous volume /data",)
    assert [op.kind for op in p.operations] == [Kind.REMOVE, Kind.CREATE]


def test_destroy_volumes_removes_anonymous_volumes_after_their_containers() -> None:
    d = desire([anon_stack()])
    observed = with_container(applied(d), "an-app-1", volume_mounts=(("/data", ANON),))
    kept = plan_destroy(d, observed)
    assert all(op.kind != Kind.REMOVE_VOLUME for op in kept.operations)
    p = plan_destroy(d, observed, volumes=True)
    vol = next(op for op in p.operations if op.kind == Kind.REMOVE_VOLUME)
    assert vol.resource == ANON
    assert vol.depends_on == ("remove:an-app-1",)
    assert "anonymous volume /data of an-app-1" in vol.reason


# --------------------------------------------------------------------------- config files


def conf_stack() -> Stack:
    svc = Service(
        "proxy",
        image=IMG,
        volumes=["./nginx.conf:/etc/nginx/nginx.conf:ro", "./site:/srv", "/etc/hosts:/h:ro"],
    )
    return Stack("cf", services=[svc])


def test_an_edited_config_file_is_planned_as_a_replace(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the stack's folder
    (tmp_path / "nginx.conf").write_text("worker_processes 1;\n")
    (tmp_path / "site").mkdir()
    before = desire([conf_stack()])
    files = before.containers[0].config["files"]
    assert list(files) == ["nginx.conf"]  # not the folder, not the file outside the stack
    assert "worker_processes" not in str(files)  # a digest of the content, not the content
    observed = applied(before)
    assert not plan(desire([conf_stack()]), observed).has_changes
    (tmp_path / "site" / "index.html").write_text("other")  # a folder's content: not read
    assert not plan(desire([conf_stack()]), observed).has_changes
    (tmp_path / "nginx.conf").write_text("worker_processes 2;\n")
    p = plan(desire([conf_stack()]), observed)
    (op,) = p.operations
    assert op.kind == Kind.REPLACE
    assert op.reason == "config file changed: nginx.conf"
    assert "config file changed: nginx.conf" in plan_text(p)


def test_config_file_and_other_changes_are_both_named(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nginx.conf").write_text("a\n")
    (tmp_path / "site").mkdir()
    observed = applied(desire([conf_stack()]))
    (tmp_path / "nginx.conf").write_text("b\n")
    svc = conf_stack().services["proxy"].model_copy(update={"labels": {"x": "1"}})
    (op,) = plan(desire([Stack("cf", services=[svc])]), observed).operations
    assert op.reason == "config changed: labels.x; config file changed: nginx.conf"


# --------------------------------------------------------------------------- replace order


def web_stack(**overrides: object) -> Stack:
    svc = Service("web", image=IMG, **overrides)  # type: ignore[arg-type]
    return Stack("rp", services=[svc])


START_FIRST = {"update_config": {"order": "start-first"}}


@pytest.mark.parametrize(
    ("overrides", "order", "steps", "undo"),
    [
        (
            {},
            "stop-first (the default; deploy.update_config.order: start-first avoids the gap)",
            [
                "remove-temp",
                "create-temp",
                "stop-old",
                "start-new",
                "wait-ready",
                "remove-old",
                "rename",
            ],
            ["remove-temp", "start-old"],
        ),
        (
            {"deploy": START_FIRST},
            "start-first: the new container runs beside the old until it is ready",
            [
                "remove-temp",
                "create-temp",
                "start-new",
                "wait-ready",
                "stop-old",
                "remove-old",
                "rename",
            ],
            ["remove-temp"],
        ),
        (
            {"deploy": START_FIRST, "ports": ["8080:80"]},
            "stop-first (start-first asked, but it publishes host port 8080)",
            [
                "remove-temp",
                "create-temp",
                "stop-old",
                "start-new",
                "wait-ready",
                "remove-old",
                "rename",
            ],
            ["remove-temp", "start-old"],
        ),
        (
            {"deploy": START_FIRST, "container_name": "fixed"},
            "stop-first (start-first asked, but it container_name is set (fixed))",
            [
                "remove-temp",
                "create-temp",
                "stop-old",
                "start-new",
                "wait-ready",
                "remove-old",
                "rename",
            ],
            ["remove-temp", "start-old"],
        ),
        (
            {"deploy": {"update_config": {"failure_action": "pause"}}},
            "stop-first (the default; deploy.update_config.order: start-first avoids the gap)",
            [
                "remove-temp",
                "create-temp",
                "stop-old",
                "start-new",
                "wait-ready",
                "remove-old",
                "rename",
            ],
            [],
        ),
    ],
)
def test_replace_order_and_rollback(overrides, order, steps, undo) -> None:
    old = desire([web_stack(**overrides)])
    new = desire([web_stack(environment={"V": "2"}, **overrides)])
    (op,) = plan(new, applied(old)).operations
    assert op.kind == Kind.REPLACE
    assert op.notes[0] == order
    assert [s.value for s in op.steps] == steps
    assert [s.value for s in op.rollback] == undo
    assert order in plan_text(plan(new, applied(old)))


def test_no_wait_and_no_rollback() -> None:
    old = desire([web_stack()])
    new = desire([web_stack(environment={"V": "2"})])
    (op,) = plan(new, applied(old), wait=False).operations
    assert Step.WAIT_READY not in op.steps and op.rollback
    assert "--no-wait" in op.notes[1]
    (op,) = plan(new, applied(old), rollback=False).operations
    assert Step.WAIT_READY in op.steps and op.rollback == ()
    assert op.notes[1] == "on failure: left as is (--no-rollback)"
