"""Apply progress: a live table on a terminal, plain lines when piped, JSON events for scripts."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from stackctl.core.plan import Operation
from stackctl.core.redact import redact_text
from stackctl.execute import ApplyResult
from stackctl.render import describe

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def summary_lines(result: ApplyResult, command: str = "apply") -> list[str]:
    """The closing lines; ``command`` (apply or destroy) is the one to run again."""
    title = command.capitalize()
    lines = []
    if result.failed:
        lines.append(f"{title} failed after {result.seconds:.1f}s.")
    elif result.interrupted:
        lines.append(f"{title} interrupted after {result.seconds:.1f}s.")
    else:
        lines.append(f"{title} complete in {result.seconds:.1f}s: {len(result.done)} done.")
    if result.failed or result.interrupted:
        lines.append(f"  done: {len(result.done)}")
        for op, error in result.failed:
            lines.append(f"  failed: {describe(op)}: {redact_text(error)}")
        if result.not_started:
            names = ", ".join(describe(op) for op in result.not_started[:10])
            more = len(result.not_started) - 10
            lines.append(
                f"  never started ({len(result.not_started)}): {names}"
                + (f" and {more} more" if more > 0 else "")
            )
        lines.append(
            f"Fix the cause and run {command} again: it continues from where this stopped."
        )
    return lines


class PlainReporter:
    """One line per event; for logs and pipes."""

    def __init__(self, out: TextIO | None = None, command: str = "apply") -> None:
        self.out = out or sys.stdout
        self.command = command
        self._lock = threading.Lock()
        self._last: dict[str, str] = {}

    def _line(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def started(self, op: Operation) -> None:
        self._line(f"{describe(op)}: started")

    def progress(self, op: Operation, text: str) -> None:
        # Waits report every round; a line per change of phase is enough when piped.
        phase = text.rstrip("0123456789s").rstrip()
        if self._last.get(op.id) != phase:
            self._last[op.id] = phase
            self._line(f"{describe(op)}: {text}")

    def done(self, op: Operation, seconds: float) -> None:
        self._line(f"{describe(op)}: done ({seconds:.1f}s)")

    def failed(self, op: Operation, error: str) -> None:
        self._line(f"{describe(op)}: FAILED: {redact_text(error)}")

    def finish(self, result: ApplyResult) -> None:
        for line in summary_lines(result, self.command):
            self._line(line)


class JsonReporter:
    """One JSON object per line: {"event": ..., "operation": id, ...}."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._lock = threading.Lock()

    def _emit(self, event: str, **data: Any) -> None:
        with self._lock:
            print(json.dumps({"event": event, "time": time.time(), **data}), file=self.out)
            self.out.flush()

    def started(self, op: Operation) -> None:
        self._emit("started", operation=op.id, kind=op.kind.value, resource=op.resource)

    def progress(self, op: Operation, text: str) -> None:
        self._emit("progress", operation=op.id, message=text)

    def done(self, op: Operation, seconds: float) -> None:
        self._emit("done", operation=op.id, seconds=round(seconds, 3))

    def failed(self, op: Operation, error: str) -> None:
        self._emit("failed", operation=op.id, error=redact_text(error))

    def finish(self, result: ApplyResult) -> None:
        self._emit(
            "finished",
            ok=result.ok,
            seconds=round(result.seconds, 3),
            done=[op.id for op in result.done],
            failed=[{"operation": op.id, "error": redact_text(e)} for op, e in result.failed],
            not_started=[op.id for op in result.not_started],
            interrupted=result.interrupted,
        )


class LiveReporter:
    """A table of every operation and its live state, redrawn in place."""

    def __init__(self, console: Console, command: str = "apply") -> None:
        from rich.live import Live  # only on a terminal: piped runs never load rich

        self.console = console
        self.command = command
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[str, str]] = {}
        self._live = Live(self._table(), console=console, refresh_per_second=8, transient=False)
        self._live.start()

    def _table(self) -> Table:
        from rich.table import Table

        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column("operation")
        table.add_column("state")
        for name, (state, style) in self._rows.items():
            table.add_row(name, f"[{style}]{state}[/]")
        return table

    def _set(self, op: Operation, state: str, style: str) -> None:
        with self._lock:
            self._rows[describe(op)] = (state, style)
            self._live.update(self._table())

    def started(self, op: Operation) -> None:
        self._set(op, "started", "cyan")

    def progress(self, op: Operation, text: str) -> None:
        self._set(op, text, "cyan")

    def done(self, op: Operation, seconds: float) -> None:
        self._set(op, f"done ({seconds:.1f}s)", "green")

    def failed(self, op: Operation, error: str) -> None:
        self._set(op, f"failed: {redact_text(error).splitlines()[0]}", "red")

    def finish(self, result: ApplyResult) -> None:
        self._live.stop()
        for line in summary_lines(result, self.command):
            self.console.print(line, highlight=False, soft_wrap=True)
