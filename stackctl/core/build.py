"""Images built from a folder (or a remote context): what to build, and whether the image on
the daemon is it.

A build is desired by the docker backend (``backends/docker/desired.py``) with digests of
its parts: the build context's files (as ``.dockerignore`` leaves them, listed by the
engine's own rules), the Dockerfile, the build arguments (a keyed digest: they may hold
secrets) and the other options. The digests are stored in labels of the image built, so
a later plan compares them without building anything (:func:`changed_parts`).

A remote context (a Git or HTTP(S) URL, :attr:`DesiredBuild.remote`) is fetched by the
daemon, so there are no files to digest here: its ``context`` part is the digest of the URL
and its ``dockerfile`` part that of the Dockerfile's path in it. It is built again when the
URL or an option changes, not when the repository moves under an unpinned ref (as Compose
builds only a missing image): pin ``#<commit or tag>``, or set ``pull_policy: build``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from stackctl.core.labels import canonical_json, sha256

LABEL_BUILD = "io.stackctl.build"  # on a built image: the digests of its parts (JSON)
LABEL_BUILD_HASH = "io.stackctl.build-hash"  # on a built image: one digest of them all

PARTS = ("context", "dockerfile", "args", "options")
"""What a build's digest is made of, in the words of a plan's reason."""


@dataclass(frozen=True)
class DesiredBuild:
    """One image to build: where from, how, and the digests that say it is up to date."""

    image: str  # the reference it is tagged with, e.g. "media-app:latest"
    stack: str
    services: tuple[str, ...]  # the services that run it
    context: str  # absolute folder; "" for a remote context
    dockerfile: str  # path in the context ("Dockerfile"), or the name an inline one gets
    dockerfile_text: str | None  # the Dockerfile itself when it is not a file of the context
    args: dict[str, str] = field(repr=False)  # real values: for the build only
    target: str | None
    labels: dict[str, str]  # every label the image gets, stackctl's included
    no_cache: bool
    pull: bool
    network: str | None
    shm_size: int | None
    extra_hosts: dict[str, str]
    cache_from: tuple[str, ...]
    always: bool  # pull_policy: build
    digests: dict[str, str]  # part -> digest (PARTS)
    remote: str | None = None  # a remote context's URL (Git or HTTP): the daemon fetches it

    @property
    def digest(self) -> str:
        return build_hash(self.digests)


def build_hash(digests: Mapping[str, str]) -> str:
    return sha256(canonical_json(dict(digests)))


def parts_from_labels(labels: Mapping[str, str]) -> dict[str, str] | None:
    """The part digests an image was built with (None: not built by stackctl)."""
    raw = labels.get(LABEL_BUILD)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return {str(k): v for k, v in data.items()}


def changed_parts(built: Mapping[str, str] | None, wanted: Mapping[str, str]) -> list[str]:
    """The parts whose digests differ (all of them when ``built`` is unknown)."""
    if built is None:
        return list(PARTS)
    return [p for p in PARTS if built.get(p) != wanted.get(p)]
