"""Day two without a daemon: --target / --replace plans, the restart plan, logs helpers,
the multiplexed stream, and the CLI's --version, completion and help text (issue 20)."""

from __future__ import annotations

import pytest

from stackctl import Service, Stack, targets
from stackctl.backends.docker.daytwo import one_off, plan_restart
from stackctl.backends.docker.desired import desire
from stackctl.backends.docker.plan import plan
from stackctl.cli import COMMANDS, main
from stackctl.core.daytwo import LogSource, LogWindow, OneOffOptions, ProcessOptions
from stackctl.core.labels import LABEL_ONEOFF, LABEL_SERVICE, LABEL_STACK
from stackctl.engine.docker import _demux
from stackctl.errors import StackctlError
from stackctl.logs import Printer, labels, merged, parse_since, parse_tail, show
from stackctl.render import plan_json, plan_text
from tests.test_plan import EMPTY, IMG, applied, homelab, kinds, with_container


def _three() -> Stack:
    lab = homelab()
    extra = Service("other", image=IMG)
    return Stack(
        "lab",
        services=[*lab.services.values(), extra],
        networks=list(lab.networks.values()),
        volumes=list(lab.volumes.values()),
    )


def test_target_keeps_the_service_and_its_dependencies_only() -> None:
    stack = _three()
    desired = desire([stack])
    full = plan(desired, EMPTY)
    wanted = targets.with_dependencies([stack], targets.resolve([stack], ["web"], "--target"))
    assert wanted == {("lab", "db"), ("lab", "web")}
    part = targets.partial(full, wanted, ["web"])
    assert ("create", "lab-other-1") in kinds(full)
    assert kinds(part) == [
        k for k in kinds(full) if k[1] != "lab-other-1" and k[1] != "lab_default"
    ]
    assert part.targets == ("web",) and part.target_services == ("lab/db", "lab/web")
    assert plan_text(part).startswith("Partial plan: --target web (services planned: lab/db, ")
    assert plan_json(part)["targets"] == ["web"]
    # a dependency alone: not its dependents
    only_db = targets.partial(full, targets.with_dependencies([stack], {("lab", "db")}), ["db"])
    assert {r for _, r in kinds(only_db)} == {"lab_back", "lab_data", "lab-db-1"}


def test_unknown_or_ambiguous_service_names_are_errors_listing_the_services() -> None:
    stack = _three()
    with pytest.raises(StackctlError) as e:
        targets.resolve([stack], ["nope"], "--target")
    assert "--target nope: no such service" in e.value.message
    assert "db, web, other" in (e.value.hint or "")
    twin = Stack("twin", services=[Service("db", image=IMG)])
    assert targets.resolve([stack, twin], ["twin/db"], "--replace") == {("twin", "db")}
    with pytest.raises(StackctlError, match="in several stacks"):
        targets.one([stack, twin], "db")


def test_replace_recreates_an_unchanged_container_and_keeps_a_real_reason() -> None:
    desired = desire([homelab()])
    observed = applied(desired)
    assert kinds(plan(desired, observed)) == []
    forced = plan(desired, observed, replace={("lab", "web")})
    assert [(op.kind.value, op.resource, op.reason) for op in forced.operations] == [
        ("wait", "db", "a dependent needs db healthy"),
        ("replace", "lab-web-1", "forced by --replace"),
    ]
    stopped = with_container(observed, "lab-db-1", state="exited", exit_code=1)
    ops = plan(desired, stopped, replace={("lab", "db")}).operations
    assert {(op.resource, op.reason) for op in ops} >= {("lab-db-1", "forced by --replace")}
    changed = desire([homelab(user="1000")])
    ops = plan(changed, observed, replace={("lab", "db")}).operations
    assert {op.reason for op in ops if op.resource == "lab-db-1"} == {"config changed: user"}


def test_restart_plan_waits_for_the_conditions_of_the_services_restarted() -> None:
    desired = desire([homelab()])
    observed = applied(desired)
    both = plan_restart(desired, observed, {("lab", "db"), ("lab", "web")})
    assert [(op.kind.value, op.resource) for op in both.operations] == [
        ("restart", "lab-db-1"),
        ("wait", "db"),
        ("restart", "lab-web-1"),
    ]
    assert both.operations[2].depends_on == ("wait:lab/db:service_healthy",)
    assert [s.value for s in both.operations[0].steps] == ["stop", "start"]
    alone = plan_restart(desired, observed, {("lab", "web")})
    assert [(op.kind.value, op.resource) for op in alone.operations] == [("restart", "lab-web-1")]
    with pytest.raises(StackctlError, match="has no container"):
        plan_restart(desired, EMPTY, {("lab", "web")})


def test_one_off_keeps_config_and_networks_drops_ports_and_unit_labels() -> None:
    dc = next(c for c in desire([homelab()]).containers if c.service == "web")
    process = ProcessOptions(command=["sh"], tty=False, stdin=True, env={"X": "1"})
    run = one_off(dc, OneOffOptions(process))
    assert run.name.startswith("lab-web-run-") and run.networks == dc.networks
    assert run.spec["ports"] == [] and run.spec["command"] == ["sh"]
    assert run.env["X"] == "1"
    assert LABEL_STACK not in run.labels and LABEL_SERVICE not in run.labels
    assert run.labels[LABEL_ONEOFF] == "lab/web"
    ported = one_off(dc, OneOffOptions(process, service_ports=True, name="x"))
    assert ported.name == "x" and ported.spec["ports"] == dc.spec["ports"]


def test_logs_since_tail_and_merge() -> None:
    now = 1_000_000.0
    assert parse_since("10m", now) == now - 600
    assert parse_since("1500.5", now) == 1500.5
    assert parse_since("1970-01-01T00:01:40Z", now) == 100
    with pytest.raises(ValueError, match="--since"):
        parse_since("yesterday", now)
    assert parse_tail("all") is None and parse_tail("5") == 5
    with pytest.raises(ValueError):
        parse_tail("-1")
    a = iter(["2026-01-01T00:00:01.000000000Z a1", "2026-01-01T00:00:03.000000000Z a2"])
    b = iter(["2026-01-01T00:00:02.000000000Z b1"])
    assert [n for n, _ in merged([("a", a), ("b", b)])] == ["a", "b", "a"]


def test_logs_show_prefixes_colours_and_timestamps(capsys) -> None:
    def source(service: str, name: str, lines: list[str]) -> LogSource:
        return LogSource(service, name, lambda _w: iter(lines))

    sources = [
        source("db", "s-db-1", ["2026-01-01T00:00:02.000000000Z ready"]),
        source("web", "s-web-1", ["2026-01-01T00:00:01.000000000Z up"]),
        source("web", "s-web-2", ["2026-01-01T00:00:03.000000000Z up"]),
    ]
    assert labels(sources) == ["db", "s-web-1", "s-web-2"]
    import io

    out = io.StringIO()
    show(sources, LogWindow(), Printer(out, labels(sources), colour=False, timestamps=False))
    assert out.getvalue() == "s-web-1 | up\ndb      | ready\ns-web-2 | up\n"
    out = io.StringIO()
    show(sources[:1], LogWindow(), Printer(out, ["db"], colour=True, timestamps=True))
    assert out.getvalue() == "\x1b[36mdb |\x1b[0m 2026-01-01T00:00:02.000000000Z ready\n"


def test_multiplexed_stream_frames() -> None:
    frame = bytes([1, 0, 0, 0, 0, 0, 0, 3]) + b"out" + bytes([2, 0, 0, 0, 0, 0, 0, 3]) + b"er"
    buffer = bytearray(frame)
    assert list(_demux(buffer)) == [(1, b"out")]
    buffer += b"r"
    assert list(_demux(buffer)) == [(2, b"err")] and buffer == b""


def test_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("stackctl ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_for_each_shell(shell: str, capsys) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "_STACKCTL_COMPLETE" in script and "stackctl" in script


@pytest.mark.parametrize("command", [None, *sorted(COMMANDS)])
def test_no_bool_noise_in_any_help(command: str | None, capsys) -> None:
    args = [command, "--help"] if command else ["--help"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Usage:" in text and "<bool>" not in text
