"""Write a Stack in the stack YAML format (the model's own shape, defaults left out).

``to_stack_yaml(stack)`` loads back to an equal Stack: strings have ``$`` escaped as ``$$``
(loading interpolates), ports and mounts use the short form (``"8080:80"``,
``"./data:/data:ro"``) only where it reads back identically, and strings a YAML 1.2 reader
would take for numbers or booleans are quoted.
"""

from __future__ import annotations

from typing import Any

import yaml

from stackctl.core.interpolate import escape
from stackctl.load.yamldoc import resolve_plain
from stackctl.model import Mount, Network, Port, Service, Stack
from stackctl.model.service import parse_mount_short, parse_port_short
from stackctl.schema import SCHEMA_URL


def port_short(port: Port) -> str | None:
    """``Port`` as ``[IP:][PUBLISHED:]TARGET[/PROTO]`` if that reads back equal, else None."""
    if port.mode is not None:
        return None
    text = str(port.target)
    if port.host_ip:
        ip = f"[{port.host_ip}]" if ":" in port.host_ip else port.host_ip
        published = "" if port.published is None else str(port.published)
        text = f"{ip}:{published}:{text}"
    elif port.published is not None:
        text = f"{port.published}:{text}"
    if port.protocol != "tcp":
        text += f"/{port.protocol}"
    try:
        back = [Port(**entry) for entry in parse_port_short(text)]
    except ValueError:
        return None
    return text if back == [port] else None


def mount_short(mount: Mount) -> str | None:
    """``Mount`` as ``SOURCE:TARGET[:ro]`` if that reads back equal, else None."""
    if mount.type == "tmpfs":
        return None
    options = [o for o, on in (("ro", mount.read_only), ("nocopy", mount.nocopy)) if on]
    options += [o for o in (mount.selinux, mount.propagation) if o]
    text = mount.target if mount.source is None else f"{mount.source}:{mount.target}"
    if options:
        if mount.source is None:
            return None
        text += ":" + ",".join(options)
    try:
        back = Mount(**parse_mount_short(text))
    except ValueError:
        return None
    return text if back == mount else None


def _escape_all(value: Any) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {k: _escape_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_all(v) for v in value]
    return value


def _service(service: Service) -> dict[str, Any]:
    data: dict[str, Any] = service.model_dump(mode="json", exclude_defaults=True)
    data.pop("name", None)
    if service.ports:
        data["ports"] = [
            port_short(p) or p.model_dump(mode="json", exclude_defaults=True) for p in service.ports
        ]
    if service.volumes:
        data["volumes"] = [
            mount_short(m) or m.model_dump(mode="json", exclude_defaults=True)
            for m in service.volumes
        ]
    if service.networks and all(v == {} for v in data["networks"].values()):
        data["networks"] = list(service.networks)
    if service.depends_on and all(v == {} for v in data["depends_on"].values()):
        data["depends_on"] = list(service.depends_on)
    return data


def implicit_default_network(stack: Stack) -> bool:
    """True if ``networks.default`` is the one the model adds by itself (not worth writing)."""
    net = stack.networks.get("default")
    return net == Network("default") and any(s.joins_default for s in stack.services.values())


def _keyed(items: dict[str, Any], key_field: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in items.items():
        dumped = item.model_dump(mode="json", exclude_defaults=True)
        dumped.pop(key_field, None)
        out[key] = dumped
    return out


def to_data(stack: Stack, *, escape_dollars: bool = True) -> dict[str, Any]:
    """The stack as plain data in the stack format (what the YAML/JSON file holds)."""
    data: dict[str, Any] = {"name": stack.name}
    if stack.engine is not None:
        data["engine"] = stack.engine
    if stack.services:
        data["services"] = {name: _service(s) for name, s in stack.services.items()}
    networks = dict(stack.networks)
    if implicit_default_network(stack):
        networks.pop("default")
    for section, items, key_field in (
        ("networks", networks, "key"),
        ("volumes", stack.volumes, "key"),
        ("secrets", stack.secrets, "key"),
        ("configs", stack.configs, "key"),
    ):
        if items:
            data[section] = _keyed(dict(items), key_field)
    return _escape_all(data) if escape_dollars else data


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, YAML 1.2-safe quoting."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if not isinstance(resolve_plain(value), str):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def to_stack_yaml(stack: Stack, *, schema_ref: str | None = SCHEMA_URL) -> str:
    """The stack as a stack YAML file, starting with an editor modeline for the schema."""
    body = yaml.dump(
        to_data(stack),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
    )
    header = f"# yaml-language-server: $schema={schema_ref}\n" if schema_ref else ""
    return header + body
