"""``stackctl status`` as data: each backend fills a table, the CLI prints it.

The sync column is judged the same way for containers and services: the plan that apply
would make says why a unit differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stackctl.core.plan import Kind, Plan
from stackctl.errors import PlanError

ORPHAN = "orphan (no longer in the stack; --prune removes it)"


@dataclass(frozen=True)
class StatusTable:
    columns: tuple[tuple[str, str], ...]  # (row key, column title)
    rows: list[dict[str, Any]]
    key: str  # the JSON document's key: "services"


def drift_reasons(make_plan: Callable[[], Plan]) -> dict[str, str]:
    """Unit name -> why apply would change it; ``"*"`` -> why the plan cannot be made."""
    reasons: dict[str, str] = {}
    try:
        for op in make_plan().operations:
            if op.unit is not None and op.kind != Kind.WAIT:
                reasons[op.unit.name] = op.reason
    except PlanError as e:
        reasons["*"] = e.message
    return reasons


def sync_text(
    name: str, wanted_stack: str, found_stack: str | None, found: bool, reasons: dict[str, str]
) -> str:
    if not found:
        return "missing"
    if found_stack != wanted_stack:
        return "not ours (name taken)"
    if name in reasons:
        return f"drifted: {reasons[name]}"
    return "in sync"
