"""The engines stackctl deploys to, each an implementation of the backend seam
(:class:`stackctl.core.backend.Backend`), side by side:

docker/   containers on one Docker host
swarm/    services on a swarm manager (``--engine swarm``)

Each is imported only when chosen (start-up time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackctl.errors import StackctlError

if TYPE_CHECKING:
    from stackctl.core.backend import AnyBackend

NAMES = ("docker", "swarm")


def backend_named(name: str) -> AnyBackend:
    """The backend for ``--engine NAME``."""
    if name == "docker":
        from stackctl.backends.docker.backend import DockerBackend

        return DockerBackend()
    if name == "swarm":
        from stackctl.backends.swarm.backend import SwarmBackend

        return SwarmBackend()
    raise StackctlError(f"unknown engine {name!r}", hint="use --engine docker or swarm")
