"""Engines: the only code that calls the docker SDK (``docker``: one host's containers,
networks, volumes and images; ``swarm``: services on a manager). The backends in
``stackctl/backends`` pick and drive them."""

from __future__ import annotations

from stackctl.engine.lazy import lazy_module

# The SDK imports paramiko (and through it invoke and cryptography) for ssh:// daemons
# only, a third of a command's start-up: it loads when an ssh:// daemon first uses it.
# Before any engine module imports the SDK.
lazy_module("paramiko")

from stackctl.engine.docker import DockerEngine  # noqa: E402

__all__ = ["DockerEngine"]
