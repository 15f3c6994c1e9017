"""``stackctl status --engine swarm``: each service, its replicas per node, and whether it
matches the stack (in sync / drifted: why / missing / not ours)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from stackctl.backends.swarm.desired import SwarmDesiredState
from stackctl.backends.swarm.observe import SwarmObservedState
from stackctl.backends.swarm.plan import plan_swarm
from stackctl.core.status import StatusTable, drift_reasons, sync_text

COLUMNS = (
    ("stack", "stack"),
    ("service", "service"),
    ("replicas", "replicas"),
    ("nodes", "per node"),
    ("update", "update"),
    ("image", "image"),
    ("sync", "sync"),
)


def status_rows(desired: SwarmDesiredState, observed: SwarmObservedState) -> list[dict[str, Any]]:
    reasons = drift_reasons(lambda: plan_swarm(desired, observed))
    rows: list[dict[str, Any]] = []
    for ds in desired.services:
        found = observed.service(ds.name)
        per_node: Counter[str] = Counter()
        running = 0
        if found is not None:
            for t in observed.tasks_of(found.id):
                if t.wanted and t.state == "running":
                    running += 1
                    per_node[observed.node_name(t.node_id)] += 1
        sync = sync_text(
            ds.name, ds.stack, found.stack if found else None, found is not None, reasons
        )
        want = found.replicas if found is not None else ds.replicas
        rows.append(
            {
                "stack": ds.stack,
                "service": ds.service,
                "name": ds.name,
                "replicas": f"{running}/{want if want is not None else 'global'}",
                "nodes": dict(sorted(per_node.items())),
                "update": (found.update_state if found else None) or "-",
                "image": ds.image,
                "sync": sync,
            }
        )
    return rows


def status_table(desired: SwarmDesiredState, observed: SwarmObservedState) -> StatusTable:
    return StatusTable(COLUMNS, status_rows(desired, observed), "services")
