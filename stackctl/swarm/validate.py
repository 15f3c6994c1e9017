"""Moved to :mod:`stackctl.rules`: the swarm rules are ``stackctl.rules.swarm`` (rules with
``engines=("swarm",)`` in the one table) and ``resolve_engine`` is
``stackctl.rules.engine``.

Kept only for ``stackctl.pipeline``, which still calls ``validate(stacks)`` and then
``validate_swarm(stacks)`` on a swarm; ``stackctl.rules.validate(stacks, engine=engine)``
does both. Remove once pipeline.py uses that.
"""

from __future__ import annotations

from collections.abc import Sequence

from stackctl.errors import Diagnostic
from stackctl.model import Stack
from stackctl.rules import resolve_engine, run_rules
from stackctl.rules.swarm import RULES as SWARM_RULES

__all__ = ["resolve_engine", "validate_swarm"]


def validate_swarm(stacks: Sequence[Stack]) -> list[Diagnostic]:
    """Errors and warnings for fields Swarm cannot honour, in every stack (the swarm-only
    rules, without the ones every engine runs)."""
    return run_rules(stacks, SWARM_RULES)
