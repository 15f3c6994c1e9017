"""Waiting for a dependency's condition: started, healthy, or completed successfully.

Driven by the daemon's events (health_status, die, start) rather than a tight poll: each
round inspects the container once, then blocks on its events for up to two seconds. A
daemon that restarts meanwhile is waited out until the deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from stackctl.errors import DaemonUnavailableError, WaitCancelled, WaitError
from stackctl.model import Condition


class _Engine(Protocol):
    def inspect_container(self, name: str) -> dict[str, Any] | None: ...
    def events(self, filters: dict[str, list[str]], since: float, until: float) -> Any: ...


def last_health_output(state: dict[str, Any]) -> str:
    log = ((state.get("Health") or {}).get("Log")) or []
    if not log:
        return "(no health check has run yet)"
    out = str(log[-1].get("Output") or "").strip()
    return out[-500:] if out else f"(exit code {log[-1].get('ExitCode')}, no output)"


def judge(name: str, condition: Condition, info: dict[str, Any] | None) -> bool:
    """True when met, False when not yet; raises WaitError when it never will be."""
    if info is None:
        raise WaitError(f"{name} does not exist (removed while waiting?)")
    state: dict[str, Any] = info.get("State") or {}
    status = state.get("Status")
    exit_code = state.get("ExitCode")
    if condition == Condition.STARTED:
        return bool(state.get("Running")) or (status == "exited" and bool(state.get("StartedAt")))
    if condition == Condition.COMPLETED:
        if status in ("exited", "dead"):
            if exit_code == 0:
                return True
            raise WaitError(f"{name} exited with code {exit_code}; it had to complete successfully")
        return False
    # healthy
    health = state.get("Health")
    if status in ("exited", "dead"):
        detail = f"; last health output: {last_health_output(state)}" if health else ""
        raise WaitError(f"{name} exited with code {exit_code} before it was healthy{detail}")
    if health is None:
        raise WaitError(
            f"{name} has no health check, so it can never be healthy",
            hint="give the service a healthcheck or depend on it with service_started",
        )
    if health.get("Status") == "healthy":
        return True
    if health.get("Status") == "unhealthy":
        raise WaitError(f"{name} is unhealthy; last health output: {last_health_output(state)}")
    return False


class EventWaiter:
    """Waits on one daemon; ``cancel`` (Ctrl-C, a failed operation) ends every wait."""

    def __init__(self, engine: _Engine, cancel: threading.Event | None = None) -> None:
        self.engine = engine
        self.cancel = cancel or threading.Event()

    def wait_for(
        self,
        container: str,
        condition: Condition,
        deadline: float,
        progress: Callable[[str], None],
    ) -> None:
        verb = {
            Condition.STARTED: "running",
            Condition.HEALTHY: "healthy",
            Condition.COMPLETED: "completed",
        }[condition]
        start = time.time()
        info: dict[str, Any] | None = None
        while True:
            mark = time.time()  # events after this moment may change the verdict
            try:
                info = self.engine.inspect_container(container)
                if judge(container, condition, info):
                    return
            except DaemonUnavailableError:
                if time.time() >= deadline:
                    raise
                progress("daemon unavailable; retrying")
                self.cancel.wait(1.0)
                continue
            now = time.time()
            if now >= deadline:
                state = (info or {}).get("State") or {}
                detail = ""
                if condition == Condition.HEALTHY:
                    detail = f"; last health output: {last_health_output(state)}"
                raise WaitError(
                    f"{container} was not {verb} after {now - start:.0f}s "
                    f"(state {state.get('Status')}){detail}",
                    hint=f"raise --wait-timeout, or check the service with docker logs {container}",
                )
            if self.cancel.is_set():
                raise WaitCancelled(f"stopped waiting for {container} to be {verb}")
            progress(f"waiting for {verb} {now - start:.0f}s")
            try:
                for _event in self.engine.events(
                    filters={"container": [container], "type": ["container"]},
                    since=mark,
                    until=min(deadline, now + 2),
                ):
                    break
            except DaemonUnavailableError:
                self.cancel.wait(1.0)
