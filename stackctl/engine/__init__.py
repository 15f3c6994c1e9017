"""Engines: the only code that calls a daemon. ``docker`` is one host's containers."""

from __future__ import annotations

from stackctl.engine.docker import DockerEngine

__all__ = ["DockerEngine", "connect"]


def connect(name: str = "docker") -> DockerEngine:
    """The engine for ``--engine NAME`` (raises DaemonUnavailableError if none answers)."""
    if name == "swarm":  # a swarm manager at DOCKER_HOST (or the default socket)
        from stackctl.engine.swarm import SwarmEngine

        return SwarmEngine()
    if name != "docker":
        from stackctl.errors import StackctlError

        raise StackctlError(f"unknown engine {name!r}", hint="use --engine docker or swarm")
    return DockerEngine()
