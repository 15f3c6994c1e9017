"""Plan fidelity on the swarm test-bed: every write an apply makes to the manager is matched
one to one against the operations of the plan it printed (tests/recording.py, the same
recorder and matching as the docker backend's, with ``backend="swarm"``).

A Matrix-shaped stack (a Postgres-like service with a health check and a file secret, a
Synapse-like one gated on it, a bridge gated on both): the first apply, a second apply
(no write at all), one environment change (one service update), a network change (its
services removed, the network replaced, the services created again) and destroy.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from stackctl import Healthcheck, Network, Service, Stack, healthy
from stackctl.core.plan import Kind
from stackctl.model import Deploy, SecretSource, UpdateConfig
from tests.conftest import BUSYBOX
from tests.integration.swarm.conftest import client, make_plan
from tests.recording import Recorded, recorded_apply

pytestmark = pytest.mark.integration

TRAP = "trap 'exit 0' TERM; "
LOOP = "while :; do sleep 0.2; done"
FAST = UpdateConfig(parallelism=2, delay="0s", monitor="1s", failure_action="rollback")


def _svc(name: str, script: str, *, deps: dict | None = None, **kw: object) -> Service:
    return Service(
        name,
        image=BUSYBOX,
        command=["sh", "-c", TRAP + script],
        restart="always",
        networks=["matrix"],
        healthcheck=Healthcheck.shell("test -f /tmp/ready", interval="1s", retries=30),
        depends_on=deps or {},
        deploy=Deploy(replicas=1, endpoint_mode="dnsrr", update_config=FAST),
        **kw,
    )


def matrix(name: str, folder: Path, *, gen: str = "1", net_gen: str = "1") -> Stack:
    (folder / "db_password.txt").write_text("fidelity-db-password\n")
    postgres = _svc(
        "postgres",
        # ready once its file secret is in place
        "sleep 1; test -s /run/secrets/db_password && touch /tmp/ready; " + LOOP,
        secrets=["db_password"],
    )
    synapse = _svc(
        "synapse",
        "touch /tmp/ready; " + LOOP,
        deps={postgres: healthy},
        environment={"SYNAPSE_SERVER_NAME": "example.org", "GEN": gen},
    )
    bridge = _svc(
        "whatsapp", "touch /tmp/ready; " + LOOP, deps={postgres: healthy, synapse: healthy}
    )
    stack = Stack(
        name,
        services=[postgres, synapse, bridge],
        networks=[Network("matrix", labels={"gen": net_gen})],
        secrets=[SecretSource("db_password", file="db_password.txt")],
    )
    return stack.with_origin(folder / "stack.py")


def apply(testbed: list[str], stack: Stack, **kw: bool) -> Recorded:
    rec = recorded_apply(testbed[0], [stack], backend="swarm", wait_timeout=120, **kw)
    assert rec.result.ok, rec.log
    return rec


def kinds(rec: Recorded) -> Counter[Kind]:
    return Counter(op.kind for op in rec.plan.operations if op.kind != Kind.WAIT)


def test_every_swarm_write_is_one_the_plan_named(swarm, testbed, swarm_stack, tmp_path) -> None:
    s = swarm_stack
    services = [f"{s}_{x}" for x in ("postgres", "synapse", "whatsapp")]
    network = f"{s}_matrix"

    first = apply(testbed, matrix(s, tmp_path))
    assert kinds(first) == {Kind.CREATE_NETWORK: 1, Kind.CREATE_SECRET: 1, Kind.CREATE_SERVICE: 3}
    assert sum(op.kind == Kind.WAIT for op in first.plan.operations) == 2
    (secret,) = [op.resource for op in first.plan.operations if op.kind == Kind.CREATE_SECRET]
    assert Counter(first.calls) == Counter(
        [
            ("create_network", network),
            ("create_secret", secret),
            *(("create_service", name) for name in services),
        ]
    )
    # the order the plan promised: network and secret before the services, health gates
    assert first.calls.index(("create_service", services[0])) > max(
        first.calls.index(("create_network", network)), first.calls.index(("create_secret", secret))
    )
    assert first.calls[-1] == ("create_service", services[2])
    assert first.fidelity.calls == 5

    again = apply(testbed, matrix(s, tmp_path))
    assert not again.plan.has_changes
    assert again.calls == [] and again.fidelity.calls == 0

    env = apply(testbed, matrix(s, tmp_path, gen="2"))
    assert kinds(env) == {Kind.UPDATE_SERVICE: 1}
    assert env.calls == [("update_service", services[1])]

    net = apply(testbed, matrix(s, tmp_path, gen="2", net_gen="2"))
    (replace,) = [op for op in net.plan.operations if op.kind == Kind.REPLACE_NETWORK]
    assert replace.resource == network and "labels" in replace.reason, replace.reason
    assert kinds(net) == {Kind.REMOVE_SERVICE: 3, Kind.REPLACE_NETWORK: 1, Kind.CREATE_SERVICE: 3}
    calls = net.calls
    removed = [calls.index(("remove_service", name)) for name in services]
    created = [calls.index(("create_service", name)) for name in services]
    assert max(removed) < calls.index(("remove_network", network))
    assert calls.index(("remove_network", network)) < calls.index(("create_network", network))
    assert calls.index(("create_network", network)) < min(created)
    assert len(calls) == 8
    assert not make_plan(swarm, [matrix(s, tmp_path, gen="2", net_gen="2")]).has_changes

    gone = apply(testbed, matrix(s, tmp_path, gen="2", net_gen="2"), destroy=True)
    assert kinds(gone) == {Kind.REMOVE_SERVICE: 3, Kind.REMOVE_NETWORK: 1, Kind.REMOVE_SECRET: 1}
    assert Counter(gone.calls) == Counter(
        [
            *(("remove_service", name) for name in services),
            ("remove_network", network),
            ("remove_secret", secret),
        ]
    )
    c = client(testbed)
    label = {"label": f"io.stackctl.stack={s}"}
    assert not c.services(filters=label) and not c.secrets(filters=label)
    assert not [n for n in c.networks() if n["Name"] == network]
    c.close()
