"""The rules' framework: what a rule is, what it finds, and where a finding points.

Each rule module (references, addresses, names, host, hygiene, swarm) imports only this
one; ``stackctl.rules`` puts their tables together.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from stackctl.errors import Diagnostic
from stackctl.model import Stack

Severity = Literal["error", "warning", "acknowledged"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ERROR: Severity = "error"
WARNING: Severity = "warning"
ACKNOWLEDGED: Severity = "acknowledged"  # a warning its service accepts (acknowledge.py)

ENGINES: tuple[str, ...] = ("docker", "swarm")
"""Every engine a run can use (``--engine``, or the stacks' own ``engine:``)."""

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
    """One validation rule: its id (``Diagnostic.code``), severity, check and engines."""

    code: str
    severity: Severity
    summary: str
    check: SetCheck
    engines: tuple[str, ...] = ENGINES
    """The engines the rule runs for: every one unless it says otherwise."""

    def runs_on(self, engine: str) -> bool:
        return engine in self.engines


def each_stack(check: StackCheck) -> SetCheck:
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
    source = stack.file_of(path)
    return Diagnostic(
        severity=severity,
        message=message,
        file=str(source) if source else None,
        line=_line(stack, path, item),
        path=path,
        hint=hint,
        code=code,
    )


# --------------------------------------------------------------------------- helpers


def item_path(base: str, keys: Iterable[str], key: str) -> str:
    """``base.N``: where ``key`` sits when the mapping was written as a list."""
    return f"{base}.{list(keys).index(key)}"


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def parse_net(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


ANY_HOST = {None, "0.0.0.0", "::"}
"""A port binding's host_ip that means every interface of the host."""
