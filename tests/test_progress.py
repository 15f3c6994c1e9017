"""The closing lines of apply and destroy: what happened, and which command to run again."""

from __future__ import annotations

from stackctl.core.plan import Kind, Operation
from stackctl.execute import ApplyResult
from stackctl.progress import summary_lines

NET = Operation("remove-network:s_back", Kind.REMOVE_NETWORK, "s_back", "s", "destroy")
WEB = Operation("remove:s-web-1", Kind.REMOVE, "s-web-1", "s", "destroy")


def test_a_failed_destroy_says_to_run_destroy_again() -> None:
    result = ApplyResult(done=[WEB], failed=[(NET, "has active endpoints")], seconds=21.5)
    lines = summary_lines(result, "destroy")
    assert lines[0] == "Destroy failed after 21.5s."
    assert "  failed: remove network s_back: has active endpoints" in lines
    assert lines[-1] == "Fix the cause and run destroy again: it continues from where this stopped."


def test_apply_is_the_default() -> None:
    lines = summary_lines(ApplyResult(done=[WEB], seconds=1.25))
    assert lines == ["Apply complete in 1.2s: 1 done."]


def test_interrupted_lists_what_never_started() -> None:
    result = ApplyResult(done=[], not_started=[WEB], interrupted=True, seconds=0.4)
    lines = summary_lines(result, "destroy")
    assert lines[0] == "Destroy interrupted after 0.4s."
    assert "  never started (1): remove container s-web-1" in lines
