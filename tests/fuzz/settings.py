"""Hypothesis settings for the fuzz suite: reproducible in CI, scalable by hand."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"


def fuzz(examples: int) -> settings:
    """``examples`` per run (times FUZZ_SCALE); no deadline (the daemon and cold imports
    make single examples slow now and then; the suite's total time is what is budgeted)."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
    )
