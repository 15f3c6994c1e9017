"""Plans for people (like ``terraform plan``) and for scripts (versioned JSON).

Secrets never leave here: a sensitive value is ``(sensitive value)`` in text and JSON.
The text is a list of (text, style) segments: the CLI prints them in colour on a terminal
and as plain text when piped (see ``stackctl.cli.common.print_styled``); nothing here
imports rich, so a piped or scripted command never loads it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from stackctl.core.plan import (
    ADDS,
    ADOPTS,
    CHANGES,
    DESTROYS,
    REPLACES,
    Change,
    Kind,
    Operation,
    Plan,
)

PLAN_FORMAT_VERSION = 1
SENSITIVE = "(sensitive value)"

Segment = tuple[str, str]
"""A piece of text and its rich style (``""``: none)."""

SYMBOLS: dict[Kind, tuple[str, str]] = {
    Kind.PULL: ("+", "cyan"),
    Kind.BUILD: ("+", "cyan"),
    Kind.CREATE_NETWORK: ("+", "green"),
    Kind.CREATE_VOLUME: ("+", "green"),
    Kind.CREATE: ("+", "green"),
    Kind.START: ("~", "yellow"),
    Kind.UNPAUSE: ("~", "yellow"),
    Kind.RESTART: ("~", "yellow"),
    Kind.UPDATE: ("~", "yellow"),
    Kind.REPLACE: ("-/+", "magenta"),
    Kind.REPLACE_NETWORK: ("-/+", "magenta"),
    Kind.REMOVE: ("-", "red"),
    Kind.REMOVE_NETWORK: ("-", "red"),
    Kind.REMOVE_VOLUME: ("-", "red"),
    Kind.WAIT: ("…", "blue"),
    Kind.ADOPT: ("=", "cyan"),
    Kind.ADOPT_NETWORK: ("=", "cyan"),
    Kind.ADOPT_VOLUME: ("=", "cyan"),
    Kind.CREATE_SERVICE: ("+", "green"),
    Kind.UPDATE_SERVICE: ("~", "yellow"),
    Kind.REMOVE_SERVICE: ("-", "red"),
    Kind.CREATE_SECRET: ("+", "green"),
    Kind.REMOVE_SECRET: ("-", "red"),
}

NOUNS: dict[Kind, str] = {
    Kind.PULL: "image",
    Kind.BUILD: "image",
    Kind.CREATE_NETWORK: "network",
    Kind.CREATE_VOLUME: "volume",
    Kind.CREATE: "container",
    Kind.START: "container",
    Kind.UNPAUSE: "container",
    Kind.RESTART: "container",
    Kind.UPDATE: "container",
    Kind.REPLACE: "container",
    Kind.REPLACE_NETWORK: "network",
    Kind.REMOVE: "container",
    Kind.REMOVE_NETWORK: "network",
    Kind.REMOVE_VOLUME: "volume",
    Kind.WAIT: "wait",
    Kind.ADOPT: "container",
    Kind.ADOPT_NETWORK: "network",
    Kind.ADOPT_VOLUME: "volume",
    Kind.CREATE_SERVICE: "service",
    Kind.UPDATE_SERVICE: "service",
    Kind.REMOVE_SERVICE: "service",
    Kind.CREATE_SECRET: "secret",
    Kind.REMOVE_SECRET: "secret",
}

VERBS: dict[Kind, str] = {
    Kind.PULL: "pull",
    Kind.BUILD: "build",
    Kind.CREATE_NETWORK: "create",
    Kind.CREATE_VOLUME: "create",
    Kind.CREATE: "create",
    Kind.START: "start",
    Kind.UNPAUSE: "unpause",
    Kind.RESTART: "restart",
    Kind.UPDATE: "update in place",
    Kind.REPLACE: "replace",
    Kind.REPLACE_NETWORK: "replace",
    Kind.REMOVE: "remove",
    Kind.REMOVE_NETWORK: "remove",
    Kind.REMOVE_VOLUME: "remove",
    Kind.WAIT: "wait",
    Kind.ADOPT: "adopt",
    Kind.ADOPT_NETWORK: "adopt",
    Kind.ADOPT_VOLUME: "adopt",
    Kind.CREATE_SERVICE: "create",
    Kind.UPDATE_SERVICE: "update (rolling)",
    Kind.REMOVE_SERVICE: "remove",
    Kind.CREATE_SECRET: "create",
    Kind.REMOVE_SECRET: "remove",
}


def _value(value: Any, sensitive: bool) -> str:
    if sensitive:
        return SENSITIVE
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def describe(op: Operation) -> str:
    """``container matrix-synapse-1`` / ``wait for postgres healthy``."""
    if op.kind == Kind.WAIT:
        cond = op.condition.value.removeprefix("service_") if op.condition else ""
        return f"wait for {op.service} {cond.replace('_', ' ')}"
    return f"{VERBS[op.kind]} {NOUNS[op.kind]} {op.resource}"


def _orphans_note(plan: Plan) -> str:
    n = len(plan.orphans)
    return f" {n} orphan{'s' if n != 1 else ''} kept (--prune removes)." if n else ""


def summary(plan: Plan) -> str:
    if not plan.has_changes:
        return "No changes. The daemon matches the stack." + _orphans_note(plan)
    add = plan.count(ADDS)
    change = plan.count(CHANGES)
    replace = plan.count(REPLACES)
    destroy = plan.count(DESTROYS)
    pulls = plan.count({Kind.PULL})
    builds = plan.count({Kind.BUILD})
    text = f"Plan: {add} to add, {change} to change, {replace} to replace, {destroy} to destroy."
    adopt = plan.count(ADOPTS)
    if adopt:
        text += f" {adopt} to adopt (made by docker compose, kept as they run)."
    if pulls:
        text += f" {pulls} image{'s' if pulls != 1 else ''} to pull."
    if builds:
        text += f" {builds} image{'s' if builds != 1 else ''} to build."
    return text + _orphans_note(plan)


def sections(plan: Plan) -> list[tuple[str | None, list[Operation]]]:
    """The operations under a header each: for several stacks, the images to pull first
    (they belong to no stack), then each stack's operations in the stacks' order; one
    stack needs no header. Within a section, the plan's own order."""
    if len(plan.stacks) <= 1:
        return [(None, list(plan.operations))]
    pulls = [op for op in plan.operations if op.stack is None]
    out: list[tuple[str | None, list[Operation]]] = [("images", pulls)] if pulls else []
    named = [
        *plan.stacks,
        *sorted({op.stack for op in plan.operations if op.stack} - set(plan.stacks)),
    ]
    for stack in named:
        ops = [op for op in plan.operations if op.stack == stack]
        if ops:
            out.append((f"stack {stack}", ops))
    return out


def _operation(op: Operation, add: Callable[..., None]) -> None:
    symbol, style = SYMBOLS[op.kind]
    add(f"{symbol:>3} ", style=f"bold {style}")
    add(describe(op), style=style)
    add(f"  ({op.reason})\n", style="dim")
    for change in op.changes:
        add(f"      {change.path}: ", style="dim")
        add(_value(change.old, change.sensitive), style="red")
        add(" → ")
        add(_value(change.new, change.sensitive), style="green")
        add("\n")
    for note in op.notes:
        add(f"      {note}\n", style="dim")


def partial_note(plan: Plan) -> str:
    """What a partial plan (``--target``) covers, and that it leaves the rest alone."""
    given = " ".join(f"--target {t}" for t in plan.targets)
    services = ", ".join(plan.target_services)
    return (
        f"Partial plan: {given} (services planned: {services}); other services are left "
        "as they are and may not match the stacks."
    )


def plan_segments(plan: Plan, *, verbose: bool = False) -> list[Segment]:
    """The plan as styled text segments, in order."""
    out: list[Segment] = []

    def add(text: str, style: str = "") -> None:
        out.append((text, style))

    if plan.targets:
        add(partial_note(plan) + "\n\n", style="bold yellow")
    for warning in plan.warnings:
        add("warning: ", style="bold yellow")
        add(warning + "\n")
    if plan.warnings:
        add("\n")
    for header, ops in sections(plan):
        if header:
            add(f"# {header}\n", style="bold")
        for op in ops:
            _operation(op, add)
    for orphan in plan.orphans:
        add("  ! ", style="bold yellow")
        add(f"orphan: {orphan.label}", style="yellow")
        where = "" if orphan.label.endswith(orphan.name) else f"{orphan.noun} {orphan.name}, "
        add(f"  ({where}kept; --prune removes it)\n", style="dim")
    if verbose and plan.unchanged:
        add("\n")
        for name in plan.unchanged:
            add(f"    {name}  (unchanged)\n", style="dim")
    if plan.operations or plan.orphans:
        add("\n")
    add(summary(plan) + "\n", style="bold")
    return out


def plain(segments: Iterable[Segment]) -> str:
    """Segments without their styles: what a pipe or a log file gets."""
    return "".join(text for text, _ in segments)


def plan_text(plan: Plan, *, verbose: bool = False) -> str:
    """The plan as plain text."""
    return plain(plan_segments(plan, verbose=verbose))


def change_json(change: Change) -> dict[str, Any]:
    return {
        "path": change.path,
        "old": SENSITIVE if change.sensitive else change.old,
        "new": SENSITIVE if change.sensitive else change.new,
        "sensitive": change.sensitive,
    }


def operation_json(op: Operation) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": op.id,
        "kind": op.kind.value,
        "action": VERBS[op.kind],
        "resource": {"type": NOUNS[op.kind], "name": op.resource, "stack": op.stack},
        "reason": op.reason,
        "changes": [change_json(c) for c in op.changes],
        "depends_on": list(op.depends_on),
    }
    if op.unit is not None:
        data["resource"]["service"] = op.unit.service
        data["config_hash"] = op.unit.config_hash
    if op.network is not None:
        data["config_hash"] = op.network.config_hash
    if op.build is not None:
        data["resource"]["service"] = op.build.services[0]
        data["config_hash"] = op.build.digest
    if op.version is not None:
        data["version"] = op.version
    if op.kind == Kind.WAIT:
        data["wait"] = {
            "service": op.service,
            "condition": op.condition.value if op.condition else None,
            "containers": list(op.wait_for),
        }
    if op.target_id:
        data["target_id"] = op.target_id
    if op.steps:
        data["steps"] = [step.value for step in op.steps]
    if op.rollback:
        data["rollback"] = [step.value for step in op.rollback]
    if op.notes:
        data["notes"] = list(op.notes)
    return data


def plan_json(plan: Plan) -> dict[str, Any]:
    """The documented, versioned plan format (``format_version`` bumps on breaking change)."""
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "stacks": list(plan.stacks),
        "destroy": plan.destroy,
        "fingerprint": plan.fingerprint,
        "api_version": plan.api_version,
        "has_changes": plan.has_changes,
        "summary": {
            "add": plan.count(ADDS),
            "change": plan.count(CHANGES),
            "replace": plan.count(REPLACES),
            "destroy": plan.count(DESTROYS),
            "pull": plan.count({Kind.PULL}),
            "build": plan.count({Kind.BUILD}),
            "wait": plan.count({Kind.WAIT}),
            "adopt": plan.count(ADOPTS),
        },
        "operations": [operation_json(op) for op in plan.operations],
        "unchanged": list(plan.unchanged),
        "warnings": list(plan.warnings),
        "targets": list(plan.targets),  # --target: a partial plan (empty: the whole stacks)
        "target_services": list(plan.target_services),
        "orphans": [
            {"type": o.noun, "name": o.name, "stack": o.stack, "service": o.service}
            for o in plan.orphans
        ],
    }
