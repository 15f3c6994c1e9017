"""Pictures of stacks: services, the networks they join and what they wait for.

One subgraph per stack; a network sits in the stack that creates it (networks are
matched by Docker name, so ``traefik_default`` defined by one stack and used external by
another is one node); external networks no stack defines stand outside every stack.
A dependency edge goes from the waiting service to the one it waits for, labelled with
the condition (``healthy``, ``started``, ``completed``).

    print(to_mermaid(stacks))   # a Mermaid flowchart
    print(to_dot(stacks))       # Graphviz DOT
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from stackctl.model import Dependency, Stack

GraphFormat = Literal["mermaid", "dot"]
FORMATS: tuple[GraphFormat, ...] = ("mermaid", "dot")


@dataclass(frozen=True)
class Node:
    """A service or a network; ``group`` is the stack it is drawn in (None: outside)."""

    id: str
    kind: Literal["service", "network"]
    lines: tuple[str, ...]
    group: str | None
    external: bool = False


@dataclass(frozen=True)
class Edge:
    """``depends``: source waits for target; ``network``: source service joins target."""

    source: str
    target: str
    kind: Literal["depends", "network"]
    label: str = ""


@dataclass(frozen=True)
class Graph:
    """Nodes, edges and the stacks (subgraphs) of a picture, in a stable order."""

    groups: tuple[str, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


@dataclass
class _Ids:
    """Readable, unique node ids (``svc_matrix_synapse``, ``net_traefik_default``)."""

    used: set[str] = field(default_factory=set)

    def make(self, *parts: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}_{n}", n + 1
        self.used.add(candidate)
        return candidate


def _condition_label(dep: Dependency) -> str:
    label = dep.condition.short
    return label if dep.required else f"{label}, optional"


def _network_nodes(stacks: Sequence[Stack], ids: _Ids) -> tuple[list[Node], dict[str, str]]:
    """One node per Docker network; returns the nodes and Docker name -> node id."""
    nodes: list[Node] = []
    by_name: dict[str, str] = {}
    for external_pass in (False, True):  # a defining stack wins over external users
        for stack in stacks:
            for key, net in stack.networks.items():
                name = stack.network_name(key)
                if net.external != external_pass or name in by_name:
                    continue
                by_name[name] = ids.make("net", name)
                lines = (f"{name} (external)",) if net.external else (name, *net.subnets)
                group = None if net.external else stack.name
                nodes.append(Node(by_name[name], "network", lines, group, net.external))
    return nodes, by_name


def build_graph(stacks: Sequence[Stack]) -> Graph:
    """The picture's content, independent of the output format."""
    ids = _Ids()
    nodes, networks = _network_nodes(stacks, ids)
    edges: list[Edge] = []
    for stack in stacks:
        services = {name: ids.make("svc", stack.name, name) for name in stack.services}
        for name, svc in stack.services.items():
            image = svc.image or stack.image_name(svc)
            nodes.append(Node(services[name], "service", (name, image), stack.name))
            for dep, how in svc.depends_on.items():
                if dep in services:
                    edges.append(
                        Edge(services[name], services[dep], "depends", _condition_label(how))
                    )
            for key, joined in svc.networks.items():
                if key in stack.networks:
                    target = networks[stack.network_name(key)]
                    edges.append(Edge(services[name], target, "network", joined.ipv4_address or ""))
    groups = tuple(dict.fromkeys(s.name for s in stacks))
    return Graph(groups, tuple(nodes), tuple(edges))


# --------------------------------------------------------------------------- mermaid


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def _mermaid_node(node: Node) -> str:
    label = "<br/>".join(_mermaid_text(line) for line in node.lines)
    if node.kind == "network":
        return f'{node.id}{{{{"{label}"}}}}'
    return f'{node.id}["{label}"]'


def _mermaid_edge(edge: Edge) -> str:
    arrow = "-->" if edge.kind == "depends" else "-.-"
    label = f"|{_mermaid_text(edge.label).replace('|', '#124;')}|" if edge.label else ""
    return f"{edge.source} {arrow}{label} {edge.target}"


def to_mermaid(stacks: Sequence[Stack]) -> str:
    """A Mermaid flowchart: one subgraph per stack, networks as hexagons."""
    graph = build_graph(stacks)
    out = ["flowchart LR"]
    for group in graph.groups:
        out.append(f'  subgraph {_stack_id(group)}["stack {_mermaid_text(group)}"]')
        out.extend(f"    {_mermaid_node(n)}" for n in graph.nodes if n.group == group)
        out.append("  end")
    out.extend(f"  {_mermaid_node(n)}" for n in graph.nodes if n.group is None)
    out.extend(f"  {_mermaid_edge(e)}" for e in graph.edges)
    return "\n".join(out) + "\n"


def _stack_id(name: str) -> str:
    return "stack_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


# --------------------------------------------------------------------------- dot


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_node(node: Node) -> str:
    label = "\\n".join(_dot_text(line) for line in node.lines)
    attrs = [f'label="{label}"']
    if node.kind == "network":
        attrs.append("shape=hexagon")
        if node.external:
            attrs.append("style=dashed")
    else:
        attrs.append("shape=box")
    return f'"{node.id}" [{", ".join(attrs)}];'


def _dot_edge(edge: Edge) -> str:
    attrs = [f'label="{_dot_text(edge.label)}"'] if edge.label else []
    if edge.kind == "network":
        attrs += ["dir=none", "style=dashed"]
    suffix = f" [{', '.join(attrs)}]" if attrs else ""
    return f'"{edge.source}" -> "{edge.target}"{suffix};'


def to_dot(stacks: Sequence[Stack]) -> str:
    """A Graphviz digraph: one ``cluster_`` subgraph per stack, networks as hexagons."""
    graph = build_graph(stacks)
    out = ["digraph stackctl {", "  rankdir=LR;"]
    for group in graph.groups:
        out.append(f'  subgraph "cluster_{_dot_text(group)}" {{')
        out.append(f'    label="stack {_dot_text(group)}";')
        out.extend(f"    {_dot_node(n)}" for n in graph.nodes if n.group == group)
        out.append("  }")
    out.extend(f"  {_dot_node(n)}" for n in graph.nodes if n.group is None)
    out.extend(f"  {_dot_edge(e)}" for e in graph.edges)
    out.append("}")
    return "\n".join(out) + "\n"


def render_graph(stacks: Sequence[Stack], fmt: GraphFormat = "mermaid") -> str:
    """The graph in ``fmt`` (``mermaid`` or ``dot``)."""
    return to_dot(stacks) if fmt == "dot" else to_mermaid(stacks)
