"""Stack order through external networks, and the networks nobody here defines."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackctl import Network, Service, Stack
from stackctl.errors import InvalidStackError
from stackctl.order import UnprovidedNetwork, find_stack_cycles, order_stacks, providers


def traefik() -> Stack:
    """Defines traefik_default (Compose's <project>_default)."""
    return Stack("traefik", services=[Service("traefik", image="traefik:v3.1")])


def matrix() -> Stack:
    """Joins traefik_default (from traefik) and matrix_network (made by hand)."""
    return Stack(
        "matrix",
        services=[
            Service(
                "synapse",
                image="matrixdotorg/synapse:v1.99.0",
                networks=["traefik_default", "matrix_network"],
            )
        ],
        networks=[
            Network("traefik_default", external=True),
            Network("matrix_network", external=True),
        ],
    )


def proxy() -> Stack:
    """Joins 'dashboard', which no stack here defines."""
    return Stack(
        "proxy",
        services=[Service("nginx", image="nginx:1.25", networks=["default", "dashboard"])],
        networks=[Network("default"), Network("dashboard", external=True)],
    )


def ext(stack: str, *names: str) -> Stack:
    """A stack that defines ``default`` and uses ``names`` as external networks."""
    nets = [Network("default"), *(Network(n, external=True) for n in names)]
    return Stack(
        stack,
        services=[Service("web", image="nginx:1.25", networks=[n.key for n in nets])],
        networks=nets,
    )


def test_user_of_an_external_network_comes_after_its_provider() -> None:
    order = order_stacks([matrix(), traefik(), proxy()])
    assert order.names.index("traefik") < order.names.index("matrix")
    assert order.needs == {"matrix": ("traefik",), "traefik": (), "proxy": ()}


def test_independent_stacks_keep_the_given_order() -> None:
    assert order_stacks([traefik(), matrix(), proxy()]).names == ["traefik", "matrix", "proxy"]
    assert order_stacks([proxy(), traefik()]).names == ["proxy", "traefik"]
    # matrix must wait for traefik; the rest stays as given
    assert order_stacks([matrix(), proxy(), traefik()]).names == ["proxy", "traefik", "matrix"]


def test_external_networks_nobody_defines_must_exist_already() -> None:
    order = order_stacks([matrix(), traefik(), proxy()])
    assert order.unprovided == (
        UnprovidedNetwork("matrix_network", ("matrix",)),
        UnprovidedNetwork("dashboard", ("proxy",)),
    )


def test_providers_map_docker_names_to_stacks() -> None:
    assert providers([matrix(), traefik(), proxy()]) == {
        "traefik_default": "traefik",
        "proxy_default": "proxy",
    }


def test_docker_names_are_compared_not_keys() -> None:
    edge = Stack(
        "edge",
        services=[Service("traefik", image="traefik:v3.1", networks=["public"])],
        networks=[Network("public", name="web")],
    )
    app = Stack(
        "app",
        services=[Service("api", image="nginx:1.25", networks=["front"])],
        networks=[Network("front", name="web", external=True)],
    )
    order = order_stacks([app, edge])
    assert order.names == ["edge", "app"]
    assert order.unprovided == ()
    assert providers([app, edge]) == {"web": "edge"}


def test_a_stack_using_its_own_network_as_external_does_not_wait_for_itself() -> None:
    s = ext("solo", "solo_default")
    assert order_stacks([s]).names == ["solo"]


def test_two_stacks_using_each_other_are_a_cycle() -> None:
    a = ext("a", "b_default").with_origin(Path("/srv/a/stack.yaml"), {"networks.b_default": 5})
    b = ext("b", "a_default")
    with pytest.raises(InvalidStackError) as info:
        order_stacks([a, b])
    [d] = info.value.diagnostics
    assert d.code == "stack-cycle"
    assert d.severity == "error"
    assert "a -> b -> a" in d.message
    assert "a uses network 'b_default' that b defines" in d.message
    assert (d.file, d.line, d.path) == ("/srv/a/stack.yaml", 5, "networks.b_default")
    assert d.hint


def test_three_stack_cycle_and_bystanders() -> None:
    stacks = [ext("a", "b_default"), ext("b", "c_default"), ext("c", "a_default"), traefik()]
    [d] = find_stack_cycles(stacks)
    assert "a -> b -> c -> a" in d.message


def test_no_cycle_no_diagnostics() -> None:
    assert find_stack_cycles([matrix(), traefik(), proxy()]) == []
