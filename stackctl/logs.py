"""``stackctl logs``: the lines of several containers merged by time, one prefix (and on a
terminal one colour) per service. Pure but for the reads the sources make and the output
stream it writes to."""

from __future__ import annotations

import heapq
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TextIO

from stackctl import units
from stackctl.core.daytwo import LogSource, LogWindow

# ANSI colours, one per service in turn (as docker compose cycles them).
COLOURS = ("36", "33", "32", "35", "34", "31", "96", "93", "92", "95", "94", "91")
RESET = "\x1b[0m"


def parse_since(text: str, now: float) -> float:
    """``--since``: a duration before ``now`` (``10m``, ``1h30m``), an RFC 3339 time
    (``2026-12-03T16:00:00Z``) or Unix seconds; wall-clock seconds. ValueError for people."""
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return now - units.parse_duration(value) / 1e9
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {text!r}: use a duration (10m, 1h30m), a time "
            "(2026-12-03T16:00:00Z) or Unix seconds"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.astimezone()  # local time, as docker logs reads it
    return stamp.timestamp()


def parse_tail(text: str) -> int | None:
    """``--tail``: a number of lines per container, or ``all``."""
    if text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"--tail {text!r}: a number of lines, or all") from None
    if value < 0:
        raise ValueError(f"--tail {text!r}: a number of lines (0 or more), or all")
    return value


def labels(sources: Sequence[LogSource]) -> list[str]:
    """Each source's prefix: its service, or its container's name when the service has
    several containers."""
    count: dict[str, int] = {}
    for s in sources:
        count[s.service] = count.get(s.service, 0) + 1
    return [s.service if count[s.service] == 1 else s.name for s in sources]


class Printer:
    """Writes ``label | line`` (the timestamp kept or dropped), coloured when asked."""

    def __init__(
        self, out: TextIO, names: Sequence[str], *, colour: bool, timestamps: bool
    ) -> None:
        self.out = out
        self.width = max((len(n) for n in names), default=0)
        services = list(dict.fromkeys(n for n in names))
        self.colours = {n: COLOURS[i % len(COLOURS)] for i, n in enumerate(services)}
        self.colour = colour
        self.timestamps = timestamps

    def line(self, name: str, raw: str) -> None:
        stamp, _, text = raw.partition(" ")
        prefix = f"{name:<{self.width}} |"
        if self.colour:
            prefix = f"\x1b[{self.colours[name]}m{prefix}{RESET}"
        shown = f"{stamp} {text}" if self.timestamps else text
        self.out.write(f"{prefix} {shown}\n")


def merged(streams: Iterable[tuple[str, Iterator[str]]]) -> Iterator[tuple[str, str]]:
    """Lines of finished streams, merged by their timestamps (each stream is in order;
    Docker's RFC 3339 stamps have a fixed width, so text order is time order)."""
    keyed = [_named(name, lines) for name, lines in streams]
    for line, name in heapq.merge(*keyed, key=lambda pair: pair[0].partition(" ")[0]):
        yield name, line


def _named(name: str, lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    for line in lines:
        yield line, name


def show(
    sources: Sequence[LogSource],
    window: LogWindow,
    printer: Printer,
    *,
    now: float | None = None,
) -> None:
    """Print the sources' lines merged by time; with ``window.follow``, the lines up to now
    merged, then new lines as they come, until Ctrl-C (KeyboardInterrupt)."""
    names = labels(sources)
    until = (now if now is not None else time.time()) if window.follow else window.until
    backlog = LogWindow(follow=False, since=window.since, until=until, tail=window.tail)
    streams = [(name, s.read(backlog)) for name, s in zip(names, sources, strict=True)]
    for name, line in merged(streams):
        printer.line(name, line)
    printer.out.flush()
    if not window.follow:
        return
    _follow(sources, names, LogWindow(follow=True, since=until), printer)


def _follow(
    sources: Sequence[LogSource], names: Sequence[str], window: LogWindow, printer: Printer
) -> None:
    """New lines of every source as they come (one reading thread each)."""
    lines: queue.Queue[tuple[str, str] | BaseException | None] = queue.Queue()

    def read(name: str, source: LogSource) -> None:
        try:
            for line in source.read(window):
                lines.put((name, line))
        except BaseException as e:  # reported by the printing thread
            lines.put(e)
            return
        lines.put(None)

    for name, source in zip(names, sources, strict=True):
        threading.Thread(target=read, args=(name, source), daemon=True).start()
    ended = 0
    while ended < len(sources):
        item = lines.get()
        if item is None:
            ended += 1
            continue
        if isinstance(item, BaseException):
            raise item
        printer.line(*item)
        printer.out.flush()
