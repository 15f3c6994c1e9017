"""Graph pictures: services, networks (shared across stacks by Docker name) and waits."""

from __future__ import annotations

import re

import pytest

from stackctl import Dependency, Healthcheck, Network, Service, Stack, completed, healthy, started
from stackctl.graph import build_graph, render_graph, to_dot, to_mermaid


def stacks() -> list[Stack]:
    traefik = Stack("traefik", services=[Service("traefik", image="traefik:v3.1")])
    matrix = Stack(
        "matrix",
        services=[
            Service(
                "postgres",
                image="postgres:16",
                healthcheck=Healthcheck.shell("pg_isready"),
                networks=["matrix"],
            ),
            Service("migrate", image="synapse:1", networks=["matrix"]),
            Service(
                "synapse",
                image="synapse:1",
                depends_on={
                    "postgres": healthy,
                    "migrate": completed,
                    "cache": Dependency(condition=started, required=False),
                },
                networks={"matrix": {"ipv4_address": "10.7.0.5"}, "traefik_default": None},
            ),
            Service("cache", image="redis:7", networks=["matrix"]),
        ],
        networks=[
            Network("matrix", ipam={"subnet": "10.7.0.0/24"}),
            Network("traefik_default", external=True),
            Network("dashboard", external=True),
        ],
    )
    return [traefik, matrix]


def _block(text: str, start: str, end: str) -> str:
    """The lines of ``text`` from the one starting with ``start`` to the next ``end``."""
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if line.strip().startswith(start))
    j = next(n for n in range(i + 1, len(lines)) if lines[n].strip() == end)
    return "\n".join(lines[i : j + 1])


def test_mermaid_has_one_subgraph_per_stack_with_its_services_and_networks() -> None:
    out = to_mermaid(stacks())
    assert out.startswith("flowchart LR\n")
    traefik = _block(out, "subgraph stack_traefik", "end")
    matrix = _block(out, "subgraph stack_matrix", "end")
    assert 'svc_traefik_traefik["traefik<br/>traefik:v3.1"]' in traefik
    # traefik_default is defined by traefik, so it is drawn there (once), not in matrix
    assert 'net_traefik_default{{"traefik_default"}}' in traefik
    assert out.count("net_traefik_default{{") == 1
    assert 'net_matrix_matrix{{"matrix_matrix<br/>10.7.0.0/24"}}' in matrix
    for name in ("postgres", "migrate", "synapse", "cache"):
        assert f"svc_matrix_{name}[" in matrix


def test_mermaid_edges_carry_conditions_and_addresses() -> None:
    out = to_mermaid(stacks())
    assert "svc_matrix_synapse -->|healthy| svc_matrix_postgres" in out
    assert "svc_matrix_synapse -->|completed| svc_matrix_migrate" in out
    assert "svc_matrix_synapse -->|started, optional| svc_matrix_cache" in out
    assert "svc_matrix_synapse -.-|10.7.0.5| net_matrix_matrix" in out
    # the cross-stack link: matrix's synapse joins traefik's network
    assert "svc_matrix_synapse -.- net_traefik_default" in out


def test_external_networks_nobody_defines_stand_outside_every_stack() -> None:
    out = to_mermaid(stacks())
    line = next(x for x in out.splitlines() if "net_dashboard" in x)
    assert line == '  net_dashboard{{"dashboard (external)"}}'


def test_dot_output() -> None:
    out = to_dot(stacks())
    assert out.startswith("digraph stackctl {\n") and out.rstrip().endswith("}")
    assert 'subgraph "cluster_traefik" {' in out
    assert 'label="stack matrix";' in out
    assert '"svc_matrix_synapse" -> "svc_matrix_postgres" [label="healthy"];' in out
    assert '"svc_matrix_synapse" -> "svc_matrix_migrate" [label="completed"];' in out
    assert (
        '"svc_matrix_synapse" -> "net_matrix_matrix" [label="10.7.0.5", dir=none, style=dashed];'
        in out
    )
    assert '"net_dashboard" [label="dashboard (external)", shape=hexagon, style=dashed];' in out
    assert '"net_matrix_matrix" [label="matrix_matrix\\n10.7.0.0/24", shape=hexagon];' in out
    assert out.count("{") == out.count("}")


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_every_edge_joins_declared_nodes(fmt: str) -> None:
    graph = build_graph(stacks())
    ids = {n.id for n in graph.nodes}
    assert len(ids) == len(graph.nodes)
    assert all(e.source in ids and e.target in ids for e in graph.edges)
    out = render_graph(stacks(), "dot" if fmt == "dot" else "mermaid")
    for node_id in ids:
        assert node_id in out


def test_odd_names_get_safe_unique_ids_and_escaped_labels() -> None:
    a = Stack("a-b", services=[Service("c", image="nginx:1")])
    b = Stack("a_b", services=[Service("c", image="nginx:1")])
    graph = build_graph([a, b])
    ids = [n.id for n in graph.nodes]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in ids)
    quoted = Stack(
        "q",
        services=[Service("web", image="nginx:1", networks=["n"])],
        networks=[Network("n", name='we"ird')],
    )
    assert "we#quot;ird" in to_mermaid([quoted])
    assert 'we\\"ird' in to_dot([quoted])
