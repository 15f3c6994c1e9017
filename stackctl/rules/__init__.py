"""Semantic validation of loaded stacks: every finding at once, each with where and what to do.

The model already rejects what one field can get wrong on its own (a malformed duration,
port or image reference). The rules here look across fields, services and stacks:
references that lead nowhere, dependency cycles, addresses outside their subnet, a host
port published twice, risky settings, fields an engine cannot honour. Each rule is a
small function in the ``RULES`` table; its id is the ``code`` of the diagnostics it
gives, and its ``engines`` say which engines it runs for (every one unless it says so).

    engine, conflicts = resolve_engine(requested, stacks)
    diagnostics = validate(stacks, engine=engine)
    if has_errors(diagnostics): ...

core.py        Finding, Rule, where a finding points (file:line), shared helpers
references.py  unknown network/volume/secret/service, dependency cycles, healthcheck-missing
addresses.py   fixed addresses, ipam, subnets, duplicate networks, host ports
names.py       container, volume and stack names; extra_hosts, dns
host.py        env files, binds outside the stack, docker socket, privileged, database ports
hygiene.py     unpinned images, inline secrets (warnings)
refused.py     what Docker refuses at start: NUL characters, its predefined networks
modes.py       network_mode, links, service-level limits: what Compose or Docker refuse
swarm.py       what Swarm cannot honour (``engines=("swarm",)``)
engine.py      resolve_engine: the run's engine from ``--engine`` and the stacks
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stackctl.errors import Diagnostic
from stackctl.model import Stack
from stackctl.order import find_stack_cycles
from stackctl.rules import addresses, host, hygiene, modes, names, references, refused, swarm
from stackctl.rules.acknowledge import acknowledgement, misplaced
from stackctl.rules.core import (
    ACKNOWLEDGED,
    ENGINES,
    ERROR,
    WARNING,
    Finding,
    Rule,
    Severity,
    diagnostic,
    where,
)
from stackctl.rules.engine import resolve_engine
from stackctl.rules.hygiene import looks_like_inline_secret

__all__ = [
    "ACKNOWLEDGED",
    "ENGINES",
    "ERROR",
    "RULES",
    "WARNING",
    "Finding",
    "Rule",
    "Severity",
    "diagnostic",
    "has_errors",
    "looks_like_inline_secret",
    "resolve_engine",
    "run_rules",
    "validate",
    "where",
]

RULES: tuple[Rule, ...] = (
    *references.RULES,
    *addresses.RULES,
    *names.RULES,
    *host.RULES,
    *hygiene.RULES,
    *refused.RULES,
    *modes.RULES,
    *swarm.RULES,
)
"""Every rule, in the order its findings are reported; ``stack-cycle`` comes from order."""


def _findings(stacks: Sequence[Stack], rules: Iterable[Rule]) -> list[Diagnostic]:
    """Every finding of ``rules``; a warning its service acknowledges is ``acknowledged``,
    with the reason; acknowledgements that accept nothing are reported too."""
    found: list[Diagnostic] = []
    used: set[tuple[str, str, str]] = set()
    rules = list(rules)
    for rule in rules:
        for f in rule.check(stacks):
            severity: Severity = rule.severity
            message, hint = f.message, f.hint
            ack = acknowledgement(f.stack, rule, f)
            if ack is not None:
                used.add((f.stack.name, f.path.split(".")[1], rule.code))
                severity, message, hint = ACKNOWLEDGED, f"{message}; accepted: {ack.reason}", None
            found.append(diagnostic(f.stack, severity, rule.code, f.path, message, hint, f.item))
    for severity, f in misplaced(stacks, RULES, rules, used):
        found.append(diagnostic(f.stack, severity, "acknowledge", f.path, f.message, f.hint))
    return found


def _in_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.file or "", d.line or 0))


def run_rules(stacks: Sequence[Stack], rules: Iterable[Rule]) -> list[Diagnostic]:
    """The diagnostics of exactly ``rules`` (whatever their engines), in file and line order."""
    return _in_order(_findings(stacks, rules))


def validate(
    stacks: Sequence[Stack], *, engine: str = "docker", rules: Sequence[Rule] | None = None
) -> list[Diagnostic]:
    """Every error and warning about a set of stacks loaded together, for one engine, in
    file and line order: the rules (``RULES`` unless given) that run on ``engine``, and
    cycles of stacks through external networks."""
    chosen = [r for r in (RULES if rules is None else rules) if r.runs_on(engine)]
    return _in_order([*_findings(stacks, chosen), *find_stack_cycles(stacks)])


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when any diagnostic is an error (warnings never stop anything)."""
    return any(d.severity == "error" for d in diagnostics)
