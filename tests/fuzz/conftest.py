"""The fuzz suite's settings and its count of inputs.

Hypothesis runs derandomized (the same examples every run, so CI is reproducible) with
budgets that keep the whole suite near a minute. ``FUZZ_SCALE=10`` runs ten times as many
examples; ``FUZZ_RANDOM=1`` draws new ones each run (to explore; failures print their seed).
At the end of the session the terminal summary says ``fuzz inputs run: N``.
"""

from __future__ import annotations

import pytest

from tests.fuzz.harness import COUNTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTS["secret-inputs"]:
        terminalreporter.write_sep("-", "secrets")
        terminalreporter.write_line(
            f"generated secret inputs: {COUNTS['secret-inputs']} "
            f"(outputs searched: {COUNTS['secret-outputs']}; a leak fails the test)"
        )
    if not COUNTS["inputs"]:
        return
    kinds = ("validate", "plan", "loader", "planner", "plan files")
    runs = ", ".join(f"{k}: {COUNTS[k]}" for k in kinds)
    terminalreporter.write_sep("-", "fuzz")
    terminalreporter.write_line(f"fuzz inputs run: {COUNTS['inputs']} ({runs})")
