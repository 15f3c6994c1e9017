"""Waiting for a dependency's condition: started, healthy, or completed successfully.

Driven by the daemon's events (health_status, die, start) rather than a tight poll: each
round inspects the container once, then blocks on its events for up to two seconds; a
"healthy" (or, for started, "start") event ends the wait without another inspect. A
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


RESTARTED_BY_DAEMON = ("always", "unless-stopped")

# The container events that can change a verdict: not the exec_create/exec_start/exec_die
# of every health check run, which woke a wait (an inspect, a new stream) for nothing.
# "health_status" matches "health_status: healthy" and the others (a prefix match).
EVENTS = ["start", "restart", "die", "destroy", "health_status"]


def met_by(condition: Condition, event: dict[str, Any]) -> bool:
    """An event that by itself says the condition is met (no inspect needed)."""
    action = str(event.get("Action") or event.get("status") or "")
    if condition == Condition.HEALTHY:
        return action == "health_status: healthy"
    return condition == Condition.STARTED and action == "start"


class EventWaiter:
    """Waits on one daemon; ``cancel`` (Ctrl-C, a failed operation) ends every wait."""

    def __init__(self, engine: _Engine, cancel: threading.Event | None = None) -> None:
        self.engine = engine
        self.cancel = cancel or threading.Event()

    def _restarted_by_daemon(
        self, container: str, info: dict[str, Any] | None, deadline: float, grace: float = 2.0
    ) -> bool:
        """An exit the daemon undoes: a daemon that shuts down (an upgrade, a restart) stops
        its containers first, and starts those with restart policy always or unless-stopped
        again once it is back. Look again shortly: True if it is down, or the container runs
        again; a stop by hand, or a crash without such a policy, stays a failure."""
        state = (info or {}).get("State") or {}
        policy = ((info or {}).get("HostConfig") or {}).get("RestartPolicy") or {}
        if state.get("Status") != "exited" or policy.get("Name") not in RESTARTED_BY_DAEMON:
            return False
        if time.time() + grace >= deadline or self.cancel.wait(grace):
            return False
        try:
            again = (self.engine.inspect_container(container) or {}).get("State") or {}
        except DaemonUnavailableError:
            return True
        return bool(again.get("Running") or again.get("Restarting")) or (
            again.get("StartedAt") != state.get("StartedAt")
        )

    def wait_for(
        self,
        container: str,
        condition: Condition,
        deadline: float,
        progress: Callable[[str], None],
    ) -> None:
        verb = condition.verb
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
            except WaitError:
                if not self._restarted_by_daemon(container, info, deadline):
                    raise
                progress("stopped by its daemon; waiting for it to start again")
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
                for event in self.engine.events(
                    filters={"container": [container], "type": ["container"], "event": EVENTS},
                    since=mark,
                    until=min(deadline, now + 2),
                ):
                    if met_by(condition, event):
                        return
                    break
            except DaemonUnavailableError:
                self.cancel.wait(1.0)
