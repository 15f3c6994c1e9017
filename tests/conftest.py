"""Shared fixtures. Integration tests use the real Docker engine (scripts/test.sh starts one)
and only ever touch resources of stacks they named themselves (prefix ``sct``)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import docker
import pytest

from stackctl.desired import LABEL_STACK
from stackctl.engine import DockerEngine

BUSYBOX = "stackctl-test/busybox:1"
DEBIAN = "stackctl-test/debian:bookworm"


def _client() -> docker.APIClient:
    return docker.APIClient(version="auto", **docker.utils.kwargs_from_env())


def cleanup(names: list[str]) -> None:
    """Remove every container, network and volume labelled with one of the stacks ``names``,
    or named with one of them as prefix (things the tests made by hand)."""
    client = _client()
    for c in client.containers(all=True):
        labels = c.get("Labels") or {}
        cname = (c.get("Names") or ["/"])[0].lstrip("/")
        if labels.get(LABEL_STACK) in names or any(cname.startswith(n) for n in names):
            with contextlib.suppress(docker.errors.APIError):
                client.remove_container(c["Id"], force=True, v=True)
    for n in client.networks():
        if (n.get("Labels") or {}).get(LABEL_STACK) in names or any(
            n["Name"].startswith(x) for x in names
        ):
            with contextlib.suppress(docker.errors.APIError):
                client.remove_network(n["Id"])
    for v in client.volumes().get("Volumes") or []:
        if (v.get("Labels") or {}).get(LABEL_STACK) in names or any(
            v["Name"].startswith(x) for x in names
        ):
            with contextlib.suppress(docker.errors.APIError):
                client.remove_volume(v["Name"], force=True)
    client.close()


@pytest.fixture
def stack_name() -> Iterator[str]:
    """A unique stack name; everything of that stack is removed afterwards, even on failure."""
    name = f"sct{uuid.uuid4().hex[:8]}"
    yield name
    cleanup([name])


@pytest.fixture
def stack_names() -> Iterator[list[str]]:
    """Several unique stack names (``stack_names[i]``), all cleaned up afterwards."""
    base = f"sct{uuid.uuid4().hex[:6]}"
    names = [f"{base}{chr(ord('a') + i)}" for i in range(6)]
    yield names
    cleanup(names)


@pytest.fixture
def engine() -> Iterator[DockerEngine]:
    eng = DockerEngine()
    yield eng
    eng.close()
