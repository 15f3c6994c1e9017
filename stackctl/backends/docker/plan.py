"""The planner: a pure function from desired and observed state to a Plan.

No I/O and no clock: ``plan(desired, observed)`` and ``plan_destroy(...)`` only compare
data, so they are tested with data tables. A Plan is a graph of typed operations, each
with the operations it waits for and the reason it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import partial

from stackctl.backends.docker import adopt as adoption
from stackctl.backends.docker.desired import ContainerNetwork, DesiredContainer, DesiredState
from stackctl.backends.docker.observe import ObservedContainer, ObservedState, fingerprint
from stackctl.core.build import changed_parts
from stackctl.core.labels import COMPOSE_PROJECT, TEMP_SUFFIX, temp_name
from stackctl.core.plan import (
    Change,
    Kind,
    Operation,
    Plan,
    PlanBuilder,
    Step,
    adopt_id,
    build_id,
    change_reason,
    container_id,
    destroy_units,
    diff_config,
    image_id,
    remove_id,
    remove_volume_id,
    volume_id,
    wait_id,
)
from stackctl.core.resources import DesiredNetwork
from stackctl.model.build import shown_url

# What each operation on a container runs, in order (the executor decides nothing).
STEPS: dict[Kind, tuple[Step, ...]] = {
    Kind.CREATE: (Step.CREATE, Step.START),
    Kind.REPLACE: (  # stop-first, waiting (see _replace_steps for the others)
        Step.REMOVE_TEMP,
        Step.CREATE_TEMP,
        Step.STOP_OLD,
        Step.START_NEW,
        Step.WAIT_READY,
        Step.REMOVE_OLD,
        Step.RENAME,
    ),
    Kind.START: (Step.START,),
    Kind.UNPAUSE: (Step.UNPAUSE,),
    Kind.UPDATE: (Step.UPDATE,),  # then START or UNPAUSE when it is not running
    Kind.REMOVE: (Step.STOP, Step.REMOVE),
    Kind.ADOPT: (Step.ADOPT,),  # and a rename, a start (see _adopt_steps)
}

# --------------------------------------------------------------------------- plan


def plan(
    desired: DesiredState,
    observed: ObservedState,
    *,
    prune: bool = False,
    replace: AbstractSet[tuple[str, str]] = frozenset(),
    wait: bool = True,
    rollback: bool = True,
    no_build: bool = False,
    adopt: bool = False,
) -> Plan:
    """Operations that take ``observed`` to ``desired``; raises PlanError when it cannot.

    ``replace``: (stack, service) pairs whose containers are recreated even when they
    match (``--replace``); ``wait``: a replacement is waited for (healthy, else running)
    before the old container is removed; ``rollback``: if it fails before then, the old
    one is put back (unless the service's ``deploy.update_config.failure_action`` says
    otherwise); ``no_build``: never build; an image to build must then be on the daemon
    already; ``adopt``: a docker compose project of a stack's name becomes the stack's
    (``adopt.py``), else it is refused."""
    b = PlanBuilder()
    claim = adoption.claim(desired, observed, adopt=adopt)
    b.problems.extend(claim.problems)
    observed = claim.observed
    ours = set(desired.stacks)
    build_ops = _plan_builds(b, desired, observed, no_build)
    verdict = partial(_verdict, replace=replace, rebuilt=frozenset(build_ops))
    leaving = _leaving(desired, observed, ours, prune, verdict)
    net_ops = _plan_networks(b, desired, observed, leaving)
    vol_ops = _plan_volumes(b, desired, observed)
    pull_ops = {**_plan_images(b, desired, observed), **build_ops}
    policy = ReplacePolicy(wait=wait, rollback=rollback)
    container_ops = _plan_containers(
        b, desired, observed, ours, net_ops, vol_ops, pull_ops, verdict, policy
    )
    b.waits(desired.containers, container_ops)
    _plan_adoptions(b, claim)
    _plan_orphans(b, desired, observed, ours, prune)
    _check_addresses(b, desired, observed)
    _check_api_features(b, desired, observed.api_version)

    names = [
        *(c.name for c in desired.containers),
        *(n.name for n in desired.networks),
        *(e.name for e in desired.external_networks),
        *(v.name for v in desired.volumes),
        *desired.images,
    ]
    return b.finish(
        desired.stacks, lambda: fingerprint(observed, desired.stacks, names), observed.api_version
    )


def _plan_networks(
    b: PlanBuilder, desired: DesiredState, observed: ObservedState, leaving: set[str]
) -> dict[str, str]:
    """Docker network name -> id of the operation that makes it ready."""
    ready = b.networks(
        desired.networks,
        observed.network,
        reconnect=lambda net: partial(_reconnect, b, desired, observed, net, leaving),
    )
    for ext in desired.external_networks:
        if observed.network(ext.name) is not None:
            continue
        provider = next((n for n in desired.networks if n.name == ext.name), None)
        if provider is not None:
            continue  # created by a stack of this plan, before its users
        b.external_network_missing(ext.used_by, ext.name, f"docker network create {ext.name}")
    return ready


def _plan_volumes(b: PlanBuilder, desired: DesiredState, observed: ObservedState) -> dict[str, str]:
    ready: dict[str, str] = {}
    twice = b.claimed_twice("volume", desired.volumes)
    for vol in desired.volumes:
        obs = observed.volume(vol.name)
        if vol.name in twice:
            continue
        if obs is None:
            ready[vol.name] = b.create_missing(
                volume_id(vol.name), Kind.CREATE_VOLUME, vol.name, vol.stack, volume=vol
            )
        elif obs.stack != vol.stack:
            b.volume_taken(vol, obs)
        else:
            b.unchanged.append(f"volume {vol.name}")
    for name in desired.external_volumes:
        if observed.volume(name) is None:
            b.problems.append(
                f"external volume {name!r} does not exist.\n  hint: create it: "
                f"docker volume create {name}"
            )
    return ready


def _plan_builds(
    b: PlanBuilder, desired: DesiredState, observed: ObservedState, no_build: bool
) -> dict[str, str]:
    """Image -> the build that makes it: when it is missing, when its context, Dockerfile,
    arguments or options changed since it was built (the digests in its labels), or
    always with ``pull_policy: build``; never with ``no_build``. A remote context's digest
    is its URL's: a moving ref is fetched again only with ``pull_policy: build``."""
    ready: dict[str, str] = {}
    for build in desired.builds:
        present = build.image in observed.images
        users = ", ".join(build.services)
        if no_build:
            if not present:
                b.problems.append(
                    f"image {build.image!r} (built for service {users} of stack "
                    f"{build.stack!r}) is not on the daemon, and --no-build was given.\n  "
                    "hint: run without --no-build to build it"
                )
            continue
        built = observed.built.get(build.image)
        changes: tuple[Change, ...] = ()
        if build.always:
            reason = "pull_policy: build"
        elif not present:
            reason = "image missing"
        elif built is None:
            reason = "image not built by stackctl (no build digests in its labels)"
        else:
            parts = changed_parts(built, build.digests)
            if not parts:
                b.unchanged.append(f"image {build.image}")
                continue
            reason = "build changed: " + ", ".join(parts)
            changes = tuple(
                Change(f"build.{p}", _short(built.get(p)), _short(build.digests[p])) for p in parts
            )
        if build.remote is not None:
            reason += f"; remote context: the daemon fetches {shown_url(build.remote)}"
        op = Operation(
            build_id(build.image),
            Kind.BUILD,
            build.image,
            build.stack,
            reason,
            changes=changes,
            build=build,
        )
        ready[build.image] = b.add(op)
    return ready


def _short(digest: str | None) -> str | None:
    return digest[:12] if digest else digest


def _plan_images(b: PlanBuilder, desired: DesiredState, observed: ObservedState) -> dict[str, str]:
    ready: dict[str, str] = {}
    policies: dict[str, set[str | None]] = {}
    built = {build.image for build in desired.builds}
    for c in desired.containers:
        policies.setdefault(c.image, set()).add(c.pull_policy)
    for image in desired.images:
        if image in built:
            continue  # built here (_plan_builds), never pulled
        present = image in observed.images
        always = "always" in policies.get(image, set())
        update = observed.image_update(image)
        if update is not None:
            reason = f"image update available: {image} ({short(update[0])} → {short(update[1])})"
            ready[image] = b.add(Operation(image_id(image), Kind.PULL, image, None, reason))
            continue
        if image in observed.registry_errors:
            b.warnings.append(
                f"could not ask the registry about {image}: {observed.registry_errors[image]}"
                + ("; it is pulled as pull_policy: always says" if present and always else "")
            )
        elif image in observed.registry and present:
            continue  # the registry has the image that is here: nothing to pull
        if present and not always:
            continue
        if not present and "never" in policies.get(image, set()):
            b.problems.append(
                f"image {image!r} is not on the daemon and pull_policy is never.\n  hint: "
                f"load or build it first (docker load / docker build -t {image} .)"
            )
            continue
        reason = "pull_policy: always" if present else "not on the daemon; will be pulled"
        ready[image] = b.add(Operation(image_id(image), Kind.PULL, image, None, reason))
    return ready


def short(digest: str) -> str:
    """``sha256:0123456789ab…`` (as docker prints ids, with the algorithm)."""
    algo, _, hexa = digest.partition(":")
    return f"{algo}:{hexa[:12]}…" if hexa else digest[:12]


def _clash_message(name: str, obs: ObservedContainer, wanted_stack: str) -> str:
    project = obs.labels.get(COMPOSE_PROJECT)
    if obs.stack:
        owner = f"stack {obs.stack!r} (service {obs.service!r})"
        hint = "rename one of them (container_name) or destroy the other stack first"
    elif project:
        owner = f"docker compose project {project!r}, not stackctl"
        hint = (
            f"stop it with `docker compose -p {project} down` (named volumes are kept), "
            "then apply again"
        )
    else:
        owner = "nobody (it has no stackctl labels)"
        hint = f"remove or rename it (docker rm -f {name}), or set another container_name"
    return (
        f"container {name!r} wanted by stack {wanted_stack!r} already exists and belongs to "
        f"{owner}; stackctl will not take it over.\n  hint: {hint}"
    )


def _plan_containers(
    b: PlanBuilder,
    desired: DesiredState,
    observed: ObservedState,
    ours: set[str],
    net_ops: Mapping[str, str],
    vol_ops: Mapping[str, str],
    pull_ops: Mapping[str, str],
    verdict_of: VerdictOf,
    policy: ReplacePolicy,
) -> dict[tuple[str, str], list[str]]:
    """(stack, service) -> ids of the operations that bring its containers up (after
    the pull or build of their image, ``pull_ops``; ``rebuilt``: the images built again)."""
    by_service: dict[tuple[str, str], list[str]] = {}
    verdicts = _verdicts(desired, observed, verdict_of)
    for dc in desired.containers:
        obs = observed.container(dc.name)
        deps = [net_ops[n.name] for n in dc.networks if n.name in net_ops]
        deps += [vol_ops[v] for v in dc.volumes if v in vol_ops]
        if dc.image in pull_ops:
            deps.append(pull_ops[dc.image])
        deps += [wait_id(dc.stack, service, cond) for service, cond in dc.depends_on.items()]
        leftover = observed.container(temp_name(dc.name))
        if leftover is not None and leftover.stack in ours:
            # Removed by _plan_orphans. A replace makes a new container under that name:
            # not before the leftover is gone (side by side, its create lost the race).
            deps.append(remove_id(leftover.name))
        if obs is not None and (obs.stack != dc.stack or obs.service != dc.service):
            b.problems.append(_clash_message(dc.name, obs, dc.stack))
            continue
        if not _namespace_found(b, dc, observed):
            continue
        verdict = verdicts[dc.name]
        if verdict is None:
            b.unchanged.append(f"container {dc.name}")
            continue
        kind, reason, changes = verdict
        steps = STEPS[kind]
        undo: tuple[Step, ...] = ()
        notes: tuple[str, ...] = ()
        if kind == Kind.REPLACE and obs is not None:
            steps, undo, notes = _replace_steps(dc, obs, policy)
        if kind == Kind.ADOPT and obs is not None:
            steps = _adopt_steps(dc, obs)
            if obs.adopted_from != obs.name:
                notes = (f"renamed from {obs.adopted_from} (docker rename: it keeps running)",)
        # the anonymous volumes to keep: the replaced container's, or (the old one gone)
        # those of the half-made replacement that an interrupted apply left
        previous = {Kind.REPLACE: obs, Kind.CREATE: leftover}.get(kind)
        kept = _kept_volumes(dc, previous, ours)
        if kind == Kind.UPDATE:
            state = _state_verdict(dc, obs) if obs is not None else None
            steps = (*steps, *(STEPS[state[0]] if state else ()))
        op = Operation(
            container_id(dc.name),
            kind,
            dc.name,
            dc.stack,
            reason,
            changes=changes,
            unit=dc.keeping(kept),
            target_id=obs.id if obs is not None else None,
            steps=steps,
            rollback=undo,
            notes=(*(f"keeps anonymous volume {t}" for t in sorted(kept)), *notes),
        )
        by_service.setdefault((dc.stack, dc.service), []).append(b.add(op, after=deps))
    return by_service


def _kept_volumes(
    dc: DesiredContainer, previous: ObservedContainer | None, ours: set[str]
) -> dict[str, str]:
    """The anonymous volumes (target -> name) that the new container takes over from the
    one it replaces (or from the half-made replacement an interrupted apply left), as
    Compose does: those at a target where it still mounts an anonymous volume, and those
    it does not mount anything at (an image's ``VOLUME``)."""
    if previous is None or previous.stack not in ours:
        return {}
    anonymous = dc.anonymous_targets()
    mounted = dc.mount_targets()
    return {
        target: name
        for target, name in previous.anonymous_volumes.items()
        if target in anonymous or target not in mounted
    }


@dataclass(frozen=True)
class ReplacePolicy:
    """How this apply replaces containers (``--no-wait``, ``--no-rollback``)."""

    wait: bool = True
    rollback: bool = True


def _replace_steps(
    dc: DesiredContainer, old: ObservedContainer, policy: ReplacePolicy
) -> tuple[tuple[Step, ...], tuple[Step, ...], tuple[str, ...]]:
    """A replace's steps, what undoes them, and the plan's notes on both.

    The old container is removed only once the new one is ready; until then a failure
    puts the old one back. Start-first (``deploy.update_config.order``) starts the new
    one beside the old, where nothing (a fixed name, host port or address) stops them
    running at once; stop-first stops the old one first."""
    ready = (Step.WAIT_READY,) if policy.wait else ()
    start_first = dc.update_order == "start-first" and not dc.runs_alone
    if start_first:
        order = "start-first: the new container runs beside the old until it is ready"
        steps = (Step.START_NEW, *ready, Step.STOP_OLD)
    else:
        if dc.update_order == "start-first":
            why = f"start-first asked, but it {dc.runs_alone}"
        elif dc.runs_alone:
            why = f"it {dc.runs_alone}"
        else:
            why = "the default; deploy.update_config.order: start-first avoids the gap"
        order = f"stop-first ({why})"
        steps = (Step.STOP_OLD, Step.START_NEW, *ready)
    all_steps = (Step.REMOVE_TEMP, Step.CREATE_TEMP, *steps, Step.REMOVE_OLD, Step.RENAME)
    if not policy.rollback:
        return all_steps, (), (order, "on failure: left as is (--no-rollback)")
    if dc.failure_action != "rollback":
        action = (
            f"on failure: left as is (deploy.update_config.failure_action: {dc.failure_action})"
        )
        return all_steps, (), (order, action)
    undo = (
        (Step.REMOVE_TEMP, Step.START_OLD)
        if old.running and not start_first
        else (Step.REMOVE_TEMP,)
    )
    if policy.wait:
        what = "ready (healthy, else running)" if dc.has_healthcheck else "running"
        action = f"on failure: rolled back to the old container unless the new one is {what}"
    else:
        action = "on failure to create or start: rolled back (--no-wait: health is not checked)"
    return all_steps, undo, (order, action)


Verdict = tuple[Kind, str, tuple[Change, ...]]
VerdictOf = Callable[[DesiredContainer, ObservedContainer | None, ObservedState], Verdict | None]

FILES = "files."  # config files' digests in a container's config (see desired.py)


def _changed(changes: Sequence[Change]) -> str:
    """``config changed: env.A``, ``config file changed: nginx.conf``, or both."""
    files = [c.path.removeprefix(FILES) for c in changes if c.path.startswith(FILES)]
    rest = [c for c in changes if not c.path.startswith(FILES)]
    reasons = [change_reason(rest)] if rest or not files else []
    if files:
        reasons.append(f"config file changed: {', '.join(files)}")
    return "; ".join(reasons)


def _verdicts(
    desired: DesiredState, observed: ObservedState, verdict_of: VerdictOf
) -> dict[str, Verdict | None]:
    """Each desired container's verdict, by name. A container that shares the namespace
    of another service's container (``network_mode: service:X``, ipc, pid) is replaced
    when that container is created or replaced, or when it is no longer the one the
    container joined (Docker keeps the namespace of the container it was created with);
    a running one whose owner is started again is replaced too (its namespace is gone)."""
    out = {
        dc.name: verdict_of(dc, observed.container(dc.name), observed) for dc in desired.containers
    }
    first = {(dc.stack, dc.service): dc.name for dc in desired.containers if dc.number == 1}
    for _ in desired.containers:  # a chain of owners: each round settles one more link
        changed = False
        for dc in desired.containers:
            obs = observed.container(dc.name)
            mine = out[dc.name]
            if obs is None or (mine is not None and mine[0] == Kind.REPLACE):
                continue
            for owner in dc.namespace_owners:
                owner_name = first.get((dc.stack, owner))
                if owner_name is None:
                    continue
                theirs = out[owner_name]
                owner_obs = observed.container(owner_name)
                moved = (
                    dc.network_mode == f"container:{owner_name}"
                    and owner_obs is not None
                    and obs.network_mode.startswith("container:")
                    and obs.network_mode != f"container:{owner_obs.id}"
                )
                if moved or (theirs is not None and theirs[0] in (Kind.CREATE, Kind.REPLACE)):
                    out[dc.name] = (Kind.REPLACE, f"namespace owner replaced: {owner}", ())
                    changed = True
                    break
                if mine is None and theirs is not None and theirs[0] == Kind.START:
                    # a running container in a stopped owner's namespace has lost it: a
                    # new container joins the namespace the owner starts with
                    out[dc.name] = (Kind.REPLACE, f"namespace owner restarted: {owner}", ())
                    changed = True
                    break
        if not changed:
            break
    return out


def _namespace_found(b: PlanBuilder, dc: DesiredContainer, observed: ObservedState) -> bool:
    """``network_mode`` (ipc, pid) ``container:NAME`` outside the stacks: NAME must exist."""
    for field, mode in (("network_mode", dc.network_mode), ("ipc", dc.ipc), ("pid", dc.pid)):
        if mode is None or not mode.startswith("container:") or dc.namespace_owners:
            continue
        ref = mode.removeprefix("container:")
        if any(
            c.name == ref or (len(ref) >= 12 and c.id.startswith(ref)) for c in observed.containers
        ):
            continue
        b.problems.append(
            f"container {dc.name!r} (service {dc.service!r} of stack {dc.stack!r}) uses "
            f"{field} {mode}, but no container {ref!r} exists.\n  hint: start that container "
            f"first, or use {field}: service:NAME for a service of the stack"
        )
        return False
    return True


def _verdict(
    dc: DesiredContainer,
    obs: ObservedContainer | None,
    observed: ObservedState,
    replace: AbstractSet[tuple[str, str]] = frozenset(),
    rebuilt: AbstractSet[str] = frozenset(),
) -> Verdict | None:
    """What the container needs (kind, reason, changes), or None when it is in sync;
    a service in ``replace`` is recreated whatever else holds (``--replace``);
    ``rebuilt``: the images the plan builds again."""
    found = _found_verdict(dc, obs, observed, dc.image in rebuilt)
    forced = obs is not None and (dc.stack, dc.service) in replace
    if forced and (found is None or found[0] != Kind.REPLACE):
        return Kind.REPLACE, "forced by --replace", ()
    return found


def _found_verdict(
    dc: DesiredContainer, obs: ObservedContainer | None, observed: ObservedState, rebuilt: bool
) -> Verdict | None:
    if obs is None:
        return Kind.CREATE, "missing", ()
    if obs.adopted_from is not None and obs.config_hash is None:
        return _adopt_verdict(dc, obs, observed)
    if obs.config_hash not in (dc.config_hash, dc.legacy_hash):  # legacy: core/config.py
        changes = diff_config(obs.config, dc.config, dc.sensitive)
        return Kind.REPLACE, _changed(changes), changes
    if rebuilt:
        return Kind.REPLACE, "image rebuilt", ()
    update = observed.image_update(dc.image)
    if update is not None:  # pulled first by the plan's pull of the image
        change = Change("image", short(update[0]), short(update[1]))
        return Kind.REPLACE, f"image update available: {dc.image}", (change,)
    current = observed.images.get(dc.image)
    if current and obs.image_id and current != obs.image_id:
        return Kind.REPLACE, "image updated", (Change("image_id", obs.image_id[:19], current[:19]),)
    wanted_nets = {n.name for n in dc.networks}
    if dc.network_mode in ("host", "none", "bridge"):
        wanted_nets = {dc.network_mode}
    # Created but never started counts too: an apply killed between the create and the
    # connects (below API 1.44) leaves a container on its first network only.
    in_other_namespace = dc.network_mode is not None and dc.network_mode.startswith("container:")
    if not in_other_namespace and set(obs.networks) != wanted_nets:
        missing = sorted(wanted_nets - set(obs.networks))
        extra = sorted(set(obs.networks) - wanted_nets)
        detail = "; ".join(
            [*(f"not on network {n}" for n in missing), *(f"also on network {n}" for n in extra)]
        )
        change = Change("networks", sorted(obs.networks), sorted(wanted_nets))
        return Kind.REPLACE, f"drift: {detail}", (change,)
    if obs.state in ("dead", "removing"):
        return Kind.REPLACE, f"container is {obs.state}", ()
    drift = _settings_drift(dc, obs)
    if drift:
        fields = ", ".join(c.path for c in drift)
        if all(_updatable(c) for c in drift):
            return Kind.UPDATE, f"drift: {fields} (docker update)", drift
        return Kind.REPLACE, f"drift: {fields} (a limit to lift: not possible in place)", drift
    return _state_verdict(dc, obs)


def _adopt_verdict(
    dc: DesiredContainer, obs: ObservedContainer, observed: ObservedState
) -> Verdict | None:
    """A container docker compose made, of a project the stack adopts: replaced when its
    running config differs (it then carries stackctl's labels), else adopted as it runs
    the first time (and renamed, compose v1's ``proj_web_1``), then in sync."""
    changes = adoption.changes(dc, obs, observed)
    if changes:
        return Kind.REPLACE, "made by docker compose, " + change_reason(changes), changes
    if obs.state in ("dead", "removing"):
        return Kind.REPLACE, f"container is {obs.state}", ()
    if not adoption.recorded(observed, dc.stack) or obs.adopted_from != obs.name:
        return Kind.ADOPT, "made by docker compose, config matches", ()
    return _state_verdict(dc, obs)


def _adopt_steps(dc: DesiredContainer, obs: ObservedContainer) -> tuple[Step, ...]:
    """Adopting takes nothing but a rename of a compose v1 name (which does not restart
    it), and a start when it is stopped (or an unpause)."""
    steps: tuple[Step, ...] = (Step.RENAME,) if obs.adopted_from != obs.name else ()
    state = _state_verdict(dc, obs)
    if state is not None:
        steps = (*steps, *STEPS[state[0]])
    return steps or (Step.ADOPT,)


def _plan_adoptions(b: PlanBuilder, claim: adoption.Claim) -> None:
    """The networks and volumes adopted in place, and each adopting stack's record (made
    once its containers are adopted: from then on compose's labels count as its own)."""
    for res in claim.resources:
        kind = Kind.ADOPT_NETWORK if res.noun == "network" else Kind.ADOPT_VOLUME
        op = Operation(
            adopt_id(res.noun, res.name),
            kind,
            res.name,
            res.stack,
            "made by docker compose, settings match",
            steps=(Step.ADOPT,),
        )
        b.add(op)
    for stack in claim.fresh:
        record = adoption.record_volume(stack)
        adopted = [
            op.id
            for op in b.ops
            if op.kind in (Kind.ADOPT, Kind.ADOPT_NETWORK, Kind.ADOPT_VOLUME) and op.stack == stack
        ]
        op = Operation(
            volume_id(record.name),
            Kind.CREATE_VOLUME,
            record.name,
            stack,
            f"records that stack {stack!r} owns what docker compose made for project "
            f"{stack!r} (adopted)",
            volume=record,
        )
        b.add(op, after=adopted)


def _settings_drift(dc: DesiredContainer, obs: ObservedContainer) -> tuple[Change, ...]:
    """What ``docker update`` changed by hand (restart policy, limits), as field changes;
    nothing when the container was not inspected."""
    if obs.settings is None:
        return ()
    wanted = {
        "restart": str(dc.spec.get("restart") or "no"),
        "resources": dict(dc.spec.get("resources") or {}),
    }
    return diff_config(obs.settings, wanted)


def _updatable(change: Change) -> bool:
    """Whether the Engine API's update can make ``change``: it reads 0 as "unchanged" for
    the CPU and memory limits, so lifting one of those takes a new container."""
    return change.path in ("restart", "resources.pids_limit") or change.new is not None


def _state_verdict(dc: DesiredContainer, obs: ObservedContainer) -> Verdict | None:
    """Start, unpause or nothing: the container's config is as wanted."""
    if obs.running:
        return None
    if obs.state == "paused":
        return Kind.UNPAUSE, "paused", ()
    if dc.oneshot and obs.state == "exited" and obs.exit_code == 0:
        return None  # a one-shot that finished cleanly has done its job
    if obs.state == "exited" and obs.exit_code not in (None, 0):
        reason = f"exited with code {obs.exit_code}"
    else:
        reason = "stopped" if obs.state == "exited" else f"not running ({obs.state})"
    return Kind.START, reason, ()


def _leaving(
    desired: DesiredState,
    observed: ObservedState,
    ours: set[str],
    prune: bool,
    verdict_of: VerdictOf,
) -> set[str]:
    """The existing containers the plan removes or replaces (what a replaced network
    does not reconnect): the same verdicts as _plan_containers and _plan_orphans."""
    wanted = {c.name: c for c in desired.containers}
    verdicts = _verdicts(desired, observed, verdict_of)
    out: set[str] = set()
    for obs in observed.containers:
        dc = wanted.get(obs.name)
        if dc is None:
            if obs.stack in ours and (prune or obs.name.endswith(TEMP_SUFFIX)):
                out.add(obs.name)
        elif obs.stack == dc.stack and obs.service == dc.service:
            verdict = verdicts[dc.name]
            if verdict is not None and verdict[0] == Kind.REPLACE:
                out.add(obs.name)
    return out


def _reconnect(
    b: PlanBuilder,
    desired: DesiredState,
    observed: ObservedState,
    net: DesiredNetwork,
    leaving: set[str],
    reason: str,
) -> tuple[tuple[str, ContainerNetwork], ...]:
    """A replaced network: foreign containers make it an error; ours (but those the plan
    removes or replaces) are reconnected with their desired attachment."""
    attached = [c for c in observed.containers if net.name in c.networks]
    foreign = [c.name for c in attached if c.stack != net.stack]
    if foreign:
        b.problems.append(
            f"network {net.name!r} must be replaced ({reason}) but containers that "
            f"stack {net.stack!r} does not own are attached: {', '.join(sorted(foreign))}."
            "\n  hint: disconnect them (docker network disconnect "
            f"{net.name} NAME) or revert the network change"
        )
        return ()
    reconnect: list[tuple[str, ContainerNetwork]] = []
    for c in attached:
        if c.name in leaving:
            continue
        want = next(
            (
                n
                for dc in desired.containers
                if dc.name == c.name
                for n in dc.networks
                if n.name == net.name
            ),
            ContainerNetwork(net.name, (c.service or c.name,), None, None),
        )
        reconnect.append((c.name, want))
    return tuple(reconnect)


def _plan_orphans(
    b: PlanBuilder, desired: DesiredState, observed: ObservedState, ours: set[str], prune: bool
) -> None:
    wanted_containers = {c.name for c in desired.containers}
    removed: list[str] = []
    for obs in observed.containers:
        if obs.stack not in ours or obs.name in wanted_containers:
            continue
        if obs.name.endswith(TEMP_SUFFIX):
            # a replace of the same container waits for it (see _plan_containers)
            removed.append(_remove(b, obs, "leftover of an interrupted replace"))
            continue
        op_id = b.orphan(obs, "container", prune=prune, remove=partial(_remove, b, obs))
        if op_id is not None:
            removed.append(op_id)
    wanted_nets = {n.name for n in desired.networks}
    for net in observed.networks:
        if net.stack not in ours or net.name in wanted_nets:
            continue
        attached = [c for c in observed.containers if net.name in c.networks]
        foreign = [c.name for c in attached if c.stack not in ours]
        b.orphan_network(
            net,
            prune=prune,
            kept_by=f"containers of others are attached ({', '.join(foreign)})" if foreign else "",
            after=tuple(remove_id(c.name) for c in attached if remove_id(c.name) in removed),
        )


def _check_addresses(b: PlanBuilder, desired: DesiredState, observed: ObservedState) -> None:
    """A fixed address that a container outside the plan holds: the daemon would refuse
    the start only after a replaced container's old one is gone. Say so now instead."""
    wanted = {c.name for c in desired.containers}
    leaving = {op.resource for op in b.ops if op.kind == Kind.REMOVE}
    held = {
        (net, ip): c
        for c in observed.containers
        if c.name not in wanted and c.name not in leaving
        for net, ip in c.networks.items()
        if ip
    }
    for op in b.ops:
        if op.kind not in (Kind.CREATE, Kind.REPLACE) or not isinstance(op.unit, DesiredContainer):
            continue
        for n in op.unit.networks:
            holder = held.get((n.name, n.ipv4_address or ""))
            if holder is None:
                continue
            owner = f"of stack {holder.stack!r}" if holder.stack else "not made by stackctl"
            b.problems.append(
                f"container {op.resource!r} needs the address {n.ipv4_address} on network "
                f"{n.name!r}, which container {holder.name!r} ({owner}) holds.\n  hint: "
                f"free it (docker network disconnect {n.name} {holder.name}) or give the "
                "service another ipv4_address"
            )


SUBPATH_API = (1, 45)  # Mount.VolumeOptions.Subpath: Docker Engine 26.0


def _check_api_features(b: PlanBuilder, desired: DesiredState, api_version: str) -> None:
    """A mount option the daemon's API is too old for: refused here, since an older daemon
    would ignore the field and mount the whole volume."""
    try:
        have = tuple(int(part) for part in api_version.split(".")[:2])
    except ValueError:
        return  # an unreadable version: the daemon says for itself
    if have >= SUBPATH_API:
        return
    seen: set[tuple[str, str, str]] = set()
    for dc in desired.containers:
        for m in dc.spec.get("mounts", []):
            where = (dc.stack, dc.service, m["target"])
            if not m.get("subpath") or where in seen:
                continue
            seen.add(where)
            b.problems.append(
                f"stack {dc.stack!r}, services.{dc.service}.volumes (target {m['target']}): "
                f"volume.subpath needs Docker Engine API 1.45 (Engine 26.0) or later; this "
                f"daemon speaks API {api_version}.\n  hint: upgrade the daemon, or mount "
                "the whole volume (drop subpath) and point the service at the folder"
            )


def _remove(b: PlanBuilder, obs: ObservedContainer, reason: str, after: Sequence[str] = ()) -> str:
    op = Operation(
        remove_id(obs.name),
        Kind.REMOVE,
        obs.name,
        obs.stack,
        reason,
        target_id=obs.id,
        steps=STEPS[Kind.REMOVE],
    )
    return b.add(op, after=after)


# --------------------------------------------------------------------------- destroy


def plan_destroy(desired: DesiredState, observed: ObservedState, *, volumes: bool = False) -> Plan:
    """Remove what the stacks made: containers (dependents first), networks, and volumes
    only when asked. External networks and anything not ours are never touched."""
    b = PlanBuilder()
    observed = adoption.owned(observed)  # what compose made for a stack that adopted it
    ours = set(desired.stacks)
    mine = destroy_units(b, desired.containers, observed.containers, ours, remove_id, _remove)
    for net in observed.networks:
        if net.stack not in ours:
            continue
        foreign = [
            c.name for c in observed.containers if net.name in c.networks and c.stack not in ours
        ]
        if foreign:
            b.problems.append(
                f"network {net.name!r} of stack {net.stack!r} has containers of others "
                f"attached: {', '.join(sorted(foreign))}.\n  hint: disconnect them first "
                f"(docker network disconnect {net.name} NAME)"
            )
            continue
        attached = tuple(remove_id(c.name) for c in mine if net.name in c.networks)
        b.remove_network(net, "destroy", attached)
    b.remove_volumes(
        [v for v in observed.volumes if not adoption.is_record(v)],
        ours,
        remove=volumes,
        after=tuple(remove_id(c.name) for c in mine),
        reason="destroy --volumes",
    )
    if volumes:
        _remove_anonymous_volumes(b, mine)
    _remove_records(b, observed, ours, volumes)
    names = [c.name for c in mine] + [n.name for n in observed.networks if n.stack in ours]
    return b.finish(
        desired.stacks,
        lambda: fingerprint(observed, desired.stacks, names),
        observed.api_version,
        destroy=True,
    )


def _remove_records(b: PlanBuilder, observed: ObservedState, ours: set[str], volumes: bool) -> None:
    """An adopting stack's record goes last, with what it records: kept while a volume
    compose made for the stack is kept (so ``destroy --volumes`` still finds it)."""
    for record in observed.volumes:
        stack = record.stack
        if stack not in ours or not adoption.is_record(record):
            continue
        kept = [
            v.name
            for v in observed.volumes
            if v.stack == stack and v.labels.get(COMPOSE_PROJECT) == stack
        ]
        if kept and not volumes:
            b.unchanged.append(
                f"volume {record.name} (the record that stack {stack!r} adopted docker "
                f"compose's {', '.join(kept)}; kept with them)"
            )
            continue
        before = [op.id for op in b.ops if op.stack == stack]
        b.add(
            Operation(
                remove_volume_id(record.name),
                Kind.REMOVE_VOLUME,
                record.name,
                stack,
                f"destroy: the record of the adoption of docker compose project {stack!r}",
            ),
            after=before,
        )


def _remove_anonymous_volumes(b: PlanBuilder, mine: Sequence[ObservedContainer]) -> None:
    """``destroy --volumes``: the anonymous volumes of the stacks' containers go too (as
    ``docker compose down -v``), each once every container that mounts it is removed."""
    users: dict[str, list[ObservedContainer]] = {}
    targets: dict[str, str] = {}
    for c in mine:
        for target, name in c.anonymous_volumes.items():
            users.setdefault(name, []).append(c)
            targets.setdefault(name, target)
    for name, containers in users.items():
        first = containers[0]
        b.add(
            Operation(
                remove_volume_id(name),
                Kind.REMOVE_VOLUME,
                name,
                first.stack,
                f"destroy --volumes: anonymous volume {targets[name]} of {first.name}",
            ),
            after=tuple(remove_id(c.name) for c in containers),
        )
