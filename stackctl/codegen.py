"""Write a Stack as typed Python using the public API (``stackctl import``).

Networks, volumes and secrets become variables; services become variables in dependency
order and refer to networks, volumes and the services they depend on by object, so a
rename is a refactor and a typo is a type error. The output is ruff-format-stable at line
length 100 (one line when it fits, else one item per line with a trailing comma), passes
``mypy --strict``, and loads back to an equal Stack.

Loading a Python stack interpolates its strings (``${VAR}``), so literal ``$`` is written
``$$`` here; Secret values are written literally (they are never interpolated). With
``keep_templates=True`` (a stack loaded with its templates kept, see
:func:`stackctl.load.load_stacks`), free-text values are written as they were, so
``${POSTGRES_PASSWORD:?...}`` stays a variable instead of becoming its value.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from stackctl.core.interpolate import escape, is_template_position
from stackctl.dump import implicit_default_network, mount_short, port_short
from stackctl.errors import StackctlError
from stackctl.model import (
    Build,
    Condition,
    Dependency,
    Healthcheck,
    Mount,
    Secret,
    Service,
    ServiceConfig,
    ServiceNetwork,
    ServiceSecret,
    Stack,
)

LINE_LENGTH = 100
_INDENT = 4
_KEYED = {
    "Service": "name",
    "Network": "key",
    "Volume": "key",
    "SecretSource": "key",
    "ConfigSource": "key",
}
_SECRET_REF = re.compile(r"^\$\{([_A-Za-z]\w*)(?::?\?[^}]*)?\}$|^\$([_A-Za-z]\w*)$")
PathT = tuple[str | int, ...]


# --------------------------------------------------------------------------- layout


@dataclass
class Atom:
    text: str


@dataclass
class Item:
    prefix: str
    value: Node


@dataclass
class Group:
    head: str
    items: list[Item]
    tail: str


Node = Atom | Group


def _flat(node: Node) -> str:
    if isinstance(node, Atom):
        return node.text
    return node.head + ", ".join(i.prefix + _flat(i.value) for i in node.items) + node.tail


def _emit(node: Node, indent: int, lead: str, trail: str) -> list[str]:
    """One line if it fits; else one item per line with a trailing comma (ruff-stable)."""
    flat = lead + _flat(node) + trail
    if len(flat) <= LINE_LENGTH or isinstance(node, Atom) or not node.items:
        return [flat]
    inner = " " * (indent + _INDENT)
    lines = [lead + node.head]
    for item in node.items:
        lines += _emit(item.value, indent + _INDENT, inner + item.prefix, ",")
    lines.append(" " * indent + node.tail + trail)
    return lines


def string_literal(text: str) -> str:
    """A Python string literal with the quotes ruff would choose."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out: list[str] = [quote]
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable():
            code = ord(ch)
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


# --------------------------------------------------------------------------- rendering


@dataclass
class _Renderer:
    stack: Stack
    keep_templates: bool
    imports: set[str] = field(default_factory=set)
    variables: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, key) -> var
    defined: set[tuple[str, str]] = field(default_factory=set)

    # ----------------------------------------------------------------- names

    def name_variables(self, services: Sequence[Service]) -> None:
        taken = {"stack", "stacks", *_PUBLIC}
        for kind, keys, suffix in (
            ("service", [s.name for s in services], "service"),
            ("network", list(self.stack.networks), "net"),
            ("volume", list(self.stack.volumes), "vol"),
            ("secret", list(self.stack.secrets), "secret"),
            ("config", list(self.stack.configs), "config"),
        ):
            for key in keys:
                base = re.sub(r"\W", "_", key, flags=re.ASCII) or kind
                if base[0].isdigit():
                    base = f"{suffix}_{base}"
                if keyword.iskeyword(base) or base in _AMBIGUOUS | _BUILTINS or base in taken:
                    base = f"{base}_{suffix}"
                name, n = base, 2
                while name in taken:
                    name, n = f"{base}_{n}", n + 1
                taken.add(name)
                self.variables[(kind, key)] = name

    def ref(self, kind: str, key: str) -> Node | None:
        """The variable for an already defined network/volume/service, else None."""
        if (kind, key) in self.defined:
            return Atom(self.variables[(kind, key)])
        return None

    # ----------------------------------------------------------------- values

    def string(self, text: str, path: PathT) -> Atom:
        if not (self.keep_templates and is_template_position(path)):
            text = escape(text)
        return Atom(string_literal(text))

    def value(self, value: Any, path: PathT) -> Node:
        if isinstance(value, Condition):
            name = value.short
            self.imports.add(name)
            return Atom(name)
        if isinstance(value, Enum):
            return self.value(value.value, path)
        if isinstance(value, str):
            return self.string(value, path)
        if isinstance(value, bool) or value is None:
            return Atom(repr(value))
        if isinstance(value, int):
            return Atom(str(value))
        if isinstance(value, float):
            return Atom(repr(value) if math.isfinite(value) else f'float("{value}")')
        if isinstance(value, Secret):
            return self.secret(value, path)
        if isinstance(value, BaseModel):
            return self.model(value, path)
        if isinstance(value, dict):
            return Group(
                "{",
                [
                    Item(string_literal(str(k)) + ": ", self.value(v, (*path, k)))
                    for k, v in value.items()
                ],
                "}",
            )
        if isinstance(value, list | tuple):
            return Group(
                "[", [Item("", self.value(v, (*path, i))) for i, v in enumerate(value)], "]"
            )
        raise TypeError(f"cannot render {type(value).__name__} as Python")

    def secret(self, secret: Secret, path: PathT) -> Node:
        """Secret values are never interpolated in Python, so templates cannot stay in them:
        a whole-value ``${NAME}`` becomes ``Secret.env("NAME")``; anything else mixing text
        and variables is refused rather than written with its value."""
        self.imports.add("Secret")
        value = secret.value
        if self.keep_templates and is_template_position(path):
            m = _SECRET_REF.match(value)
            if m:
                name = string_literal(m.group(1) or m.group(2))
                return Group("Secret.env(", [Item("", Atom(name))], ")")
            if "$" in value.replace("$$", ""):
                raise StackctlError(
                    f"the secret at {'.'.join(map(str, path))} mixes text and variables, "
                    "which a Python stack cannot hold without writing the value",
                    hint="put the whole value in one variable: {value: ${NAME}}",
                )
            value = value.replace("$$", "$")
        return Group("Secret(", [Item("", Atom(string_literal(value)))], ")")

    def call(self, func: str, args: list[Item]) -> Group:
        self.imports.add(func.split(".")[0])
        return Group(f"{func}(", args, ")")

    def kwargs(self, obj: BaseModel, path: PathT, skip: Sequence[str] = ()) -> list[Item]:
        items: list[Item] = []
        for name, info in type(obj).model_fields.items():
            if name in skip:
                continue
            value = getattr(obj, name)
            if value == info.get_default(call_default_factory=True):
                continue
            items.append(Item(f"{name}=", self.field_value(obj, name, value, (*path, name))))
        return items

    def model(self, obj: BaseModel, path: PathT) -> Node:
        cls = type(obj).__name__
        key = _KEYED.get(cls)
        args = [Item("", self.value(getattr(obj, key), path))] if key else []
        return self.call(cls, args + self.kwargs(obj, path, skip=[key] if key else []))

    def field_value(self, owner: BaseModel, name: str, value: Any, path: PathT) -> Node:
        if isinstance(owner, Service):
            special = getattr(self, f"_service_{name}", None)
            if special is not None:
                node: Node = special(value, path)
                return node
        return self.value(value, path)

    # ----------------------------------------------------------------- service fields

    def _service_ports(self, ports: list[Any], path: PathT) -> Node:
        items = []
        for i, port in enumerate(ports):
            short = port_short(port)
            node = Atom(string_literal(short)) if short else self.model(port, (*path, i))
            items.append(Item("", node))
        return Group("[", items, "]")

    def _service_volumes(self, mounts: list[Mount], path: PathT) -> Node:
        items = []
        for i, mount in enumerate(mounts):
            items.append(Item("", self._mount(mount, (*path, i))))
        return Group("[", items, "]")

    def _mount(self, mount: Mount, path: PathT) -> Node:
        volume = (
            self.ref("volume", mount.source) if mount.type == "volume" and mount.source else None
        )
        if volume is not None and mount.source is not None:
            candidate = Mount.volume(mount.source, mount.target, read_only=mount.read_only)
            if candidate == mount:
                args = [Item("", volume), Item("", self.string(mount.target, (*path, "target")))]
                if mount.read_only:
                    args.append(Item("read_only=", Atom("True")))
                return self.call("Mount.volume", args)
        short = mount_short(mount)
        if short is not None:
            return self.string(short, path)
        return self.model(mount, path)

    def _service_networks(self, networks: dict[str, ServiceNetwork], path: PathT) -> Node:
        def key_node(key: str) -> Node:
            return self.ref("network", key) or self.string(key, path)

        if all(v == ServiceNetwork() for v in networks.values()):
            return Group("[", [Item("", key_node(k)) for k in networks], "]")
        items = [
            Item(
                _flat(key_node(k)) + ": ",
                self.model(v, (*path, k)) if v != ServiceNetwork() else Atom("None"),
            )
            for k, v in networks.items()
        ]
        return Group("{", items, "}")

    def _service_depends_on(self, deps: dict[str, Dependency], path: PathT) -> Node:
        def key_node(name: str) -> Node:
            return self.ref("service", name) or self.string(name, path)

        if all(d == Dependency() for d in deps.values()):
            return Group("[", [Item("", key_node(k)) for k in deps], "]")
        items = []
        for name, dep in deps.items():
            value: Node
            if dep == Dependency(condition=dep.condition):
                value = self.value(dep.condition, (*path, name))
            else:
                value = self.model(dep, (*path, name))
            items.append(Item(_flat(key_node(name)) + ": ", value))
        return Group("{", items, "}")

    def _service_healthcheck(self, check: Healthcheck, path: PathT) -> Node:
        if check == Healthcheck.none():
            return self.call("Healthcheck.none", [])
        test = check.test or []
        options = self.kwargs(check, path, skip=["test"])
        if len(test) == 2 and test[0] == "CMD-SHELL":
            arg = self.string(test[1], (*path, "test", 1))
            return self.call("Healthcheck.shell", [Item("", arg), *options])
        if len(test) >= 2 and test[0] == "CMD":
            args = [Item("", self.string(t, (*path, "test", i))) for i, t in enumerate(test) if i]
            return self.call("Healthcheck.cmd", [*args, *options])
        return self.model(check, path)

    def _service_build(self, build: Build, path: PathT) -> Node:
        """``build="./app"`` when only the context is set, else ``Build("./app", ...)``."""
        context = self.string(build.context, (*path, "context"))
        if build == Build(build.context):
            return context
        return self.call("Build", [Item("", context), *self.kwargs(build, path, skip=["context"])])

    def _service_secrets(self, secrets: list[ServiceSecret], path: PathT) -> Node:
        items = []
        for i, secret in enumerate(secrets):
            ref = self.ref("secret", secret.source)
            if ref is not None and secret == ServiceSecret(source=secret.source):
                items.append(Item("", ref))
            else:
                items.append(Item("", self.model(secret, (*path, i))))
        return Group("[", items, "]")

    def _service_configs(self, configs: list[ServiceConfig], path: PathT) -> Node:
        items = []
        for i, config in enumerate(configs):
            ref = self.ref("config", config.source)
            if ref is not None and config == ServiceConfig(source=config.source):
                items.append(Item("", ref))
            else:
                items.append(Item("", self.model(config, (*path, i))))
        return Group("[", items, "]")


_PUBLIC = {
    "Build",
    "ConfigSource",
    "ServiceConfig",
    "Ulimit",
    "Condition",
    "Dependency",
    "Deploy",
    "DeviceRequest",
    "Healthcheck",
    "Ipam",
    "IpamPool",
    "Logging",
    "Mount",
    "Network",
    "Placement",
    "Port",
    "ResourceSpec",
    "Resources",
    "RestartPolicy",
    "Secret",
    "SecretSource",
    "Service",
    "ServiceNetwork",
    "ServiceSecret",
    "Stack",
    "UpdateConfig",
    "Volume",
    "completed",
    "healthy",
    "started",
}
_BUILTINS = set(dir(builtins))
_AMBIGUOUS = {"l", "O", "I"}  # E741: easily read as 1 and 0


def _dependency_order(stack: Stack) -> list[Service]:
    """Services with the ones they depend on first, otherwise in their own order."""
    order: list[Service] = []
    state: dict[str, str] = {}

    def visit(name: str) -> None:
        if state.get(name) is not None:
            return  # done, or in progress (a cycle: validation reports it)
        state[name] = "visiting"
        for dep in stack.services[name].depends_on:
            if dep in stack.services:
                visit(dep)
        state[name] = "done"
        order.append(stack.services[name])

    for name in stack.services:
        visit(name)
    return order


def _import_line(names: set[str]) -> list[str]:
    """``from stackctl import ...`` sorted as isort/ruff does (classes, then functions)."""
    ordered = sorted(names, key=lambda n: (not n[:1].isupper(), n.lower(), n))
    line = f"from stackctl import {', '.join(ordered)}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return ["from stackctl import (", *[f"    {n}," for n in ordered], ")"]


def to_python(stack: Stack, *, keep_templates: bool = False, source: str | None = None) -> str:
    """The stack as a Python module defining ``stack``."""
    r = _Renderer(stack, keep_templates)
    services = _dependency_order(stack)
    r.name_variables(services)
    blocks: list[list[str]] = []

    networks = [
        n
        for key, n in stack.networks.items()
        if not (key == "default" and implicit_default_network(stack))
    ]
    stack_args: list[Item] = [Item("", Atom(string_literal(stack.name)))]
    resources: list[tuple[str, str, list[Any]]] = [
        ("network", "networks", networks),
        ("volume", "volumes", list(stack.volumes.values())),
        ("secret", "secrets", list(stack.secrets.values())),
        ("config", "configs", list(stack.configs.values())),
    ]
    for kind, section, items in resources:
        lines: list[str] = []
        for item in items:
            var = r.variables[(kind, item.key)]
            lines += _emit(r.model(item, (section, item.key)), 0, f"{var} = ", "")
            r.defined.add((kind, item.key))
        if lines:
            blocks.append(lines)

    for svc in services:
        var = r.variables[("service", svc.name)]
        blocks.append(_emit(r.model(svc, ("services", svc.name)), 0, f"{var} = ", ""))
        r.defined.add(("service", svc.name))

    if stack.services:
        refs = [Item("", Atom(r.variables[("service", n)])) for n in stack.services]
        stack_args.append(Item("services=", Group("[", refs, "]")))
    for kind, section, items in resources:
        if items:
            refs = [Item("", Atom(r.variables[(kind, i.key)])) for i in items]
            stack_args.append(Item(f"{section}=", Group("[", refs, "]")))
    if stack.engine is not None:
        stack_args.append(Item("engine=", Atom(string_literal(stack.engine))))
    blocks.append(_emit(r.call("Stack", stack_args), 0, "stack = ", ""))

    origin = [f"Generated by `stackctl import {Path(source).name}`."] if source else []
    head = [
        f'"""The {stack.name} stack.',
        "",
        *origin,
        "A literal $ in a string is written $$; ${VAR} reads the environment",
        "or the .env file beside this one.",
        '"""',
        "",
        *_import_line(r.imports),
    ]
    text = "\n".join(head)
    for block in blocks:
        text += "\n\n" + "\n".join(block)
    return text + "\n"
