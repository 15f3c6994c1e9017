"""A build context as the daemon receives it: the files ``.dockerignore`` leaves, read with
the docker SDK's own rules (``docker.utils.build``), so that the digest a plan compares
covers exactly the files a build sends.

Imported only when a stack builds an image (the SDK costs start-up time).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import IO, Any

from docker.utils import build as sdk_build

from stackctl.core.labels import canonical_json, sha256


def ignore_patterns(context: Path) -> list[str]:
    """The ``.dockerignore`` patterns, read as ``APIClient.build`` reads them."""
    path = context / ".dockerignore"
    if not path.exists():
        return []
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def context_files(context: Path, dockerfile: str) -> list[str]:
    """The paths (files and folders, relative to ``context``) that a build sends: every
    one ``.dockerignore`` does not exclude, and the Dockerfile always."""
    return sorted(sdk_build.exclude_paths(str(context), ignore_patterns(context), dockerfile))


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def context_digest(context: Path, dockerfile: str) -> str:
    """A digest of what a build of ``context`` sends, but the Dockerfile (its own part):
    each path's kind, mode and content (a link's target); never mtimes or owners."""
    entries: list[Any] = []
    for rel in context_files(context, dockerfile):
        if rel == dockerfile:
            continue
        full = os.path.join(context, rel)
        st = os.lstat(full)
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            entries.append([rel, "link", os.readlink(full)])
        elif stat.S_ISDIR(st.st_mode):
            entries.append([rel, "dir", mode])
        elif stat.S_ISREG(st.st_mode):
            entries.append([rel, "file", mode, _file_digest(full)])
    return sha256(canonical_json(entries))


def context_tar(context: Path, dockerfile: str, dockerfile_text: str | None) -> IO[bytes]:
    """The build context as a tar (a temporary file), as ``APIClient.build`` makes it:
    ``dockerfile_text`` (an inline Dockerfile or one outside the context) is added to it
    under the name ``dockerfile``."""
    spec = (dockerfile, dockerfile_text)
    fileobj: IO[bytes] = sdk_build.tar(
        str(context), exclude=ignore_patterns(context), dockerfile=spec
    )
    return fileobj
