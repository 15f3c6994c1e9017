"""``stackctl status``: each service's state, health, image, ports, and whether it matches."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from stackctl import pipeline
from stackctl.cli import app
from stackctl.cli.common import Engine, Paths, console
from stackctl.desired import desire
from stackctl.engine import connect
from stackctl.errors import PlanError
from stackctl.observe import observe
from stackctl.plan import Kind, plan


@app.command()
def status(
    paths: Paths,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    engine: Engine = "docker",
) -> int:
    """Show each service: state, health, image, ports, and in sync / drifted / missing."""
    loaded = pipeline.load(paths, engine=engine)
    if loaded.engine == "swarm":  # services and replicas per node: stackctl/swarm/status.py
        from stackctl.swarm.status import print_status

        return print_status(loaded.stacks, connect("swarm"), as_json)
    desired = desire(loaded.stacks)
    observed = observe(connect(engine))
    reasons: dict[str, str] = {}
    try:
        for op in plan(desired, observed).operations:
            if op.container is not None and op.kind != Kind.WAIT:
                reasons[op.container.name] = op.reason
    except PlanError as e:
        reasons["*"] = e.message
    rows: list[dict[str, Any]] = []
    for dc in desired.containers:
        obs = observed.container(dc.name)
        if obs is None:
            sync = "missing"
        elif obs.stack != dc.stack:
            sync = "not ours (name taken)"
        elif dc.name in reasons:
            sync = f"drifted: {reasons[dc.name]}"
        else:
            sync = "in sync"
        rows.append(
            {
                "stack": dc.stack,
                "service": dc.service,
                "container": dc.name,
                "state": obs.state if obs else "-",
                "health": (obs.health if obs else None) or "-",
                "image": dc.image,
                "ports": list(obs.ports) if obs else [],
                "sync": sync,
            }
        )
    if as_json:
        print(json.dumps({"services": rows}, indent=2))
        return 0
    table = Table(show_edge=False, pad_edge=False)
    for col in ("stack", "service", "container", "state", "health", "image", "ports", "sync"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["stack"],
            r["service"],
            r["container"],
            r["state"],
            r["health"],
            r["image"],
            ", ".join(r["ports"]) or "-",
            r["sync"],
        )
    console().print(table)
    return 0
