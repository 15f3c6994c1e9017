"""Warnings a stack accepts on purpose: ``Service(acknowledge=[Acknowledge(rule, reason)])``.

A finding of that rule about that service stays in the report, as ``acknowledged`` with
the reason, instead of a warning (``--strict`` passes). Only warnings can be accepted: an
acknowledgement of an error rule, of a rule that does not exist, or of a rule that no
longer finds anything about the service is itself reported, so none outlives its cause.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from stackctl.model import Acknowledge, Stack
from stackctl.rules.core import ERROR, WARNING, Finding, Rule, Severity


def service_of(path: str) -> str | None:
    """The service an attribute path is about: ``services.web.volumes.0`` -> ``web``."""
    parts = path.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "services" else None


def acknowledgement(stack: Stack, rule: Rule, finding: Finding) -> Acknowledge | None:
    """The acknowledgement that accepts this finding of ``rule``, if any."""
    name = service_of(finding.path)
    if rule.severity != WARNING or name is None or name not in stack.services:
        return None
    for ack in stack.services[name].acknowledge:
        if ack.rule == rule.code:
            return ack
    return None


def misplaced(
    stacks: Sequence[Stack],
    rules: Iterable[Rule],
    ran: Iterable[Rule],
    used: set[tuple[str, str, str]],
) -> Iterator[tuple[Severity, Finding]]:
    """(severity, finding) for each acknowledgement that accepts nothing: an unknown rule
    or an error rule (errors), or a rule that ran and found nothing there (a warning).
    ``used`` holds (stack, service, rule) of the acknowledgements that matched."""
    by_code = {r.code: r for r in rules}
    ran_codes = {r.code for r in ran}
    for stack in stacks:
        for svc in stack.services.values():
            for i, ack in enumerate(svc.acknowledge):
                path = f"services.{svc.name}.acknowledge.{i}"
                rule = by_code.get(ack.rule)
                if rule is None:
                    yield (
                        ERROR,
                        Finding(
                            stack,
                            path,
                            f"service '{svc.name}' acknowledges '{ack.rule}', which is no rule",
                            "use a rule id as validate prints it (e.g. docker-socket)",
                        ),
                    )
                elif rule.severity != WARNING:
                    yield (
                        ERROR,
                        Finding(
                            stack,
                            path,
                            f"service '{svc.name}' acknowledges '{ack.rule}', an error: only "
                            "warnings can be accepted",
                            "fix what the error says instead",
                        ),
                    )
                elif ack.rule in ran_codes and (stack.name, svc.name, ack.rule) not in used:
                    yield (
                        WARNING,
                        Finding(
                            stack,
                            path,
                            f"service '{svc.name}' acknowledges '{ack.rule}', but that rule "
                            "finds nothing about it",
                            "remove the acknowledgement",
                        ),
                    )
