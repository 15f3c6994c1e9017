"""Engines: the only code that calls the docker SDK (``docker``: one host's containers,
networks, volumes and images; ``swarm``: services on a manager). The backends in
``stackctl/backends`` pick and drive them."""

from __future__ import annotations

from stackctl.engine.docker import DockerEngine

__all__ = ["DockerEngine"]
