"""One rooted exception tree. The CLI maps these to one clear message and an exit code.

Exit codes (documented in the README):
    0  success (for ``plan --detailed-exitcode``: no changes)
    1  an error: invalid stack, plan error, failed apply, daemon unreachable
    2  ``plan --detailed-exitcode`` only: the plan has changes
    3  ``export``: the stack holds something a compose file cannot (``ExportRefusedError``)
    130 interrupted (Ctrl-C)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stackctl.core.redact import redact_path


class StackctlError(Exception):
    """Base of every error stackctl reports to a person (never a traceback)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a stack: what, where (file:line or attribute path) and what to do."""

    severity: str  # "error" | "warning" | "acknowledged" (a warning its service accepts)
    message: str
    file: str | None = None
    line: int | None = None
    path: str | None = None  # attribute path, e.g. services.postgres.healthcheck.interval
    hint: str | None = None
    code: str = "invalid"

    @property
    def where(self) -> str:
        loc = ""
        if self.file:
            loc = self.file + (f":{self.line}" if self.line else "")
        if self.path:
            path = redact_path(self.path)  # a key in the path may be a (short) secret value
            loc = f"{loc}: {path}" if loc else path
        return loc

    def format(self) -> str:
        head = f"{self.severity}: "
        if self.where:
            head += f"{self.where}: "
        text = head + self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InvalidStackError(StackctlError):
    """A stack failed to load or validate; carries every diagnostic, not only the first.

    ``partial``: stacks that loaded all the same (a stack file without a name), for the
    rules to check, so that one missing field hides no other finding."""

    def __init__(self, diagnostics: Sequence[Diagnostic], partial: Sequence[Any] = ()) -> None:
        self.diagnostics = list(diagnostics)
        self.partial = list(partial)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        super().__init__("\n".join(d.format() for d in self.diagnostics) or "invalid stack")
        self.error_count = len(errors)


class LoadError(StackctlError):
    """A path could not be read as a stack at all."""


class DaemonUnavailableError(StackctlError):
    """No Docker daemon answered."""


class DaemonError(StackctlError):
    """The daemon refused an operation; message carries the daemon's own words."""


class PlanError(StackctlError):
    """The desired state cannot be reached from what the daemon holds (clash, missing external)."""

    def __init__(self, problems: Sequence[str], hint: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems), hint)


class ExportRefusedError(StackctlError):
    """``export``: the stack holds something a compose file (docker-compose 1.29) cannot."""

    exit_code = 3


class StalePlanError(StackctlError):
    """A saved plan no longer matches what the daemon holds."""


class ApplyError(StackctlError):
    """An apply stopped after a failed operation."""


class LockedError(StackctlError):
    """Another stackctl process holds the stack."""


class WaitError(StackctlError):
    """A dependency condition was not met in time, or failed."""


class WaitCancelled(WaitError):
    """A wait given up because apply is stopping (another failure, or Ctrl-C)."""


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    """A 'did you mean ...?' hint for a misspelt name, or None."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
