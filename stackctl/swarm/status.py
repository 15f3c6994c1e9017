"""``stackctl status --engine swarm``: each service, its replicas per node, and whether it
matches the stack (in sync / drifted: why / missing / not ours)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from stackctl.errors import PlanError
from stackctl.model import Stack
from stackctl.plan import Kind
from stackctl.swarm.desired import desire_swarm
from stackctl.swarm.observe import SwarmObservedState, SwarmReader, observe_swarm
from stackctl.swarm.plan import plan_swarm


def status_rows(stacks: Sequence[Stack], observed: SwarmObservedState) -> list[dict[str, Any]]:
    desired = desire_swarm(stacks)
    reasons: dict[str, str] = {}
    try:
        for op in plan_swarm(desired, observed).operations:
            if op.swarm is not None and op.kind != Kind.WAIT:
                reasons[op.swarm.name] = op.reason
    except PlanError as e:
        reasons["*"] = e.message
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
        if found is None:
            sync = "missing"
        elif found.stack != ds.stack:
            sync = "not ours (name taken)"
        elif ds.name in reasons:
            sync = f"drifted: {reasons[ds.name]}"
        else:
            sync = "in sync"
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


def print_status(stacks: Sequence[Stack], reader: Any, as_json: bool) -> int:
    """``reader``: the SwarmEngine (typed Any: the CLI's connect() returns the base class)."""
    from stackctl.cli.common import console

    swarm: SwarmReader = reader
    rows = status_rows(stacks, observe_swarm(swarm))
    if as_json:
        print(json.dumps({"services": rows}, indent=2))
        return 0
    table = Table(show_edge=False, pad_edge=False)
    for col in ("stack", "service", "replicas", "per node", "update", "image", "sync"):
        table.add_column(col)
    for r in rows:
        nodes = ", ".join(f"{n}: {c}" for n, c in r["nodes"].items()) or "-"
        table.add_row(
            r["stack"], r["service"], r["replicas"], nodes, r["update"], r["image"], r["sync"]
        )
    console().print(table)
    return 0
