"""Saved plans (``stackctl plan -o FILE``), applied later with ``stackctl apply FILE``.

A plan file holds the redacted JSON plan, the stack paths it came from and the
fingerprint of what the daemon held. It never holds secret values: applying it loads the
stacks again, re-observes the daemon, plans again and refuses unless both the
fingerprint and the operations (ids, kinds, config hashes and steps) are the same.
Written with mode 0600.

``version`` is the file's own format: 2 since operations carry their steps (a paused
container is unpaused by its own kind). A file of another version is refused with a
clear message rather than compared (and called stale) field by field.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from stackctl.core.plan import Plan
from stackctl.core.redact import redact_known
from stackctl.errors import LoadError, StalePlanError
from stackctl.render import plan_json

MAGIC = "stackctl-plan"
VERSION = 2


def save(path: Path, plan: Plan, sources: list[Path], options: dict[str, Any]) -> None:
    data = {
        "kind": MAGIC,
        "version": VERSION,
        "sources": [str(p.resolve()) for p in sources],
        "options": options,
        "plan": redact_known(plan_json(plan)),  # the run's one redaction pass, as printed
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")


def is_plan_file(path: Path) -> bool:
    if not path.is_file() or path.suffix not in (".json", ".plan", ".tfplan", ""):
        return False
    try:
        with path.open(encoding="utf-8") as f:
            head = f.read(200)
    except (OSError, UnicodeDecodeError):
        return False
    return MAGIC in head


def read_plan(path: Path) -> dict[str, Any]:
    """The saved plan in ``path``; LoadError when it is not a readable stackctl plan file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise LoadError(f"{path}: not a readable plan file: {e}") from e
    if not isinstance(data, dict) or data.get("kind") != MAGIC:
        raise LoadError(f"{path}: not a stackctl plan file")
    version = data.get("version", 1)
    if version != VERSION:
        raise LoadError(
            f"{path}: a plan file of format {version}; this stackctl reads format {VERSION}",
            hint="make the plan again with this stackctl (stackctl plan -o FILE), review it, "
            "then apply it",
        )
    return data


def _shape(plan: dict[str, Any]) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
    return [
        (op["id"], op["kind"], op.get("config_hash"), tuple(op.get("steps", ())))
        for op in plan["operations"]
    ]


def check_fresh(saved: dict[str, Any], current: Plan) -> None:
    """Refuse a saved plan when the daemon or the stacks changed since it was made."""
    old = saved["plan"]
    if old["fingerprint"] != current.fingerprint:
        raise StalePlanError(
            "the saved plan is stale: the daemon changed since it was made",
            hint="run stackctl plan again and review the new plan",
        )
    if _shape(old) != _shape(plan_json(current)):
        raise StalePlanError(
            "the saved plan is stale: the stacks changed since it was made",
            hint="run stackctl plan again and review the new plan",
        )
