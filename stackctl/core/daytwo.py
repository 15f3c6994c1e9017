"""Day-two commands' shared types: logs, exec, one-off runs (the backend seam's inputs).

The commands choose services (``stackctl.targets``); each backend turns them into its units
(containers on one host) and streams through its engine. These are plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LogWindow:
    """Which lines: ``since``/``until`` in wall-clock seconds, ``tail`` per unit."""

    follow: bool = False
    since: float | None = None
    until: float | None = None
    tail: int | None = None


@dataclass(frozen=True)
class LogSource:
    """One unit's output: ``read(window)`` yields its lines, each with the daemon's
    RFC 3339 timestamp first."""

    service: str
    name: str
    read: Callable[[LogWindow], Iterator[str]]


@dataclass(frozen=True)
class ProcessOptions:
    """A command in a service's container (exec) or in a one-off one (run)."""

    command: list[str]
    tty: bool  # give the process a TTY (stdin a terminal and no -T)
    stdin: bool  # forward stdin
    user: str | None = None
    workdir: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OneOffOptions:
    """``stackctl run``: the one-off's own settings besides the process."""

    process: ProcessOptions
    service_ports: bool = False  # publish the service's ports (not by default, as Compose)
    remove: bool = True  # removed once it ends (--rm, the default)
    name: str | None = None  # the container's name (default <stack>-<service>-run-<id>)
