"""Moved to :mod:`stackctl.rules` (the rules table, one module per family).

Kept only for the modules that still import from here (``stackctl.pipeline``:
``validate``; ``stackctl.cli.graph_cmd``: ``ensure_valid``); new code imports
``stackctl.rules``. Remove once those two do.
"""

from stackctl.rules import ensure_valid, validate

__all__ = ["ensure_valid", "validate"]
