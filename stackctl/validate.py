"""Semantic validation of loaded stacks: every finding at once, each with where and what to do.

The model already rejects what one field can get wrong on its own (a malformed duration,
port or image reference). The rules here look across fields, services and stacks:
references that lead nowhere, dependency cycles, addresses outside their subnet, a host
port published twice, risky settings. Each rule is a small function in the ``RULES``
table; its id is the ``code`` of the diagnostics it gives.

    diagnostics = validate(stacks)
    if has_errors(diagnostics): ...
"""

from __future__ import annotations

import graphlib
import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stackctl import units
from stackctl.errors import Diagnostic, InvalidStackError, did_you_mean
from stackctl.model import Condition, Network, Secret, Service, Stack
from stackctl.order import find_stack_cycles

Severity = Literal["error", "warning"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# --------------------------------------------------------------------------- framework


@dataclass(frozen=True)
class Finding:
    """What a rule found, before the rule's table entry gives it a code and a severity."""

    stack: Stack
    path: str  # attribute path as the loader records lines: ``services.db.ports.0``
    message: str
    hint: str | None = None
    item: str | None = None  # the same attribute written as a list item (``networks.0``)


SetCheck = Callable[[Sequence[Stack]], Iterable[Finding]]
StackCheck = Callable[[Stack], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One validation rule: its id (``Diagnostic.code``), severity and check."""

    code: str
    severity: Severity
    summary: str
    check: SetCheck


def _each_stack(check: StackCheck) -> SetCheck:
    """Lift a rule about one stack to a rule about the whole set."""

    def run(stacks: Sequence[Stack]) -> Iterator[Finding]:
        for stack in stacks:
            yield from check(stack)

    run.__doc__ = check.__doc__
    return run


def where(stack: Stack, path: str | None = None) -> str:
    """``file:line`` of a stack (or of one of its attributes), else the stack's name."""
    if stack.origin is None:
        return f"stack '{stack.name}'"
    line = stack.line_of(path or "name")
    return f"{stack.origin}:{line}" if line else str(stack.origin)


def _line(stack: Stack, path: str, item: str | None) -> int | None:
    """The line of ``path``; for a key of a list-form mapping (``networks: [a, b]``) the
    loader knows only the item's line, found through ``item``."""
    line = stack.line_of(path)
    if item is not None and line == stack.line_of(path.rpartition(".")[0]):
        return stack.line_of(item) or line
    return line


def diagnostic(
    stack: Stack,
    severity: Severity,
    code: str,
    path: str,
    message: str,
    hint: str | None = None,
    item: str | None = None,
) -> Diagnostic:
    """A Diagnostic located in ``stack``'s file at the line of ``path``."""
    return Diagnostic(
        severity=severity,
        message=message,
        file=str(stack.origin) if stack.origin else None,
        line=_line(stack, path, item),
        path=path,
        hint=hint,
        code=code,
    )


def validate(stacks: Sequence[Stack], rules: Sequence[Rule] | None = None) -> list[Diagnostic]:
    """Every error and warning about a set of stacks loaded together, in file and line order."""
    found: list[Diagnostic] = []
    for rule in RULES if rules is None else rules:
        for f in rule.check(stacks):
            found.append(
                diagnostic(f.stack, rule.severity, rule.code, f.path, f.message, f.hint, f.item)
            )
    found.extend(find_stack_cycles(stacks))
    return sorted(found, key=lambda d: (d.file or "", d.line or 0))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when any diagnostic is an error (warnings never stop anything)."""
    return any(d.severity == "error" for d in diagnostics)


def ensure_valid(stacks: Sequence[Stack]) -> list[Diagnostic]:
    """Validate; raise InvalidStackError (with every diagnostic) on errors, else return warnings."""
    diagnostics = validate(stacks)
    if has_errors(diagnostics):
        raise InvalidStackError(diagnostics)
    return diagnostics


# --------------------------------------------------------------------------- helpers


def _item(base: str, keys: Iterable[str], key: str) -> str:
    """``base.N``: where ``key`` sits when the mapping was written as a list."""
    return f"{base}.{list(keys).index(key)}"


def _declare_hint(kind: str, word: str, choices: Iterable[str]) -> str:
    close = did_you_mean(word, sorted(choices))
    if close:
        return close
    return f"declare it under {kind}: (with external: true if it is made elsewhere)"


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def _parse_net(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Pool:
    """One parsed ipam pool: its subnet and gateway (given, or Docker's default)."""

    subnet: IPNetwork
    gateway: IPAddress | None
    gateway_given: bool


def _default_gateway(subnet: IPNetwork) -> IPAddress | None:
    """Docker gives a network the first host address of its subnet as gateway."""
    return subnet.network_address + 1 if subnet.num_addresses > 2 else None


def _pools(network: Network) -> list[_Pool]:
    """The network's parseable subnets (bad ones are the ``invalid-ipam`` rule's business)."""
    out: list[_Pool] = []
    for pool in network.ipam.config if network.ipam else []:
        subnet = _parse_net(pool.subnet) if pool.subnet else None
        if subnet is None:
            continue
        given = _parse_ip(pool.gateway) if pool.gateway else None
        gateway = given if given is not None else _default_gateway(subnet)
        out.append(_Pool(subnet, gateway, given is not None))
    return out


@dataclass(frozen=True)
class _Defined:
    stack: Stack
    key: str
    network: Network


def _defined_networks(stacks: Sequence[Stack]) -> dict[str, _Defined]:
    """Docker network name -> the (first) stack network that creates it."""
    out: dict[str, _Defined] = {}
    for stack in stacks:
        for key, net in stack.networks.items():
            if not net.external:
                out.setdefault(stack.network_name(key), _Defined(stack, key, net))
    return out


def _network_definition(stack: Stack, key: str, defined: dict[str, _Defined]) -> _Defined | None:
    """The definition behind a stack's network key: its own, or the stack that provides
    the external network; None when unknown (undeclared, or made by hand)."""
    net = stack.networks.get(key)
    if net is None:
        return None
    if not net.external:
        return _Defined(stack, key, net)
    return defined.get(stack.network_name(key))


# --------------------------------------------------------------------------- references


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
                    _item(base, svc.networks, key),
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
                    _item(f"services.{svc.name}.depends_on", svc.depends_on, dep),
                )


def _dependency_cycles(stack: Stack) -> Iterator[Finding]:
    """Services that wait for each other, so none of them can start."""
    edges = {
        name: {d for d in svc.depends_on if d in stack.services}
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
        yield Finding(
            stack,
            f"services.{first}.depends_on.{second}",
            f"dependency cycle: {' -> '.join(cycle)}",
            "remove one of these depends_on entries; services that need each other "
            "must start without waiting and retry",
            _item(f"services.{first}.depends_on", stack.services[first].depends_on, second),
        )


def _healthy_without_healthcheck(stack: Stack) -> Iterator[Finding]:
    """Waiting for ``service_healthy`` on a service that has no health check."""
    for svc in stack.services.values():
        for dep, how in svc.depends_on.items():
            target = stack.services.get(dep)
            if how.condition != Condition.HEALTHY or target is None:
                continue
            if target.healthcheck is not None and not target.healthcheck.disabled:
                continue
            state = "is disabled" if target.healthcheck else "is not defined"
            yield Finding(
                stack,
                f"services.{svc.name}.depends_on.{dep}",
                f"service '{svc.name}' waits for '{dep}' to be healthy, "
                f"but the health check of '{dep}' {state}",
                f"add a healthcheck to '{dep}' (its image may have one, but stackctl cannot "
                "see it without a daemon), or wait with condition service_started",
                _item(f"services.{svc.name}.depends_on", svc.depends_on, dep),
            )


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class _Address:
    stack: Stack
    service: Service
    key: str  # network key in the stack
    path: str
    text: str
    version: int


def _fixed_addresses(stacks: Sequence[Stack]) -> Iterator[_Address]:
    for stack in stacks:
        for svc in stack.services.values():
            for key, how in svc.networks.items():
                base = f"services.{svc.name}.networks.{key}"
                if how.ipv4_address:
                    yield _Address(stack, svc, key, f"{base}.ipv4_address", how.ipv4_address, 4)
                if how.ipv6_address:
                    yield _Address(stack, svc, key, f"{base}.ipv6_address", how.ipv6_address, 6)


def _invalid_addresses(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """An ipv4_address/ipv6_address that is not an address of that IP version."""
    for a in _fixed_addresses(stacks):
        ip = _parse_ip(a.text)
        if ip is None or ip.version != a.version:
            yield Finding(
                a.stack,
                a.path,
                f"'{a.text}' is not an IPv{a.version} address",
                "write a plain address such as 172.18.0.10" if a.version == 4 else None,
            )


def _address_checks(
    stacks: Sequence[Stack],
) -> Iterator[tuple[_Address, IPAddress, _Defined, list[_Pool]]]:
    """Fixed addresses that parse, on networks whose definition is known here."""
    defined = _defined_networks(stacks)
    for a in _fixed_addresses(stacks):
        ip = _parse_ip(a.text)
        found = _network_definition(a.stack, a.key, defined)
        if ip is None or ip.version != a.version or found is None:
            continue
        if found.network.driver in ("host", "none"):
            continue
        pools = [p for p in _pools(found.network) if p.subnet.version == a.version]
        yield a, ip, found, pools


def _network_label(found: _Defined, asker: Stack) -> str:
    label = f"network '{found.key}'"
    if found.stack is not asker:
        label += f" (defined by stack '{found.stack.name}', {where(found.stack)})"
    return label


def _address_without_subnet(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """A fixed address on a network that has no subnet of that IP version."""
    for a, _ip, found, pools in _address_checks(stacks):
        if not pools:
            yield Finding(
                a.stack,
                a.path,
                f"service '{a.service.name}' asks for fixed address {a.text}, but "
                f"{_network_label(found, a.stack)} has no IPv{a.version} subnet; "
                "Docker only accepts fixed addresses on a network with a configured subnet",
                f"add ipam: {{config: [{{subnet: ...}}]}} to network '{found.key}'",
            )


def _reserved(ip: IPAddress, subnet: IPNetwork) -> bool:
    """The network address (and, in IPv4, the broadcast address) belong to no host."""
    if subnet.num_addresses <= 2:
        return False
    return ip == subnet.network_address or (subnet.version == 4 and ip == subnet.broadcast_address)


def _address_outside_subnet(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """A fixed address outside its network's subnets, or one no host may use."""
    for a, ip, found, pools in _address_checks(stacks):
        if not pools:
            continue
        subnets = ", ".join(str(p.subnet) for p in pools)
        pool = next((p for p in pools if ip in p.subnet), None)
        if pool is None:
            problem = f"is outside the subnet of {_network_label(found, a.stack)} ({subnets})"
        elif _reserved(ip, pool.subnet):
            problem = f"is not a host address of {pool.subnet}"
        else:
            continue
        yield Finding(
            a.stack,
            a.path,
            f"address {a.text} of service '{a.service.name}' {problem}",
            f"pick a host address inside {subnets}",
        )


def _address_is_gateway(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """A fixed address equal to the network's gateway."""
    for a, ip, found, pools in _address_checks(stacks):
        for pool in pools:
            if pool.gateway != ip:
                continue
            how = (
                "the network's gateway"
                if pool.gateway_given
                else "the network's gateway (no gateway is set, so Docker uses the first "
                f"host address of {pool.subnet})"
            )
            yield Finding(
                a.stack,
                a.path,
                f"address {a.text} of service '{a.service.name}' on "
                f"{_network_label(found, a.stack)} is {how}",
                "pick another address; the gateway belongs to the host",
            )


def _duplicate_addresses(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """The same fixed address twice on one Docker network, across all stacks."""
    seen: dict[tuple[str, IPAddress], _Address] = {}
    for a in _fixed_addresses(stacks):
        ip = _parse_ip(a.text)
        if ip is None or a.key not in a.stack.networks:
            continue
        if a.service.replica_count > 1:
            yield Finding(
                a.stack,
                a.path,
                f"service '{a.service.name}' has {a.service.replica_count} replicas, "
                f"which cannot all have address {a.text}",
                "run one replica, or let Docker assign the addresses",
            )
        slot = (a.stack.network_name(a.key), ip)
        first = seen.setdefault(slot, a)
        if first is not a:
            yield Finding(
                a.stack,
                a.path,
                f"address {a.text} on network '{slot[0]}' is already taken by service "
                f"'{first.service.name}' of stack '{first.stack.name}' "
                f"({where(first.stack, first.path)})",
                "give each container its own address",
            )


# --------------------------------------------------------------------------- networks


def _has_host_bits(text: str) -> bool:
    """``172.18.0.1/16`` names a host, not a network (``172.18.0.0/16``)."""
    try:
        ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        return True
    return False


def _ipam_problems(network: Network) -> Iterator[tuple[str, str, str | None]]:
    """(path below the network, message, hint) for each ipam pool that does not add up."""
    for i, pool in enumerate(network.ipam.config if network.ipam else []):
        base = f"ipam.config.{i}"
        if not pool.subnet:
            if pool.gateway or pool.ip_range or pool.aux_addresses:
                yield base, "a gateway, ip_range or aux_addresses needs a subnet", None
            continue
        subnet = _parse_net(pool.subnet)
        if subnet is None:
            yield (
                f"{base}.subnet",
                f"subnet {pool.subnet!r} is not a network",
                "write it in CIDR form, e.g. 172.18.0.0/16",
            )
            continue
        if _has_host_bits(pool.subnet):
            yield f"{base}.subnet", f"subnet {pool.subnet} has host bits set", f"write {subnet}"
        yield from _pool_members(base, subnet, pool.gateway, pool.ip_range, pool.aux_addresses)


def _pool_members(
    base: str,
    subnet: IPNetwork,
    gateway: str | None,
    ip_range: str | None,
    aux: dict[str, str],
) -> Iterator[tuple[str, str, str | None]]:
    """Gateway, ip_range and aux addresses of one pool must lie in its subnet."""
    addresses = [(f"{base}.gateway", "gateway", gateway)] if gateway else []
    addresses += [(f"{base}.aux_addresses.{k}", f"aux address '{k}'", v) for k, v in aux.items()]
    for path, what, text in addresses:
        ip = _parse_ip(text)
        if ip is None:
            yield path, f"{what} {text!r} is not an IP address", None
        elif ip.version != subnet.version or ip not in subnet:
            yield path, f"{what} {text} is outside the subnet {subnet}", None
    if ip_range:
        rng = _parse_net(ip_range)
        if rng is None:
            yield f"{base}.ip_range", f"ip_range {ip_range!r} is not a network", None
        elif rng.version != subnet.version or not rng.subnet_of(subnet):  # type: ignore[arg-type]
            yield (
                f"{base}.ip_range",
                f"ip_range {ip_range} is not inside the subnet {subnet}",
                "the range Docker hands addresses out from must be part of the subnet",
            )


def _invalid_ipam(stack: Stack) -> Iterator[Finding]:
    """ipam subnets, gateways and ranges that do not parse or do not fit together."""
    for key, net in stack.networks.items():
        for sub, message, hint in _ipam_problems(net):
            yield Finding(stack, f"networks.{key}.{sub}", f"network '{key}': {message}", hint)


def _ipam_on_host_network(stack: Stack) -> Iterator[Finding]:
    """``driver: host`` or ``none`` with address management."""
    for key, net in stack.networks.items():
        if net.driver in ("host", "none") and net.ipam is not None:
            yield Finding(
                stack,
                f"networks.{key}.ipam",
                f"network '{key}' uses driver '{net.driver}', which has no addresses to manage",
                "remove ipam from this network",
            )


def _overlapping_subnets(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """Two networks (of any stacks loaded together) whose subnets overlap."""
    seen: list[tuple[Stack, str, str, IPNetwork]] = []
    for stack in stacks:
        for key, net in stack.networks.items():
            if net.external:
                continue
            name = stack.network_name(key)
            for i, pool in enumerate(_pools(net)):
                for o_stack, o_key, o_name, o_subnet in seen:
                    if o_name == name or not pool.subnet.overlaps(o_subnet):
                        continue
                    yield Finding(
                        stack,
                        f"networks.{key}.ipam.config.{i}.subnet",
                        f"subnet {pool.subnet} of network '{key}' overlaps {o_subnet} of "
                        f"network '{o_key}' in stack '{o_stack.name}' "
                        f"({where(o_stack, f'networks.{o_key}')})",
                        "give each network its own address range",
                    )
                seen.append((stack, key, name, pool.subnet))


def _duplicate_network_names(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """Two networks that would create the same Docker network."""
    seen: dict[str, tuple[Stack, str]] = {}
    for stack in stacks:
        for key, net in stack.networks.items():
            if net.external:
                continue
            name = stack.network_name(key)
            first = seen.setdefault(name, (stack, key))
            if first[0] is not stack or first[1] != key:
                yield Finding(
                    stack,
                    f"networks.{key}",
                    f"network '{key}' would create Docker network '{name}', which network "
                    f"'{first[1]}' of stack '{first[0].name}' already creates "
                    f"({where(first[0], f'networks.{first[1]}')})",
                    "let one stack define it and declare it external: true in the others",
                )


# --------------------------------------------------------------------------- host side


_ANY_HOST = {None, "0.0.0.0", "::"}


def _host_ips_overlap(a: str | None, b: str | None) -> bool:
    """Two bindings clash when either listens on all interfaces or both on one address."""
    if a in _ANY_HOST or b in _ANY_HOST:
        return True
    ia, ib = _parse_ip(a or ""), _parse_ip(b or "")
    return ia == ib if ia is not None and ib is not None else a == b


def _port_label(host_ip: str | None, published: int, protocol: str) -> str:
    host = f"{host_ip}:" if host_ip else ""
    return f"host port {host}{published}/{protocol}"


def _duplicate_host_ports(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """One host port published twice, across all stacks (or by several replicas)."""
    seen: list[tuple[Stack, Service, str, str | None, int, str]] = []
    for stack in stacks:
        for svc in stack.services.values():
            for i, port in enumerate(svc.ports):
                if not port.published:
                    continue
                path = f"services.{svc.name}.ports.{i}"
                label = _port_label(port.host_ip, port.published, port.protocol)
                if svc.replica_count > 1 and (svc.engine or stack.engine) != "swarm":
                    yield Finding(
                        stack,
                        path,
                        f"service '{svc.name}' has {svc.replica_count} replicas, which cannot "
                        f"all publish {label}",
                        "run one replica, or publish only the container port and let "
                        "Docker pick host ports",
                    )
                for o_stack, o_svc, o_path, o_ip, o_pub, o_proto in seen:
                    if (o_pub, o_proto) == (port.published, port.protocol) and _host_ips_overlap(
                        o_ip, port.host_ip
                    ):
                        yield Finding(
                            stack,
                            path,
                            f"{label} is already published by service '{o_svc.name}' of "
                            f"stack '{o_stack.name}' ({where(o_stack, o_path)})",
                            "publish another host port, or bind each to a different host_ip",
                        )
                        break
                seen.append((stack, svc, path, port.host_ip, port.published, port.protocol))


def _duplicate_container_names(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """Two containers with one name, across all stacks."""
    seen: dict[str, tuple[Stack, Service]] = {}
    for stack in stacks:
        for svc in stack.services.values():
            for name in stack.container_names(svc):
                first = seen.setdefault(name, (stack, svc))
                if first[0] is stack and first[1] is svc:
                    continue
                o_stack, o_svc = first
                yield Finding(
                    stack,
                    f"services.{svc.name}.container_name"
                    if svc.container_name
                    else f"services.{svc.name}",
                    f"container name '{name}' of service '{svc.name}' is already used by "
                    f"service '{o_svc.name}' of stack '{o_stack.name}' "
                    f"({where(o_stack, f'services.{o_svc.name}')})",
                    "set a different container_name (or drop it to get '<stack>-<service>-1')",
                )


_DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
_NAME_HINT = "use letters, digits, '_', '.' and '-', starting with a letter or digit"


def _invalid_names(stack: Stack) -> Iterator[Finding]:
    """Container and local volume names the daemon refuses (``my web``, ``wéb``, ``v:x``);
    the default names carry the service and volume keys."""
    for svc in stack.services.values():
        for name in stack.container_names(svc):
            if not _DOCKER_NAME.fullmatch(name):
                own = bool(svc.container_name)
                yield Finding(
                    stack,
                    f"services.{svc.name}.container_name" if own else f"services.{svc.name}",
                    f"container name '{name}' of service '{svc.name}' is not a name Docker accepts",
                    _NAME_HINT if own else f"rename the service: {_NAME_HINT}",
                )
                break
    for key, vol in stack.volumes.items():
        name = stack.volume_name(key)
        if vol.driver in (None, "local") and not _DOCKER_NAME.fullmatch(name):
            yield Finding(
                stack,
                f"volumes.{key}.name" if vol.name else f"volumes.{key}",
                f"volume name '{name}' is not a name Docker accepts",
                _NAME_HINT if vol.name else f"rename the volume: {_NAME_HINT}",
            )


def _container_name_with_replicas(stack: Stack) -> Iterator[Finding]:
    """A fixed container_name cannot be shared by several replicas."""
    for svc in stack.services.values():
        if svc.container_name and svc.replica_count > 1:
            yield Finding(
                stack,
                f"services.{svc.name}.container_name",
                f"service '{svc.name}' has {svc.replica_count} replicas but one container_name "
                f"'{svc.container_name}'",
                "remove container_name (replicas are named <stack>-<service>-N) or use one replica",
            )


def _invalid_extra_hosts(stack: Stack) -> Iterator[Finding]:
    """``extra_hosts`` values must be IP addresses or ``host-gateway``."""
    for svc in stack.services.values():
        for host, value in svc.extra_hosts.items():
            if value != "host-gateway" and _parse_ip(value) is None:
                yield Finding(
                    stack,
                    f"services.{svc.name}.extra_hosts.{host}",
                    f"extra host '{host}' maps to {value!r}, which is not an IP address",
                    "use an IP address, or host-gateway for the Docker host",
                    _item(f"services.{svc.name}.extra_hosts", svc.extra_hosts, host),
                )


def _invalid_dns(stack: Stack) -> Iterator[Finding]:
    """``dns`` servers must be IP addresses."""
    for svc in stack.services.values():
        for i, server in enumerate(svc.dns):
            if _parse_ip(server) is None:
                yield Finding(
                    stack,
                    f"services.{svc.name}.dns.{i}",
                    f"dns server {server!r} is not an IP address",
                    "Docker needs the resolver's address, e.g. 1.1.1.1",
                )


def _duplicate_stack_names(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """Two stacks with one name would manage the same containers."""
    seen: dict[str, Stack] = {}
    for stack in stacks:
        first = seen.setdefault(stack.name, stack)
        if first is not stack:
            yield Finding(
                stack,
                "name",
                f"stack name '{stack.name}' is already used by {where(first)}",
                "give each stack its own name",
            )


def _missing_env_files(stack: Stack) -> Iterator[Finding]:
    """An ``env_file`` that does not exist (relative paths from the stack's folder)."""
    for svc in stack.services.values():
        for i, name in enumerate(svc.env_file):
            path = Path(name).expanduser()
            full = path if path.is_absolute() else stack.base_dir / path
            if not full.is_file():
                yield Finding(
                    stack,
                    f"services.{svc.name}.env_file.{i}",
                    f"env file '{name}' of service '{svc.name}' does not exist (looked for {full})",
                    "create it, or fix the path (relative paths start at the stack's folder)",
                )


def _binds_outside_stack(stack: Stack) -> Iterator[Finding]:
    """A relative bind source that climbs out of the stack's folder (``../../etc``).

    Relative paths promise "beside the stack"; one that leaves the folder is most likely a
    mistake, and one that reaches ``/etc`` is a surprise in review. The check is on the
    text (no symlinks followed: the source may not exist yet). Absolute and ``~`` paths
    say what they mean and are allowed.
    """
    base = os.path.abspath(stack.base_dir)
    for svc in stack.services.values():
        for i, mount in enumerate(svc.volumes):
            source = mount.source or ""
            if mount.type != "bind" or source.startswith(("/", "~")):
                continue
            full = os.path.normpath(os.path.join(base, source))
            if full == base or full.startswith(base.rstrip("/") + "/"):
                continue
            yield Finding(
                stack,
                f"services.{svc.name}.volumes.{i}",
                f"bind mount source '{source}' of service '{svc.name}' resolves to {full}, "
                f"outside the stack's folder {base}",
                f"use an absolute path ('{full}') if you really mean a host path, or keep "
                "the data inside the stack's folder",
            )


# --------------------------------------------------------------------------- warnings


_DOCKER_SOCKETS = {"/var/run/docker.sock", "/run/docker.sock"}
_SOCKET_PROXY_HINT = (
    "even read-only, the socket lets it call the whole API; a socket proxy "
    "(e.g. tecnativa/docker-socket-proxy) limits what it may call"
)


def _docker_socket(stack: Stack) -> Iterator[Finding]:
    """The Docker socket mounted into a container gives it control of the host."""
    for svc in stack.services.values():
        for i, mount in enumerate(svc.volumes):
            if mount.type != "bind" or os.path.normpath(mount.source or "") not in _DOCKER_SOCKETS:
                continue
            how = "read-only" if mount.read_only else "read-write"
            yield Finding(
                stack,
                f"services.{svc.name}.volumes.{i}",
                f"service '{svc.name}' mounts the Docker socket {how}: it can control the "
                "Docker daemon, which is root on the host",
                _SOCKET_PROXY_HINT
                if mount.read_only
                else "mount it read-only (:ro) if the service only watches containers; "
                + _SOCKET_PROXY_HINT,
            )


def _privileged(stack: Stack) -> Iterator[Finding]:
    """A privileged container has every capability and every host device."""
    for svc in stack.services.values():
        if svc.privileged:
            yield Finding(
                stack,
                f"services.{svc.name}.privileged",
                f"service '{svc.name}' runs privileged: it has every capability and can reach "
                "all host devices",
                "grant only what it needs with cap_add and devices",
            )


DATABASE_PORTS = frozenset(
    {5432, 3306, 27017, 6379, 9200, 5984, 1433, 1521, 26257, 8086, 11211, 9042}
)


def _exposed_database_ports(stack: Stack) -> Iterator[Finding]:
    """A database port published on every interface of the host."""
    for svc in stack.services.values():
        for i, port in enumerate(svc.ports):
            if not port.published or port.host_ip not in _ANY_HOST:
                continue
            if port.target not in DATABASE_PORTS and port.published not in DATABASE_PORTS:
                continue
            yield Finding(
                stack,
                f"services.{svc.name}.ports.{i}",
                f"service '{svc.name}' publishes database port {port.published} on all "
                "interfaces of the host",
                f"bind it to localhost ('127.0.0.1:{port.published}:{port.target}') or drop it "
                "and reach the service by name on a shared network",
            )


def _unpinned_images(stack: Stack) -> Iterator[Finding]:
    """An image without a tag, or ``:latest``, changes whenever it is pushed."""
    for svc in stack.services.values():
        name, tag, digest = units.split_image(svc.image)
        if digest or (tag and tag != "latest"):
            continue
        what = "has no tag, so it means :latest" if tag is None else "uses :latest"
        yield Finding(
            stack,
            f"services.{svc.name}.image",
            f"image '{svc.image}' of service '{svc.name}' {what}; what runs changes whenever "
            "a new image is pushed",
            f"pin a version ({name}:<version>) or a digest ({name}@sha256:...)",
        )


_SECRET_WORDS = ("PASSWORD", "PASSWD", "TOKEN", "SECRET", "KEY", "API_KEY", "PRIVATE")


def looks_like_inline_secret(key: str, value: str | Secret) -> bool:
    """An environment entry whose name says secret but whose value is a plain string.

    ``*_FILE`` variables (``POSTGRES_PASSWORD_FILE=/run/secrets/db``) hold a path, not the
    secret. A value still holding ``${VAR}`` refers to the environment; but the loader
    substitutes variables before validation, so interpolated values are flagged like
    inline ones.
    """
    if isinstance(value, Secret) or not value or "${" in value:
        return False
    name = key.upper()
    return not name.endswith("_FILE") and any(word in name for word in _SECRET_WORDS)


def _inline_secrets(stack: Stack) -> Iterator[Finding]:
    """Secret-looking environment values given as plain strings."""
    for svc in stack.services.values():
        for key, value in svc.environment.items():
            if looks_like_inline_secret(key, value):
                yield Finding(
                    stack,
                    f"services.{svc.name}.environment.{key}",
                    f"{key} looks like a secret but is a plain value, so plans and JSON "
                    "output would show it",
                    f"use Secret.env({key!r}) in Python, or a secrets: file and "
                    f"{key}_FILE=/run/secrets/...",
                )


# --------------------------------------------------------------------------- the table


ERROR: Severity = "error"
WARNING: Severity = "warning"

RULES: tuple[Rule, ...] = (
    # references
    Rule("unknown-network", ERROR, "service joins an undeclared network",
         _each_stack(_unknown_networks)),
    Rule("unknown-volume", ERROR, "named volume mount of an undeclared volume",
         _each_stack(_unknown_volumes)),
    Rule("unknown-secret", ERROR, "service uses an undeclared secret",
         _each_stack(_unknown_secrets)),
    Rule("unknown-service", ERROR, "depends_on names a service not in the stack",
         _each_stack(_unknown_services)),
    Rule("dependency-cycle", ERROR, "services wait for each other",
         _each_stack(_dependency_cycles)),
    Rule("healthcheck-missing", ERROR, "service_healthy on a service without a health check",
         _each_stack(_healthy_without_healthcheck)),
    # addresses and networks
    Rule("invalid-address", ERROR, "ipv4_address/ipv6_address is not an address",
         _invalid_addresses),
    Rule("address-without-subnet", ERROR, "fixed address on a network without a subnet",
         _address_without_subnet),
    Rule("address-outside-subnet", ERROR, "fixed address outside its network's subnet",
         _address_outside_subnet),
    Rule("address-is-gateway", ERROR, "fixed address equal to the gateway",
         _address_is_gateway),
    Rule("duplicate-address", ERROR, "one fixed address twice on a network",
         _duplicate_addresses),
    Rule("invalid-ipam", ERROR, "ipam subnet/gateway/ip_range that does not add up",
         _each_stack(_invalid_ipam)),
    Rule("ipam-not-allowed", ERROR, "ipam on a host or none network",
         _each_stack(_ipam_on_host_network)),
    Rule("overlapping-subnets", ERROR, "subnets overlap across the stacks",
         _overlapping_subnets),
    Rule("duplicate-network", ERROR, "two networks create one Docker network",
         _duplicate_network_names),
    # host side
    Rule("duplicate-host-port", ERROR, "one host port published twice",
         _duplicate_host_ports),
    Rule("duplicate-container-name", ERROR, "two containers with one name",
         _duplicate_container_names),
    Rule("container-name-with-replicas", ERROR, "container_name with several replicas",
         _each_stack(_container_name_with_replicas)),
    Rule("invalid-name", ERROR, "container or volume name Docker refuses",
         _each_stack(_invalid_names)),
    Rule("invalid-extra-host", ERROR, "extra_hosts value not an IP or host-gateway",
         _each_stack(_invalid_extra_hosts)),
    Rule("invalid-dns", ERROR, "dns entry not an IP", _each_stack(_invalid_dns)),
    Rule("duplicate-stack", ERROR, "two stacks with one name", _duplicate_stack_names),
    Rule("missing-env-file", ERROR, "env_file does not exist", _each_stack(_missing_env_files)),
    Rule("bind-outside-stack", ERROR, "relative bind source outside the stack's folder",
         _each_stack(_binds_outside_stack)),
    # warnings
    Rule("docker-socket", WARNING, "Docker socket mounted", _each_stack(_docker_socket)),
    Rule("privileged", WARNING, "privileged container", _each_stack(_privileged)),
    Rule("exposed-database-port", WARNING, "database port on all interfaces",
         _each_stack(_exposed_database_ports)),
    Rule("unpinned-image", WARNING, "image without tag or :latest",
         _each_stack(_unpinned_images)),
    Rule("inline-secret", WARNING, "secret-looking plain environment value",
         _each_stack(_inline_secrets)),
)  # fmt: skip
"""Every rule, in the order its findings are reported; ``stack-cycle`` comes from order."""
