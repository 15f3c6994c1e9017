"""Benchmark of stackctl against docker-compose and the Engine API floor (see README.md)."""
