"""The swarm engine: services, overlay networks and rollout waits on a swarm manager.

``SwarmEngine`` is a DockerEngine (same client, error mapping, reads and volume writes)
talking to a manager node, plus the service calls: create, update (with the spec version
the plan saw, so a concurrent change is refused), remove, and waits on tasks.

Rollouts are watched by polling the service and its tasks (Swarm has no task events):
a create or update returns once every replica of the new spec is running — and for a
service with a health check Swarm only calls a task running once it is healthy — or
raises, naming the tasks that failed and why, when the rollout paused or was rolled back
(``failure_action``), when tasks keep failing, or at the deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import docker.errors

from stackctl.backends.swarm.desired import SwarmSecret, SwarmService
from stackctl.engine.docker import (
    DockerEngine,
    _daemon_error,
    _lost,
    describe_target,
    no_answer,
)
from stackctl.errors import (
    ApplyError,
    DaemonError,
    StackctlError,
    WaitError,
)
from stackctl.model import Condition

POLL = 0.5
FAILED = ("failed", "rejected", "orphaned")
ROLLED_BACK = ("rollback_completed", "rollback_paused")
Progress = Callable[[str], None]


def _network_busy(exc: BaseException) -> bool:
    if not isinstance(exc, docker.errors.APIError):
        return False
    text = str(exc.explanation or "")
    return "active endpoints" in text or "in use by task" in text or "is in use" in text


class SwarmEngine(DockerEngine):
    """A swarm manager. Raises if the daemon is not one."""

    name = "swarm"

    def __init__(self, base_url: str | None = None, timeout: int = 120) -> None:
        super().__init__(base_url, timeout)
        info = self._read("read swarm info", lambda: self.client.info())
        self._info = dict(info or {})  # identity() needs no second GET /info
        swarm = (info or {}).get("Swarm") or {}
        if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
            state = swarm.get("LocalNodeState") or "inactive"
            raise StackctlError(
                f"the daemon at {describe_target()} is not a swarm manager (swarm: {state})",
                hint="point DOCKER_HOST at a manager node, or make this one a swarm "
                "(docker swarm init); --engine docker deploys to one host instead",
            )
        self.cancel = threading.Event()

    # ------------------------------------------------------------------ reads

    def list_services(self) -> list[dict[str, Any]]:
        return list(self._read("list services", lambda: self.client.services()))

    def list_tasks(self, service_id: str | None = None) -> list[dict[str, Any]]:
        filters = {"service": [service_id]} if service_id else None
        return list(self._read("list tasks", lambda: self.client.tasks(filters=filters)))

    def list_nodes(self) -> list[dict[str, Any]]:
        return list(self._read("list nodes", lambda: self.client.nodes()))

    def list_secrets(self) -> list[dict[str, Any]]:
        """Every swarm secret: ids, names and labels (the daemon never returns content)."""
        return list(self._read("list secrets", lambda: self.client.secrets()))

    def inspect_service(self, ref: str) -> dict[str, Any] | None:
        try:
            return dict(self._read("inspect service", lambda: self.client.inspect_service(ref)))
        except DaemonError as e:
            if "not found" in str(e).lower():
                return None
            raise

    # ------------------------------------------------------------------ networks

    # An overlay network stays busy until the tasks of removed services are gone from it.
    network_busy_seconds = 60.0
    network_busy_backoff = 0.2

    def network_busy(self, exc: BaseException) -> bool:
        return _network_busy(exc)

    # ------------------------------------------------------------------ secrets

    def create_secret(self, secret: SwarmSecret) -> str:
        """Create a file secret (its name holds a digest of its content, so one that exists
        under that name already holds this content)."""
        if secret.external:
            raise ApplyError(f"secret {secret.name} is external: stackctl does not create it")
        try:
            result = self.client.create_secret(secret.name, secret.data, labels=secret.labels)
        except docker.errors.APIError as e:
            if e.status_code == 409:  # made by an interrupted apply: same name, same content
                return secret.name
            raise _daemon_error(f"create secret {secret.name}", e) from e
        except no_answer() as e:
            raise _lost(f"create secret {secret.name}", e) from e
        return str((result or {}).get("ID", secret.name))

    def remove_secret(self, ref: str) -> None:
        self._gone(f"remove secret {ref}", lambda: self.client.remove_secret(ref))

    def _resolved(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``spec`` with each secret reference's SecretID, looked up by name (one list)."""
        refs = ((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Secrets")
        if not refs:
            return spec
        ids = {
            str((s.get("Spec") or {}).get("Name", "")): str(s.get("ID", ""))
            for s in self.list_secrets()
        }
        missing = sorted(r["SecretName"] for r in refs if r["SecretName"] not in ids)
        if missing:
            raise ApplyError(
                f"service {spec.get('Name')} needs secret(s) that do not exist on the swarm: "
                + ", ".join(missing),
                hint="plan again: stackctl creates the stack's file secrets before the services",
            )
        for r in refs:
            r["SecretID"] = ids[r["SecretName"]]
        return spec

    # ------------------------------------------------------------------ services

    def create_service(self, svc: SwarmService, deadline: float, progress: Progress) -> str:
        url = self.client._url("/services/create")
        spec = self._resolved(svc.spec())
        progress("creating")
        result = self._write(
            f"create service {svc.name}",
            lambda: self.client._result(self.client._post_json(url, data=spec), json=True),
        )
        service_id = str(result["ID"])
        for warning in result.get("Warnings") or []:
            if "could not be accessed on a registry" not in str(warning):
                progress(f"daemon warning: {warning}")
        self.wait_rollout(service_id, svc.name, svc.oneshot, deadline, progress, None)
        return service_id

    def update_service(
        self,
        svc: SwarmService,
        service_id: str,
        version: int | None,
        deadline: float,
        progress: Progress,
    ) -> None:
        before = self.inspect_service(service_id)
        if before is None:
            raise ApplyError(f"service {svc.name} was removed since the plan; plan again")
        started = (before.get("UpdateStatus") or {}).get("StartedAt")
        planned = version if version is not None else int(before["Version"]["Index"])
        url = self.client._url("/services/{0}/update", service_id)
        spec = self._resolved(svc.spec())
        progress("rolling update")
        try:
            self.client._result(
                self.client._post_json(url, data=spec, params={"version": planned}), json=True
            )
        except no_answer() as e:
            raise _lost(f"update service {svc.name}", e) from e
        except docker.errors.APIError as e:
            if "out of sequence" in str(e.explanation):
                raise ApplyError(
                    f"service {svc.name} changed since the plan (planned against spec version "
                    f"{planned}); nothing was updated",
                    hint="run plan (or apply) again to see the current difference",
                ) from e
            raise _daemon_error(f"update service {svc.name}", e) from e
        self.wait_rollout(service_id, svc.name, svc.oneshot, deadline, progress, started or "")

    def remove_service(self, ref: str, deadline: float, progress: Progress) -> None:
        progress("removing")
        try:
            self.client.remove_service(ref)
        except docker.errors.NotFound:
            return  # nothing to wait for
        except docker.errors.APIError as e:
            raise _daemon_error(f"remove service {ref}", e) from e
        except no_answer() as e:
            raise _lost(f"remove service {ref}", e) from e
        # Its tasks stop asynchronously; wait (bounded) so networks can go right after.
        end = min(deadline, time.time() + 30)
        while time.time() < end and not self.cancel.is_set():
            live = [
                t
                for t in self.list_tasks()
                if t.get("ServiceID") == ref
                and (t.get("Status") or {}).get("State")
                in (
                    "new",
                    "pending",
                    "assigned",
                    "accepted",
                    "preparing",
                    "ready",
                    "starting",
                    "running",
                )
            ]
            if not live:
                return
            progress(f"waiting for {len(live)} task(s) to stop")
            time.sleep(POLL)

    # ------------------------------------------------------------------ rollouts and waits

    def wait_rollout(
        self,
        service_id: str,
        name: str,
        oneshot: bool,
        deadline: float,
        progress: Progress,
        previous_update: str | None,
    ) -> None:
        """Until every replica of the current spec runs (or, for a one-shot, completed)."""
        t0 = time.time()
        while True:
            svc = self.inspect_service(service_id)
            if svc is None:
                raise ApplyError(f"service {name} disappeared during its rollout")
            tasks = self.list_tasks(service_id)
            update = svc.get("UpdateStatus") or {}
            state = update.get("State")
            ours = previous_update is not None and update.get("StartedAt") != previous_update
            if ours and state in ("paused", *ROLLED_BACK):
                what = "was rolled back" if state in ROLLED_BACK else "paused"
                raise ApplyError(
                    f"the rolling update of {name} {what} ({state}: "
                    f"{update.get('Message', '')}){self._failures(tasks)}",
                    hint=f"see `docker service ps --no-trunc {name}`; fix the stack and apply "
                    "again"
                    + (
                        ""
                        if state in ROLLED_BACK
                        else ", or set update_config.failure_action: rollback"
                    ),
                )
            updating = ours and state in ("updating", "rollback_started")
            done, detail = converged(svc, tasks, oneshot)
            if done and not updating:
                return
            failures = [t for t in tasks if (t.get("Status") or {}).get("State") in FAILED]
            replicas = _replicas(svc) or 1
            if not updating and len(failures) >= max(3, 2 * replicas):
                raise ApplyError(
                    f"service {name} does not start: {len(failures)} tasks failed"
                    f"{self._failures(tasks)}",
                    hint=f"see `docker service ps --no-trunc {name}` and `docker service logs "
                    f"{name}`",
                )
            now = time.time()
            if now >= deadline:
                raise WaitError(
                    f"the rollout of {name} did not converge after {now - t0:.0f}s ({detail})"
                    f"{self._failures(tasks)}",
                    hint=f"raise --wait-timeout, or check `docker service ps --no-trunc {name}`",
                )
            if self.cancel.is_set():
                raise WaitError(f"stopped waiting for the rollout of {name}")
            progress(f"{'updating' if updating else 'converging'}: {detail}")
            self.cancel.wait(POLL)

    def _failures(self, tasks: list[dict[str, Any]]) -> str:
        failed = [t for t in tasks if (t.get("Status") or {}).get("State") in FAILED]
        if not failed:
            return ""
        nodes = {
            n["ID"]: (n.get("Description") or {}).get("Hostname", n["ID"][:12])
            for n in self.list_nodes()
        }
        failed.sort(key=lambda t: str((t.get("Status") or {}).get("Timestamp", "")), reverse=True)
        lines = []
        for t in failed[:5]:
            st = t.get("Status") or {}
            why = st.get("Err") or st.get("Message") or "no reason given"
            lines.append(
                f"task {t['ID'][:12]} (slot {t.get('Slot', '-')}) on "
                f"{nodes.get(t.get('NodeID', ''), t.get('NodeID', '-')[:12] or '-')}: "
                f"{st.get('State')}: {why}"
            )
        more = f"\n  ... and {len(failed) - 5} more" if len(failed) > 5 else ""
        return "; failed tasks:\n  " + "\n  ".join(lines) + more


def _replicas(svc: dict[str, Any]) -> int | None:
    mode = (svc.get("Spec") or {}).get("Mode") or {}
    if "Replicated" in mode:
        return int((mode["Replicated"] or {}).get("Replicas", 1))
    return None


def _same_spec(task: dict[str, Any], template: dict[str, Any]) -> bool:
    spec = task.get("Spec") or {}
    return spec.get("ContainerSpec") == template.get("ContainerSpec") and spec.get(
        "ForceUpdate", 0
    ) == template.get("ForceUpdate", 0)


def converged(svc: dict[str, Any], tasks: list[dict[str, Any]], oneshot: bool) -> tuple[bool, str]:
    """Every replica of the current spec running (one-shots: completed or running)."""
    template = (svc.get("Spec") or {}).get("TaskTemplate") or {}
    wanted = [t for t in tasks if t.get("DesiredState") in ("running", "ready", "accepted")]
    current = [t for t in wanted if _same_spec(t, template)]
    ok_states = ("running", "complete") if oneshot else ("running",)
    good = [t for t in current if (t.get("Status") or {}).get("State") in ok_states]
    replicas = _replicas(svc)
    need = replicas if replicas is not None else max(1, len(wanted))
    stale = len(wanted) - len(current)
    detail = f"{len(good)}/{need} running"
    if stale:
        detail += f", {stale} of the old spec"
    if oneshot:
        done = sum(1 for t in tasks if (t.get("Status") or {}).get("State") == "complete")
        if done >= need and not stale:
            return True, f"{done}/{need} completed"
    return (len(good) >= need and not stale), detail


class SwarmWaiter:
    """Waits for a dependency service's condition (the executor's Waiter, for swarm)."""

    def __init__(self, engine: SwarmEngine, cancel: threading.Event | None = None) -> None:
        self.engine = engine
        self.cancel = cancel or threading.Event()
        engine.cancel = self.cancel

    def wait_for(
        self, container: str, condition: Condition, deadline: float, progress: Progress
    ) -> None:
        name = container  # a swarm service name
        verb = condition.verb
        t0 = time.time()
        while True:
            svc = self.engine.inspect_service(name)
            if svc is None:
                raise WaitError(f"service {name} does not exist (removed while waiting?)")
            template = (svc.get("Spec") or {}).get("TaskTemplate") or {}
            health = (template.get("ContainerSpec") or {}).get("Healthcheck")
            if condition == Condition.HEALTHY and (
                health is None or (health.get("Test") or [""])[0] == "NONE"
            ):
                raise WaitError(
                    f"service {name} has no health check, so it can never be healthy",
                    hint="give the service a healthcheck or depend on it with service_started",
                )
            tasks = self.engine.list_tasks(svc["ID"])
            if condition == Condition.COMPLETED:
                failed = [t for t in tasks if (t.get("Status") or {}).get("State") in FAILED]
                if failed:
                    raise WaitError(
                        f"service {name} had to complete successfully but "
                        f"{len(failed)} task(s) failed{self.engine._failures(tasks)}"
                    )
                done, detail = converged(svc, tasks, oneshot=True)
                done = done and all(
                    (t.get("Status") or {}).get("State") == "complete"
                    for t in tasks
                    if t.get("DesiredState") != "shutdown"
                )
            else:
                # Swarm reports a task with a health check running only once it is healthy.
                done, detail = converged(svc, tasks, oneshot=False)
            if done:
                return
            now = time.time()
            if now >= deadline:
                raise WaitError(
                    f"service {name} was not {verb} after {now - t0:.0f}s ({detail})"
                    f"{self.engine._failures(tasks)}",
                    hint=f"raise --wait-timeout, or check `docker service ps --no-trunc {name}`",
                )
            if self.cancel.is_set():
                raise WaitError(f"stopped waiting for {name} to be {verb}")
            progress(f"waiting for {verb}: {detail}")
            self.cancel.wait(POLL)
