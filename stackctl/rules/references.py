"""References that lead nowhere, and waits that can never end.

unknown-network, unknown-volume, unknown-secret, unknown-service, dependency-cycle,
healthcheck-missing (a warning: the image may define one), healthcheck-disabled.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Iterator

from stackctl.errors import did_you_mean
from stackctl.model import Condition, Stack
from stackctl.rules.core import ERROR, WARNING, Finding, Rule, each_stack, item_path


def _declare_hint(kind: str, word: str, choices: Iterable[str]) -> str:
    close = did_you_mean(word, sorted(choices))
    if close:
        return close
    return f"declare it under {kind}: (with external: true if it is made elsewhere)"


def _unknown_networks(stack: Stack) -> Iterator[Finding]:
    """A service joins a network the stack does not declare."""
    for svc in stack.services.values():
        for key in svc.networks:
            if key not in stack.networks:
                base = f"services.{svc.name}.networks"
                yield Finding(
                    stack,
                    f"{base}.{key}",
                    f"service '{svc.name}' joins network '{key}', which the stack does not declare",
                    _declare_hint("networks", key, stack.networks),
                    item_path(base, svc.networks, key),
                )


def _unknown_volumes(stack: Stack) -> Iterator[Finding]:
    """A named-volume mount whose source is not among the stack's volumes."""
    for svc in stack.services.values():
        for i, mount in enumerate(svc.volumes):
            if mount.type != "volume" or not mount.source or mount.source in stack.volumes:
                continue
            hint = _declare_hint("volumes", mount.source, stack.volumes)
            if "/" in mount.source:
                hint = (
                    f"to mount a folder of the host, write './{mount.source}' (or an absolute path)"
                )
            yield Finding(
                stack,
                f"services.{svc.name}.volumes.{i}",
                f"service '{svc.name}' mounts volume '{mount.source}', "
                "which the stack does not declare",
                hint,
            )


def _unknown_secrets(stack: Stack) -> Iterator[Finding]:
    """A service uses a secret the stack does not declare."""
    for svc in stack.services.values():
        for i, secret in enumerate(svc.secrets):
            if secret.source not in stack.secrets:
                yield Finding(
                    stack,
                    f"services.{svc.name}.secrets.{i}",
                    f"service '{svc.name}' uses secret '{secret.source}', "
                    "which the stack does not declare",
                    _declare_hint("secrets", secret.source, stack.secrets),
                )


def _unknown_services(stack: Stack) -> Iterator[Finding]:
    """``depends_on`` names a service that is not in the stack."""
    for svc in stack.services.values():
        for dep in svc.depends_on:
            if dep not in stack.services:
                hint = did_you_mean(dep, sorted(stack.services)) or (
                    "depends_on can only name services of the same stack"
                )
                yield Finding(
                    stack,
                    f"services.{svc.name}.depends_on.{dep}",
                    f"service '{svc.name}' depends on '{dep}', which is not a service of "
                    f"stack '{stack.name}'",
                    hint,
                    item_path(f"services.{svc.name}.depends_on", svc.depends_on, dep),
                )


def _dependency_cycles(stack: Stack) -> Iterator[Finding]:
    """Services that wait for each other, so none of them can start."""
    edges = {
        name: {d for d in [*svc.depends_on, *svc.implied_dependencies] if d in stack.services}
        for name, svc in stack.services.items()
    }
    for _ in range(len(stack.services)):  # each round breaks one cycle to look for more
        try:
            graphlib.TopologicalSorter(edges).prepare()
            return
        except graphlib.CycleError as e:
            cycle = list(reversed(e.args[1]))  # graphlib lists dependencies first
        first, second = cycle[0], cycle[1]
        edges[first].discard(second)
        if second not in stack.services[first].depends_on:  # links or a service: mode
            yield Finding(
                stack,
                f"services.{first}",
                f"dependency cycle: {' -> '.join(cycle)} (through links or a shared "
                "namespace, which start a service after the one it names)",
                "remove one of these links or depends_on entries",
            )
            continue
        yield Finding(
            stack,
            f"services.{first}.depends_on.{second}",
            f"dependency cycle: {' -> '.join(cycle)}",
            "remove one of these depends_on entries; services that need each other "
            "must start without waiting and retry",
            item_path(f"services.{first}.depends_on", stack.services[first].depends_on, second),
        )


def _healthy_waits(stack: Stack, disabled: bool) -> Iterator[Finding]:
    """Waiting for ``service_healthy`` on a service whose health check the stack does not
    define (``disabled=False``) or turns off (``disabled=True``)."""
    for svc in stack.services.values():
        for dep, how in svc.depends_on.items():
            target = stack.services.get(dep)
            if how.condition != Condition.HEALTHY or target is None:
                continue
            check = target.healthcheck
            if (check is not None and check.disabled) != disabled:
                continue
            if not disabled and check is not None:
                continue
            path = f"services.{svc.name}.depends_on.{dep}"
            item = item_path(f"services.{svc.name}.depends_on", svc.depends_on, dep)
            if disabled:
                yield Finding(
                    stack,
                    path,
                    f"service '{svc.name}' waits for '{dep}' to be healthy, but the health "
                    f"check of '{dep}' is disabled: it never becomes healthy",
                    f"enable the health check of '{dep}', or wait with condition service_started",
                    item,
                )
            else:
                yield Finding(
                    stack,
                    path,
                    f"service '{svc.name}' waits for '{dep}' to be healthy, but the health "
                    f"check of '{dep}' is not defined in the stack: only its image can have one",
                    f"add a healthcheck to '{dep}' (if its image defines none, the wait fails "
                    "at apply), or wait with condition service_started",
                    item,
                )


def _healthy_without_healthcheck(stack: Stack) -> Iterator[Finding]:
    return _healthy_waits(stack, disabled=False)


def _healthy_with_disabled_healthcheck(stack: Stack) -> Iterator[Finding]:
    return _healthy_waits(stack, disabled=True)


RULES: tuple[Rule, ...] = (
    Rule("unknown-network", ERROR, "service joins an undeclared network",
         each_stack(_unknown_networks)),
    Rule("unknown-volume", ERROR, "named volume mount of an undeclared volume",
         each_stack(_unknown_volumes)),
    Rule("unknown-secret", ERROR, "service uses an undeclared secret",
         each_stack(_unknown_secrets)),
    Rule("unknown-service", ERROR, "depends_on names a service not in the stack",
         each_stack(_unknown_services)),
    Rule("dependency-cycle", ERROR, "services wait for each other",
         each_stack(_dependency_cycles)),
    Rule("healthcheck-missing", WARNING,
         "service_healthy on a service the stack gives no health check (its image may have one)",
         each_stack(_healthy_without_healthcheck)),
    Rule("healthcheck-disabled", ERROR, "service_healthy on a service whose health check is off",
         each_stack(_healthy_with_disabled_healthcheck)),
)  # fmt: skip
