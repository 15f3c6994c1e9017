"""The swarm half of the pure planner: services, overlay networks, waits, orphans, destroy.

The swarm backend's planner, built on the same core as the docker one
(``stackctl.core.plan``): the same Operation/Plan types and builder. No I/O and no clock.

- A missing service is created; a changed one is one in-place rolling update
  (UPDATE_SERVICE, carrying the spec version it was planned against so a concurrent
  change is refused by the daemon) with its field-level diff.
- A dependent is created or updated only after its dependencies meet their conditions:
  the same ``wait:<stack>/<service>:<condition>`` operations as on one host.
- A changed overlay network is replaced: the stack's services on it are removed first
  and created again after it (Swarm cannot detach a network in use); a service of
  someone else on it makes that a plan-time error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

from stackctl.backends.swarm.desired import SwarmDesiredState, SwarmService
from stackctl.backends.swarm.observe import ObservedService, SwarmObservedState, swarm_fingerprint
from stackctl.core.labels import STACK_NAMESPACE
from stackctl.core.plan import (
    Kind,
    Operation,
    Orphan,
    Plan,
    PlanBuilder,
    change_reason,
    destroy_units,
    diff_config,
    remove_service_id,
    service_id,
    wait_id,
)


def _users(obs: SwarmObservedState, network: str) -> list[ObservedService]:
    """The services attached to ``network`` (by name or id)."""
    return [s for s in obs.services if network in {obs.network_by_ref(ref) for ref in s.networks}]


def plan_swarm(desired: SwarmDesiredState, obs: SwarmObservedState, *, prune: bool = False) -> Plan:
    b = PlanBuilder()
    ours = set(desired.stacks)
    net_ops = _networks(b, desired, obs)
    secret_ops = _secrets(b, desired, obs)
    replaced = {op.resource: op.id for op in b.ops if op.kind == Kind.REPLACE_NETWORK}
    removed_first = _services_off_replaced_networks(b, desired, obs, ours, replaced, prune)
    service_ops = _services(b, desired, obs, {**net_ops, **secret_ops}, removed_first)
    b.waits(desired.services, service_ops)
    _orphans(b, desired, obs, ours, prune, removed_first)
    _stale_secrets(b, desired, obs, ours, prune)
    _volumes(b, desired, obs)
    names = [
        *(s.name for s in desired.services),
        *(n.name for n in desired.networks),
        *(e.name for e in desired.external_networks),
        *(x.name for x in desired.secrets),
        *(v.name for v in desired.volumes),
    ]
    return b.finish(
        desired.stacks, lambda: swarm_fingerprint(obs, desired.stacks, names), obs.api_version
    )


# --------------------------------------------------------------------------- volumes


def _volumes(b: PlanBuilder, desired: SwarmDesiredState, obs: SwarmObservedState) -> None:
    """Swarm makes a service's volumes on each node as its tasks start; stackctl sees the
    volumes of the node it talks to only, so a foreign volume of the same name is found
    there (other nodes are not seen)."""
    twice = b.claimed_twice("volume", desired.volumes)
    for vol in desired.volumes:
        found = obs.volume(vol.name)
        if vol.name in twice:
            continue
        if found is not None and found.stack != vol.stack:
            b.volume_taken(vol, found)
        else:
            b.unchanged.append(f"volume {vol.name} (made on each node by the tasks that use it)")


# --------------------------------------------------------------------------- networks


def _networks(
    b: PlanBuilder, desired: SwarmDesiredState, obs: SwarmObservedState
) -> dict[str, str]:
    ready = b.networks(desired.networks, obs.network, scope="swarm")
    for ext in desired.external_networks:
        found = obs.network(ext.name)
        users = ", ".join(ext.used_by)
        if found is None:
            if any(n.name == ext.name for n in desired.networks):
                continue  # created by a stack of this plan, before its users
            b.external_network_missing(
                ext.used_by, ext.name, f"docker network create -d overlay --attachable {ext.name}"
            )
        elif found.scope != "swarm":
            b.problems.append(
                f"external network {ext.name!r} (used by {users}) is a {found.scope}-scoped "
                f"{found.driver} network; swarm services can only join swarm-scoped networks."
                f"\n  hint: use an overlay network: docker network create -d overlay "
                f"--attachable {ext.name} (after removing the {found.driver} one)"
            )
    return ready


def _services_off_replaced_networks(
    b: PlanBuilder,
    desired: SwarmDesiredState,
    obs: SwarmObservedState,
    ours: set[str],
    replaced: Mapping[str, str],
    prune: bool,
) -> dict[str, str]:
    """Services on a network being replaced are removed before it: name -> remove op id."""
    removed: dict[str, str] = {}
    if not replaced:
        return removed
    wanted = {s.name for s in desired.services}
    for op in b.ops:
        if op.kind != Kind.REPLACE_NETWORK:
            continue
        on_it = _users(obs, op.resource)
        foreign = sorted(s.name for s in on_it if s.stack not in ours)
        if foreign:
            b.problems.append(
                f"network {op.resource!r} must be replaced ({op.reason}) but services that "
                f"stack {op.stack!r} does not own use it: {', '.join(foreign)}.\n  hint: "
                f"remove them from it (docker service update --network-rm {op.resource} NAME) "
                "or revert the network change"
            )
            continue
        for s in on_it:
            if s.name not in removed:
                reason = f"network {op.resource} is replaced; created again after it"
                if s.name not in wanted:
                    reason = "orphan on a replaced network" if prune else reason
                removed[s.name] = _remove(b, s, reason)
            b.after(op.id, [removed[s.name]])
    return removed


# --------------------------------------------------------------------------- secrets


def secret_id(name: str) -> str:
    return f"secret:{name}"


def _secrets(b: PlanBuilder, desired: SwarmDesiredState, obs: SwarmObservedState) -> dict[str, str]:
    """Missing file secrets are created (before the services that use them): name -> op id.
    The content is in the name's digest: an existing one of ours is up to date."""
    ready: dict[str, str] = {}
    for sec in desired.secrets:
        found = obs.secret(sec.name)
        users = ", ".join(
            s.name for s in desired.services if any(r.name == sec.name for r in s.secrets)
        )
        if sec.external:
            if found is None:
                b.problems.append(
                    f"external secret {sec.name!r} (used by {users}) does not exist on the "
                    f"swarm.\n  hint: create it: docker secret create {sec.name} FILE"
                )
            continue
        if found is None:
            ready[sec.name] = b.create_missing(
                secret_id(sec.name), Kind.CREATE_SECRET, sec.name, sec.stack, unit=sec
            )
        elif found.stack != sec.stack:
            who = f"stack {found.stack!r}" if found.stack else "nobody (not made by stackctl)"
            b.problems.append(
                f"secret {sec.name!r} wanted by stack {sec.stack!r} already exists and belongs "
                f"to {who}; stackctl will not take it over.\n  hint: remove it (docker secret "
                f"rm {sec.name}) or rename the stack's secret"
            )
        else:
            b.unchanged.append(f"secret {sec.name}")
    return ready


def _stale_secrets(
    b: PlanBuilder, desired: SwarmDesiredState, obs: SwarmObservedState, ours: set[str], prune: bool
) -> None:
    """The stacks' secrets no service wants any more (an older content of a secret, or with
    --prune one the stack dropped) are removed once no service uses them: after the
    operations that move their users off them."""
    wanted = {s.name for s in desired.secrets}
    keys = {(s.stack, s.key) for s in desired.secrets}
    moved = {
        op.resource: op.id
        for op in b.ops
        if op.kind in (Kind.CREATE_SERVICE, Kind.UPDATE_SERVICE, Kind.REMOVE_SERVICE)
    }
    for sec in obs.secrets:
        if sec.stack not in ours or sec.name in wanted:
            continue
        if (sec.stack, sec.key) not in keys and not prune:
            b.orphans.append(Orphan("secret", sec.name, sec.stack))
            continue
        users = [s.name for s in obs.services if {sec.id, sec.name} & set(s.secret_refs)]
        kept = sorted(u for u in users if u not in moved)
        if kept:
            b.unchanged.append(f"secret {sec.name} (old; still used by {', '.join(kept)})")
            continue
        b.add(
            Operation(
                f"remove-secret:{sec.name}",
                Kind.REMOVE_SECRET,
                sec.name,
                sec.stack,
                "no service uses it any more",
                target_id=sec.id,
            ),
            after=[moved[u] for u in users],
        )


# --------------------------------------------------------------------------- services


def _remove(b: PlanBuilder, found: ObservedService, reason: str, after: Sequence[str] = ()) -> str:
    op = Operation(
        remove_service_id(found.name),
        Kind.REMOVE_SERVICE,
        found.name,
        found.stack,
        reason,
        target_id=found.id,
    )
    return b.add(op, after=after)


def _clash(name: str, found: ObservedService, ds: SwarmService) -> str:
    namespace = found.labels.get(STACK_NAMESPACE)
    if found.stack:
        owner = f"stack {found.stack!r} (service {found.service!r})"
        hint = "rename one of the services, or destroy the other stack first"
    elif namespace:
        owner = f"`docker stack deploy` stack {namespace!r}, not stackctl"
        hint = f"remove it with `docker stack rm {namespace}` (volumes are kept), then apply again"
    else:
        owner = "nobody (it has no stackctl labels)"
        hint = f"remove it (docker service rm {name}) or rename the service"
    return (
        f"service {name!r} wanted by stack {ds.stack!r} already exists and belongs to "
        f"{owner}; stackctl will not take it over.\n  hint: {hint}"
    )


def _services(
    b: PlanBuilder,
    desired: SwarmDesiredState,
    obs: SwarmObservedState,
    net_ops: Mapping[str, str],
    removed_first: Mapping[str, str],
) -> dict[tuple[str, str], list[str]]:
    """(stack, service) -> ids of the operations that bring the service to its spec."""
    out: dict[tuple[str, str], list[str]] = {}
    for ds in desired.services:
        deps = [net_ops[n] for n in (*ds.networks, *(r.name for r in ds.secrets)) if n in net_ops]
        deps += [wait_id(ds.stack, svc, cond) for svc, cond in ds.depends_on.items()]
        found = obs.service(ds.name)
        op_id = service_id(ds.name)
        if found is not None and (found.stack != ds.stack or found.service != ds.service):
            b.problems.append(_clash(ds.name, found, ds))
            continue
        if found is None or ds.name in removed_first:
            if ds.name in removed_first:
                deps.append(removed_first[ds.name])
                reason = "its network is replaced"
            else:
                reason = "missing"
            out[(ds.stack, ds.service)] = [
                b.add(
                    Operation(
                        op_id,
                        Kind.CREATE_SERVICE,
                        ds.name,
                        ds.stack,
                        reason,
                        unit=ds,
                    ),
                    after=deps,
                )
            ]
            continue
        if found.config_hash not in (ds.config_hash, ds.legacy_hash):  # core/config.py
            changes = diff_config(found.config, ds.config, ds.sensitive)
            reason = change_reason(changes)
            if found.update_state in ("rollback_completed", "rollback_paused"):
                reason += f" (the last rollout was rolled back: {found.update_message})"
            out[(ds.stack, ds.service)] = [
                b.add(
                    Operation(
                        op_id,
                        Kind.UPDATE_SERVICE,
                        ds.name,
                        ds.stack,
                        reason,
                        changes=changes,
                        unit=ds,
                        target_id=found.id,
                        version=found.version,
                    ),
                    after=deps,
                )
            ]
            continue
        if found.update_state in ("paused", "rollback_paused"):
            b.warnings.append(
                f"service {ds.name}: its last rollout is {found.update_state} "
                f"({found.update_message}); see `docker service ps {ds.name}`"
            )
        b.unchanged.append(f"service {ds.name}")
    return out


def _orphans(
    b: PlanBuilder,
    desired: SwarmDesiredState,
    obs: SwarmObservedState,
    ours: set[str],
    prune: bool,
    removed_first: Mapping[str, str],
) -> None:
    wanted = {s.name for s in desired.services}
    removed: dict[str, str] = dict(removed_first)
    for s in obs.services:
        if s.stack not in ours or s.name in wanted or s.name in removed_first:
            continue
        op_id = b.orphan(s, "service", prune=prune, remove=partial(_remove, b, s))
        if op_id is not None:
            removed[s.name] = op_id
    wanted_nets = {n.name for n in desired.networks}
    for net in obs.networks:
        if net.stack not in ours or net.name in wanted_nets:
            continue
        users = _users(obs, net.name)
        kept = sorted(s.name for s in users if s.name not in removed)
        b.orphan_network(
            net,
            prune=prune,
            kept_by=f"services use it ({', '.join(kept)})" if kept else "",
            after=tuple(removed[s.name] for s in users if s.name in removed),
        )


# --------------------------------------------------------------------------- destroy


def plan_swarm_destroy(
    desired: SwarmDesiredState, obs: SwarmObservedState, *, volumes: bool = False
) -> Plan:
    """Remove the stacks' services (dependents first) and networks; volumes only when asked
    (and only those on the node stackctl talks to: Swarm has no cluster-wide volumes)."""
    b = PlanBuilder()
    ours = set(desired.stacks)
    mine = destroy_units(b, desired.services, obs.services, ours, remove_service_id, _remove)
    for net in obs.networks:
        if net.stack not in ours:
            continue
        users = _users(obs, net.name)
        foreign = sorted(s.name for s in users if s.stack not in ours)
        if foreign:
            b.problems.append(
                f"network {net.name!r} of stack {net.stack!r} is used by services of others: "
                f"{', '.join(foreign)}.\n  hint: remove it from them first (docker service "
                f"update --network-rm {net.name} NAME)"
            )
            continue
        b.remove_network(net, "destroy", tuple(remove_service_id(s.name) for s in users))
    b.remove_volumes(
        obs.volumes,
        ours,
        remove=volumes,
        after=tuple(remove_service_id(s.name) for s in mine),
        reason="destroy --volumes (this node; other nodes keep their copy)",
    )
    if volumes and desired.volumes:
        b.warnings.append(
            "swarm volumes live on each node that ran a task using them; --volumes removes "
            "those on the node stackctl talks to only (docker volume rm on the others)"
        )
    for sec in obs.secrets:
        if sec.stack not in ours:
            continue
        users = [s for s in obs.services if {sec.id, sec.name} & set(s.secret_refs)]
        foreign = sorted(s.name for s in users if s.stack not in ours)
        if foreign:
            b.problems.append(
                f"secret {sec.name!r} of stack {sec.stack!r} is used by services of others: "
                f"{', '.join(foreign)}.\n  hint: remove it from them first (docker service "
                f"update --secret-rm {sec.name} NAME)"
            )
            continue
        b.add(
            Operation(
                f"remove-secret:{sec.name}",
                Kind.REMOVE_SECRET,
                sec.name,
                sec.stack,
                "destroy",
                target_id=sec.id,
            ),
            after=[remove_service_id(s.name) for s in users],
        )
    names = [s.name for s in mine] + [n.name for n in obs.networks if n.stack in ours]
    names += [x.name for x in obs.secrets if x.stack in ours]
    return b.finish(
        desired.stacks,
        lambda: swarm_fingerprint(obs, desired.stacks, names),
        obs.api_version,
        destroy=True,
    )
