"""The docker backend: containers on one Docker host."""
