"""Addresses, subnets and ports: fixed addresses that do not fit their network, ipam
that does not add up, subnets that overlap, one Docker network or host port claimed twice.

invalid-address, address-without-subnet, address-outside-subnet, address-is-gateway,
duplicate-address, invalid-ipam, ipam-not-allowed, overlapping-subnets, duplicate-network,
duplicate-host-port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from stackctl.model import Network, Service, Stack
from stackctl.rules.core import (
    ANY_HOST,
    ERROR,
    Finding,
    IPAddress,
    IPNetwork,
    Rule,
    each_stack,
    parse_ip,
    parse_net,
    where,
)


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
        subnet = parse_net(pool.subnet) if pool.subnet else None
        if subnet is None:
            continue
        given = parse_ip(pool.gateway) if pool.gateway else None
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
        ip = parse_ip(a.text)
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
        ip = parse_ip(a.text)
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
        ip = parse_ip(a.text)
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
        subnet = parse_net(pool.subnet)
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
        ip = parse_ip(text)
        if ip is None:
            yield path, f"{what} {text!r} is not an IP address", None
        elif ip.version != subnet.version or ip not in subnet:
            yield path, f"{what} {text} is outside the subnet {subnet}", None
    if ip_range:
        rng = parse_net(ip_range)
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


# --------------------------------------------------------------------------- host ports


def _port_label(host_ip: str | None, published: int, protocol: str) -> str:
    host = f"{host_ip}:" if host_ip else ""
    return f"host port {host}{published}/{protocol}"


@dataclass(frozen=True)
class _Binding:
    stack: Stack
    service: Service
    path: str


def _duplicate_host_ports(stacks: Sequence[Stack]) -> Iterator[Finding]:
    """One host port published twice, across all stacks (or by several replicas).

    Linear in the number of published ports (a range such as ``1-65535:1-65535`` is 65535
    of them): per (port, protocol), the first binding on all interfaces and the first on
    each address are kept, and a binding clashes with the one it overlaps. A clash between
    two services is reported once, at its first port, with how many more ports clash.
    """
    any_host: dict[tuple[int, str], _Binding] = {}
    by_ip: dict[tuple[int, str], dict[str, _Binding]] = {}
    clashes: dict[tuple[int, int], tuple[Finding, int]] = {}
    replicas_told: set[int] = set()
    for stack in stacks:
        for svc in stack.services.values():
            for i, port in enumerate(svc.ports):
                if not port.published:
                    continue
                path = f"services.{svc.name}.ports.{i}"
                label = _port_label(port.host_ip, port.published, port.protocol)
                swarm = (svc.engine or stack.engine) == "swarm"
                if svc.replica_count > 1 and not swarm and id(svc) not in replicas_told:
                    replicas_told.add(id(svc))
                    yield Finding(
                        stack,
                        path,
                        f"service '{svc.name}' has {svc.replica_count} replicas, which cannot "
                        f"all publish {label}",
                        "run one replica, or publish only the container port and let "
                        "Docker pick host ports",
                    )
                key = (port.published, port.protocol)
                here = _Binding(stack, svc, path)
                ips = by_ip.setdefault(key, {})
                if port.host_ip in ANY_HOST:
                    other = any_host.get(key) or next(iter(ips.values()), None)
                    any_host.setdefault(key, here)
                else:
                    ip = parse_ip(port.host_ip or "")
                    ip_key = str(ip) if ip is not None else str(port.host_ip)
                    other = any_host.get(key) or ips.get(ip_key)
                    ips.setdefault(ip_key, here)
                if other is None:
                    continue
                pair = (id(svc), id(other.service))
                if pair in clashes:
                    first, more = clashes[pair]
                    clashes[pair] = (first, more + 1)
                    continue
                clashes[pair] = (
                    Finding(
                        stack,
                        path,
                        f"{label} is already published by service '{other.service.name}' of "
                        f"stack '{other.stack.name}' ({where(other.stack, other.path)})",
                        "publish another host port, or bind each to a different host_ip",
                    ),
                    0,
                )
    for first, more in clashes.values():
        if more:
            s = "s" if more > 1 else ""
            first = Finding(
                first.stack,
                first.path,
                f"{first.message}; and {more} more port{s} of the same service",
                first.hint,
            )
        yield first


RULES: tuple[Rule, ...] = (
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
         each_stack(_invalid_ipam)),
    Rule("ipam-not-allowed", ERROR, "ipam on a host or none network",
         each_stack(_ipam_on_host_network)),
    Rule("overlapping-subnets", ERROR, "subnets overlap across the stacks",
         _overlapping_subnets),
    Rule("duplicate-network", ERROR, "two networks create one Docker network",
         _duplicate_network_names),
    Rule("duplicate-host-port", ERROR, "one host port published twice",
         _duplicate_host_ports),
)  # fmt: skip
