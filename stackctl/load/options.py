"""What the command line adds to loading: ``-f`` files and ``--profile`` names."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadOptions:
    """``files``: compose files of one stack, merged in order (``-f``/``--file``).
    ``profiles``: the profiles to enable (``--profile``); empty: ``COMPOSE_PROFILES``."""

    files: tuple[Path, ...] = ()
    profiles: tuple[str, ...] = ()


def compose_file_env(
    folder: Path, environ: Mapping[str, str] | None = None
) -> tuple[Path, ...] | None:
    """``COMPOSE_FILE`` (process environment, then ``folder/.env``) as paths, or None.

    Entries are split on ``COMPOSE_PATH_SEPARATOR`` (default ``os.pathsep``), relative to
    ``folder``, as ``docker compose`` reads them when no ``-f`` is given.
    """
    from stackctl.core.dotenv import variables_for

    variables, _ = variables_for(folder, dict(os.environ) if environ is None else environ)
    value = variables.lookup("COMPOSE_FILE")
    if not value:
        return None
    sep = variables.lookup("COMPOSE_PATH_SEPARATOR") or os.pathsep
    return tuple(folder / p for p in value.split(sep) if p)
