"""``stackctl status``: each container's state, health, image, ports, and whether it matches."""

from __future__ import annotations

from typing import Any

from stackctl.backends.docker.desired import DesiredState
from stackctl.backends.docker.observe import ObservedState
from stackctl.backends.docker.plan import plan
from stackctl.core.labels import TEMP_SUFFIX
from stackctl.core.status import ORPHAN, StatusTable, drift_reasons, sync_text

COLUMNS = (
    ("stack", "stack"),
    ("service", "service"),
    ("container", "container"),
    ("state", "state"),
    ("health", "health"),
    ("image", "image"),
    ("ports", "ports"),
    ("sync", "sync"),
)


def status_table(desired: DesiredState, observed: ObservedState) -> StatusTable:
    reasons = drift_reasons(lambda: plan(desired, observed))
    rows: list[dict[str, Any]] = []
    for dc in desired.containers:
        obs = observed.container(dc.name)
        rows.append(
            {
                "stack": dc.stack,
                "service": dc.service,
                "container": dc.name,
                "state": obs.state if obs else "-",
                "health": (obs.health if obs else None) or "-",
                "image": dc.image,
                "ports": list(obs.ports) if obs else [],
                "sync": sync_text(
                    dc.name, dc.stack, obs.stack if obs else None, obs is not None, reasons
                ),
            }
        )
    wanted = {dc.name for dc in desired.containers}
    ours = set(desired.stacks)
    for obs in observed.containers:  # no longer in the stack: kept until --prune
        if obs.stack in ours and obs.name not in wanted and not obs.name.endswith(TEMP_SUFFIX):
            rows.append(
                {
                    "stack": obs.stack,
                    "service": obs.service or "-",
                    "container": obs.name,
                    "state": obs.state,
                    "health": obs.health or "-",
                    "image": obs.image,
                    "ports": list(obs.ports),
                    "sync": ORPHAN,
                }
            )
    return StatusTable(COLUMNS, rows, "services")
