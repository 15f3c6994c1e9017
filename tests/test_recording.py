"""The plan-fidelity matcher itself (tests/recording.py), for both backends, no daemon: a
log that makes exactly the plan's writes passes; an extra write, a missing one, a write
outside any operation, or an HTTP write that no recorded call accounts for fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from stackctl import Healthcheck, Network, Service, Stack, healthy
from stackctl.backends import backend_named
from stackctl.backends.docker.observe import ObservedState
from stackctl.backends.swarm.observe import SwarmObservedState
from stackctl.core.plan import Kind, Plan
from stackctl.execute import ApplyResult
from tests.recording import Call, Request, check_fidelity, expected_calls

ENGINES = ("docker", "swarm")
EMPTY: dict[str, Any] = {"docker": ObservedState(), "swarm": SwarmObservedState()}


@dataclass
class FakeRecorder:
    """What check_fidelity reads of a Recording."""

    log: list[tuple[str | None, Call]] = field(default_factory=list)
    requests: list[tuple[str | None, Request]] = field(default_factory=list)


def planned(engine: str) -> Plan:
    db = Service(
        "db",
        image="busybox:1",
        networks=["back"],
        healthcheck=Healthcheck.shell("true", interval="1s", retries=3),
    )
    web = Service("web", image="busybox:1", networks=["back"], depends_on={db: healthy})
    stack = Stack("rc", services=[db, web], networks=[Network("back")])
    backend = backend_named(engine)
    return backend.plan(backend.desire([stack]), EMPTY[engine], prune=False)


def faithful(p: Plan) -> FakeRecorder:
    rec = FakeRecorder()
    for op in p.operations:
        for call in expected_calls(op, p.api_version):
            rec.log.append((op.id, call))
            rec.requests.append((op.id, ("POST", f"/{'/'.join(call)}")))
    return rec


@pytest.mark.parametrize("engine", ENGINES)
def test_the_planned_writes_pass_and_are_counted(engine: str) -> None:
    p = planned(engine)
    unit = {"docker": Kind.CREATE, "swarm": Kind.CREATE_SERVICE}[engine]
    assert p.count([unit]) == 2 and p.count([Kind.CREATE_NETWORK]) == 1
    checked = check_fidelity(p, faithful(p), ApplyResult(done=list(p.operations)))
    assert checked.operations == len(p.operations)
    assert checked.calls == len(faithful(p).log)
    if engine == "swarm":  # a service create is one write; its rollout only reads
        assert checked.calls == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_a_retried_request_is_one_write(engine: str) -> None:
    p = planned(engine)
    rec = faithful(p)
    rec.requests.insert(0, rec.requests[0])  # the same request again (a busy network)
    check_fidelity(p, rec, ApplyResult(done=list(p.operations)))


def _break(rec: FakeRecorder, how: str) -> None:
    op_id = rec.log[0][0]
    if how == "extra call":
        rec.log.append((op_id, ("remove_network", "rc_back")))
        rec.requests.append((op_id, ("DELETE", "/networks/rc_back")))
    elif how == "missing call":
        del rec.log[-1], rec.requests[-1]
    elif how == "outside any operation":
        rec.log.append((None, ("remove_network", "rc_back")))
    elif how == "unrecorded HTTP write":
        rec.requests.append((op_id, ("POST", "/services/x/update")))
    elif how == "HTTP write outside any operation":
        rec.requests.append((None, ("DELETE", "/secrets/x")))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "how",
    [
        "extra call",
        "missing call",
        "outside any operation",
        "unrecorded HTTP write",
        "HTTP write outside any operation",
    ],
)
def test_a_write_the_plan_did_not_name_fails(engine: str, how: str) -> None:
    p = planned(engine)
    rec = faithful(p)
    _break(rec, how)
    with pytest.raises(AssertionError):
        check_fidelity(p, rec, ApplyResult(done=list(p.operations)))
