"""Network modes, links and the service-level resource keys: what Compose or Docker refuse.

network-mode-conflict  a setting beside ``network_mode`` that Compose refuses (``networks``)
                       or Docker refuses at create (``ports``, ``expose``, ``hostname``,
                       ``dns``, ``extra_hosts`` in a container's namespace), or that would be
                       ignored (``ports`` beside host or none)
unknown-shared-service ``network_mode``/``ipc``/``pid`` ``service:X`` or ``links`` naming a
                       service that is not in the stack (or the service itself)
link-no-network        a link whose services share no network (the alias would reach no one)
unknown-config         a service's ``configs`` naming a config the stack does not declare
config-source          a config from ``external`` (a Swarm config: none on one host), or
                       with no source at all
config-copy            a ``content``/``environment`` config the engine cannot copy in: a
                       ``read_only`` service (Compose refuses it too), a ``uid``/``gid``
                       that is not a number
limits-conflict        ``mem_limit``/``cpus``/``pids_limit``/``mem_reservation`` and
                       ``deploy.resources`` with different values (Compose refuses it too)
"""

from __future__ import annotations

from collections.abc import Iterator

from stackctl import units
from stackctl.errors import did_you_mean
from stackctl.model import Service, Stack
from stackctl.model.network import ConfigSource
from stackctl.model.service import shared_service
from stackctl.rules.core import ERROR, Finding, Rule, each_stack

_IN_NAMESPACE = "it runs in another container's network namespace"


def _conflicts(svc: Service) -> Iterator[tuple[str, str, str]]:
    """(field, why, hint) for each setting ``svc``'s network mode does not allow."""
    mode = svc.network_mode
    if mode is None:
        return
    kind = mode.partition(":")[0]  # host | none | bridge | container | service
    if svc.networks:
        yield (
            "networks",
            "Compose refuses `network_mode` and `networks` together",
            "keep one of them: `networks:` to join the stack's networks, `network_mode:` "
            "to use the host's (or another container's) network",
        )
    shared = kind in ("container", "service")
    if svc.ports and (shared or kind in ("host", "none")):
        why = {
            "host": "with network_mode host the container listens on the host's ports "
            "directly; Docker would discard `ports`",
            "none": "a container with network_mode none has no network; Docker would "
            "discard `ports`",
        }.get(kind, f"Docker refuses to publish ports here: {_IN_NAMESPACE}")
        hint = (
            "remove `ports`; the service answers on the host's port it listens on"
            if kind == "host"
            else "remove `ports`"
            if kind == "none"
            else f"publish the ports on the service that owns the namespace ({mode})"
        )
        yield "ports", why, hint
    if not shared:
        return
    owner = f"the service that owns the namespace ({mode})"
    for field, what in (
        ("expose", "exposed ports"),
        ("hostname", "a hostname"),
        ("dns", "DNS servers"),
        ("extra_hosts", "extra hosts"),
    ):
        if getattr(svc, field):
            yield (
                field,
                f"Docker refuses {what} here: {_IN_NAMESPACE}",
                f"remove `{field}`, or set it on {owner}",
            )


def _network_mode_conflicts(stack: Stack) -> Iterator[Finding]:
    for svc in stack.services.values():
        for field, why, hint in _conflicts(svc):
            yield Finding(
                stack,
                f"services.{svc.name}.{field}",
                f"service '{svc.name}' sets `{field}` beside network_mode "
                f"'{svc.network_mode}': {why}",
                hint,
            )


def _shared_services(stack: Stack) -> Iterator[Finding]:
    for svc in stack.services.values():
        refs = [(f, shared_service(getattr(svc, f))) for f in ("network_mode", "ipc", "pid")]
        refs += [(f"links.{i}", target) for i, (target, _) in enumerate(svc.link_targets)]
        for field, target in refs:
            if target is None:
                continue
            what = "links to" if field.startswith("links") else f"shares the {field} of"
            if target == svc.name:
                yield Finding(
                    stack,
                    f"services.{svc.name}.{field}",
                    f"service '{svc.name}' {what} itself",
                    "name another service of the stack",
                )
            elif target not in stack.services:
                yield Finding(
                    stack,
                    f"services.{svc.name}.{field}",
                    f"service '{svc.name}' {what} '{target}', which is not a service of "
                    f"stack '{stack.name}'",
                    did_you_mean(target, sorted(stack.services))
                    or "name a service of the same stack (for a container outside the stack, "
                    "use container:NAME)",
                )


def _stack_networks(svc: Service) -> set[str]:
    if not svc.joins_networks:
        return set()
    return set(svc.networks) or {"default"}


def _links_without_network(stack: Stack) -> Iterator[Finding]:
    for svc in stack.services.values():
        for i, (target, alias) in enumerate(svc.link_targets):
            other = stack.services.get(target)
            if other is None or other is svc:
                continue  # reported above
            if not _stack_networks(svc) & _stack_networks(other):
                yield Finding(
                    stack,
                    f"services.{svc.name}.links.{i}",
                    f"service '{svc.name}' links to '{target}' (as '{alias}') but they share "
                    "no network, so the link's alias would reach no one",
                    "put both services on one network of the stack, or remove the link",
                )


def _unknown_configs(stack: Stack) -> Iterator[Finding]:
    for svc in stack.services.values():
        for i, use in enumerate(svc.configs):
            if use.source not in stack.configs:
                yield Finding(
                    stack,
                    f"services.{svc.name}.configs.{i}",
                    f"service '{svc.name}' uses config '{use.source}', which the stack does "
                    "not declare",
                    did_you_mean(use.source, sorted(stack.configs))
                    or f"declare it under the top-level configs: ({use.source}: {{file: ./...}})",
                )


def _copied(cfg: ConfigSource) -> bool:
    """A config whose text is copied into the container (not a file, not external)."""
    return not cfg.file and not cfg.external and (cfg.content is not None or bool(cfg.environment))


def _config_sources(stack: Stack) -> Iterator[Finding]:
    for key, cfg in stack.configs.items():
        if cfg.external and not cfg.file:
            yield Finding(
                stack,
                f"configs.{key}.external",
                f"config '{key}' is `external`: a Swarm config, which one Docker host does "
                "not have",
                "write the value to a file beside the stack and use `file: ./NAME` (or `content:`)",
            )
        elif not cfg.file and not _copied(cfg):
            yield Finding(
                stack,
                f"configs.{key}",
                f"config '{key}' has no source",
                "give it `file:`, `content:` or `environment:`",
            )


def _config_copies(stack: Stack) -> Iterator[Finding]:
    for svc in stack.services.values():
        for i, use in enumerate(svc.configs):
            cfg = stack.configs.get(use.source)
            if cfg is None or not _copied(cfg):
                continue
            if svc.read_only:
                yield Finding(
                    stack,
                    f"services.{svc.name}.configs.{i}",
                    f"service '{svc.name}' is read_only: config '{use.source}' (from "
                    "`content`/`environment`) cannot be copied into it (Compose refuses it too)",
                    "use a `file:` config (a bind mount), or drop `read_only`",
                )
            for field in ("uid", "gid"):
                value = getattr(use, field)
                if value is not None and not value.isdigit():
                    yield Finding(
                        stack,
                        f"services.{svc.name}.configs.{i}.{field}",
                        f"service '{svc.name}' gives config '{use.source}' the {field} "
                        f"'{value}', which is not a number",
                        f"give the numeric {field} (as Compose requires)",
                    )


def _size(text: str | None) -> int | None:
    return units.parse_size(text) if text else None


def _limits_conflicts(stack: Stack) -> Iterator[Finding]:
    for svc in stack.services.values():
        res = svc.deploy.resources if svc.deploy else None
        if res is None:
            continue
        lim, rsv = res.limits, res.reservations
        pairs = (
            (
                "mem_limit",
                _size(svc.mem_limit),
                "limits.memory",
                _size(lim.memory if lim else None),
            ),
            ("cpus", svc.cpus, "limits.cpus", lim.cpus if lim else None),
            ("pids_limit", svc.pids_limit, "limits.pids", lim.pids if lim else None),
            (
                "mem_reservation",
                _size(svc.mem_reservation),
                "reservations.memory",
                _size(rsv.memory if rsv else None),
            ),
        )
        for key, value, deploy_key, deploy_value in pairs:
            if value is not None and deploy_value is not None and value != deploy_value:
                yield Finding(
                    stack,
                    f"services.{svc.name}.{key}",
                    f"service '{svc.name}' sets `{key}` and `deploy.resources.{deploy_key}` "
                    "to different values (Compose refuses this too)",
                    f"keep one of them (deploy.resources.{deploy_key} is the current spelling)",
                )


RULES: tuple[Rule, ...] = (
    Rule("network-mode-conflict", ERROR, "a setting network_mode does not allow",
         each_stack(_network_mode_conflicts)),
    Rule("unknown-shared-service", ERROR, "service:X or links naming a service not in the stack",
         each_stack(_shared_services)),
    Rule("link-no-network", ERROR, "a link between services that share no network",
         each_stack(_links_without_network)),
    Rule("unknown-config", ERROR, "a service uses an undeclared config",
         each_stack(_unknown_configs)),
    Rule("config-source", ERROR, "an external config, or one with no source",
         each_stack(_config_sources)),
    Rule("config-copy", ERROR, "a content/environment config that cannot be copied in",
         each_stack(_config_copies)),
    Rule("limits-conflict", ERROR, "service-level limits that differ from deploy.resources",
         each_stack(_limits_conflicts)),
)  # fmt: skip
