"""What Docker accepts at create and refuses at start (or refuses outright): caught here,
before apply writes anything, so a refusal never leaves a container behind.

nul-character, predefined-network.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from stackctl.model import Secret, Stack
from stackctl.rules.core import ERROR, Finding, Rule, each_stack

PREDEFINED = {"host", "none", "bridge"}
"""Docker's own networks: a container on one of them cannot have network-scoped aliases
(stackctl gives every container its service name as one) and, on ``host`` or ``none``,
cannot join any other network; Docker 20.10 creates such a container and refuses to
start it. ``network_mode: host`` (or ``none``, ``bridge``) is the way to use them."""


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string of a model tree, keys included, with the attribute path it sits at."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Secret):
        yield path, value.value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            sub = f"{path}.{key}"
            if isinstance(key, str):
                yield sub, key
            yield from _strings(item, sub)
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}.{i}")


def _nul_characters(stack: Stack) -> Iterator[Finding]:
    """A NUL character in any string: Docker stores it, then the kernel refuses it at start
    (an argument, an environment entry, a hostname, a path). The value is never shown: it
    may be a secret."""
    try:
        if "\\u0000" not in stack.model_dump_json():  # the quick look: JSON escapes a NUL
            return
    except ValueError:
        pass  # a value JSON cannot hold: look string by string
    for path, text in _strings(stack, ""):
        if "\x00" in text:
            yield Finding(
                stack,
                path.replace("\x00", "\\0"),
                "a NUL character (\\0) here: Docker cannot pass it to a container",
                "remove it (a NUL often comes from a file saved as UTF-16, or from a "
                "variable read from binary data)",
            )


def _predefined_networks(stack: Stack) -> Iterator[Finding]:
    """A service on ``host``, ``none`` or ``bridge`` (declared external, or by ``name:``),
    or a network of the stack that would be another ``host``/``none`` network."""
    for key, net in stack.networks.items():
        name = stack.network_name(key)
        if not net.external and (name in PREDEFINED or net.driver in ("host", "none")):
            own = name if name in PREDEFINED else net.driver
            what = f"named '{name}'" if name in PREDEFINED else f"with driver '{net.driver}'"
            yield Finding(
                stack,
                f"networks.{key}",
                f"network '{key}' {what} cannot be created: Docker has one '{own}' network "
                "of its own and refuses a second",
                f"for the host's (or no) network, set `network_mode: {own}` on the services "
                "instead of declaring such a network; otherwise use a user-defined network",
            )
    for svc in stack.services.values():
        for i, key in enumerate(svc.networks):
            joined = stack.networks.get(key)
            if joined is None or not joined.external:
                continue
            name = stack.network_name(key)
            if name in PREDEFINED:
                yield Finding(
                    stack,
                    f"services.{svc.name}.networks.{key}",
                    f"service '{svc.name}' joins Docker's predefined network '{name}', "
                    "where a container cannot answer to its service name (Docker refuses to "
                    "start it)",
                    f"use `network_mode: {name}` instead of `networks:` (the container then has "
                    "no service-name alias), or join a user-defined network (a bridge network "
                    "of the stack, or an external one made with `docker network create`)",
                    item=f"services.{svc.name}.networks.{i}",
                )


RULES: tuple[Rule, ...] = (
    Rule("nul-character", ERROR, "a NUL character in a string Docker passes on",
         each_stack(_nul_characters)),
    Rule("predefined-network", ERROR, "a service on Docker's host, none or bridge network",
         each_stack(_predefined_networks)),
)  # fmt: skip
