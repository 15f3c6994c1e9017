"""Swarm's rules (``validate.py``); the swarm backend itself is ``stackctl/backends/swarm``."""
