"""``stackctl run``'s dependencies: what the service depends on, up and ready first.

No planner of its own: the full plan of the service itself (forced, so that its waits
are planned even when it is in sync) is cut to the operations before it, the services it
depends on and the waits for their conditions, and run as apply runs a plan.
"""

from __future__ import annotations

from dataclasses import replace

from stackctl import pipeline
from stackctl.core.plan import Plan
from stackctl.targets import Key


def dependencies_plan(loaded: pipeline.Loaded, engine: object, key: Key) -> Plan:
    """Start what ``key`` depends on (transitively) and wait for its conditions."""
    name = f"{key[0]}/{key[1]}"
    planned = pipeline.make_plan(loaded, engine, targets=[name], replace=[name])
    plan = planned.plan
    own = {
        op.id
        for op in plan.operations
        if op.unit is not None and (op.unit.stack, op.unit.service) == key
    }
    kept = tuple(
        replace(op, depends_on=tuple(d for d in op.depends_on if d not in own))
        for op in plan.operations
        if op.id not in own
    )
    return replace(plan, operations=kept)
