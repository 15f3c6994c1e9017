"""A loaded stack written back out as a compose file that docker-compose 1.29 accepts.

``to_compose(stack)`` is pure (no daemon, no writes): the stack model -> a compose document
in the compose specification without ``version`` (what docker-compose 1.29 reads, with the
most keys). What 1.29 has no key for, stackctl keeps under ``x-stackctl``, in the stack
format, which stackctl's compose loader reads back (``stackctl/load/compose.py``):

- top level: ``x-stackctl: {name: ..., engine: ...}`` (1.29 has no ``name:``);
- per service: ``x-stackctl: {KEY: VALUE}`` for each setting that 1.29 cannot hold exactly
  (``engine``, ``acknowledge``, ``gpus``, a health check's ``start_interval``, a bind
  mount's ``create_host_path: false``...). The compose key keeps what 1.29 can hold of it
  (so docker-compose runs the closest thing); stackctl reads the ``x-stackctl`` value
  instead.

Secret values are never written: an environment value that is a ``Secret``, has a
secret-looking name or holds a secret value becomes a ``${VAR}`` reference (the variable
it was read from when known, else the key itself, with ``_SECRET`` added when the key does
not look secret, so that stackctl loads it back as a secret), and every other place that
holds a secret value refers to the same variable. ``Export.variables`` lists what must be
set. (Which variable a value came from: ``stack_variables``, the one read of the
environment and ``.env``, which the caller passes in.)

What 1.29 cannot hold at all (a config's ``content:``, a secret or config read from
``environment:``) raises :class:`ExportRefusedError` (exit code 3), naming the field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stackctl import units
from stackctl.core.dotenv import variables_for
from stackctl.core.interpolate import escape
from stackctl.core.redact import MIN_REDACTED
from stackctl.dump import _Dumper, mount_short, port_short, to_data
from stackctl.errors import ExportRefusedError, StackctlError
from stackctl.model import Mount, Port, Secret, Service, Stack
from stackctl.secrets import looks_secret

EXTENSION = "x-stackctl"


@dataclass(frozen=True)
class Export:
    """A stack as a compose document, and the variables its secret references need."""

    stack: str
    data: dict[str, Any]
    variables: tuple[str, ...]
    source: str | None = None
    # variable -> the secret value it must hold (never written; for tests and tools that
    # load the file back in the same process)
    values: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def text(self) -> str:
        """The compose file: a comment naming the variables to set, then the YAML."""
        head = [f"# stack {self.stack!r}, written by `stackctl export`"]
        if self.source:
            head[0] += f" from {self.source}"
        head.append("# docker-compose (1.29+) and stackctl read it; stackctl also reads x-stackctl")
        if self.variables:
            head.append(
                "# secret values are not written: set these variables first: "
                + " ".join(self.variables)
            )
        body = yaml.dump(
            self.data,
            Dumper=_Dumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=1_000_000,
        )
        return "\n".join(head) + "\n" + body


def to_compose(
    stack: Stack, folder: Path | None = None, variables: Mapping[str, str] | None = None
) -> Export:
    """``stack`` as a compose document. ``folder``: where the file will be (relative paths
    are rewritten to stay right from there); None: the stack's own folder. ``variables``:
    where the stack's values came from (:func:`stack_variables`), so that a secret value
    is written as the variable it was read from."""
    _refuse_what_compose_cannot_hold(stack)
    rebase = _rebaser(stack.base_dir, folder)
    names = _SecretNames(stack, variables or {})
    extension: dict[str, Any] = {"name": stack.name}
    if stack.engine is not None:
        extension["engine"] = stack.engine
    doc: dict[str, Any] = {EXTENSION: extension}
    services: dict[str, Any] = {}
    for name, service in stack.services.items():
        services[name] = _service(service, rebase, names)
    doc["services"] = services
    plain = to_data(stack, escape_dollars=False)
    for section in ("networks", "volumes", "secrets", "configs"):
        items = plain.get(section)
        if not items:
            continue
        if section in ("secrets", "configs"):
            items = {k: {**v, "file": rebase(v["file"])} if "file" in v else v
                     for k, v in items.items()}  # fmt: skip
        doc[section] = items
    written = names.write(doc)
    return Export(
        stack.name,
        written,
        tuple(sorted(names.used)),
        str(stack.origin) if stack.origin else None,
        {
            **{name: value for value, name in names.by_value.items() if name in names.used},
            **names.blanks,
        },
    )


# --------------------------------------------------------------------------- refusals


def _refuse_what_compose_cannot_hold(stack: Stack) -> None:
    labelled = [
        *(f"services.{k}" for k, s in stack.services.items() if "" in s.labels),
        *(f"networks.{k}" for k, n in stack.networks.items() if "" in n.labels),
        *(f"volumes.{k}" for k, v in stack.volumes.items() if "" in v.labels),
    ]
    if labelled:
        raise ExportRefusedError(
            f"stack {stack.name!r}: {labelled[0]}.labels: a label with an empty name, which a "
            "compose file cannot hold; nothing was written",
            hint="give the label a name, or remove it",
        )
    for key, config in stack.configs.items():
        for field_name in ("content", "environment"):
            if getattr(config, field_name) is not None:
                raise ExportRefusedError(
                    f"stack {stack.name!r}: configs.{key}.{field_name}: docker-compose 1.29 "
                    f"has no `{field_name}:` for a config; nothing was written",
                    hint="write the config's text to a file and give it as `file:`",
                )
    for key, secret in stack.secrets.items():
        if secret.environment is not None:
            raise ExportRefusedError(
                f"stack {stack.name!r}: secrets.{key}.environment: docker-compose 1.29 has no "
                "`environment:` for a secret; nothing was written",
                hint="keep the secret in a file and give it as `file:`",
            )


# --------------------------------------------------------------------------- paths


def _rebaser(base: Path, folder: Path | None) -> Callable[[str], str]:
    """Relative paths (``./data``, ``../x``, ``app.env``) as seen from ``folder`` instead of
    ``base``; absolute ones, ``~/...`` and URLs (a remote build context) stay."""
    if folder is None or folder.resolve() == base.resolve():
        return lambda path: path
    here = folder.resolve()

    def rebase(path: str) -> str:
        if os.path.isabs(path) or path.startswith(("~", "git@", "github.com/")) or "://" in path:
            return path
        moved = os.path.relpath(os.path.normpath(base / path), here)
        return moved if moved.startswith(".") else f"./{moved}"

    return rebase


# --------------------------------------------------------------------------- secrets


class _SecretNames:
    """Which variable stands for each secret value, and the writing of every string: ``$``
    escaped as ``$$``, each secret value replaced by its ``${VAR}``."""

    def __init__(self, stack: Stack, variables: Mapping[str, str]) -> None:
        self.stack = stack
        self.values = _secret_values(stack)
        self.by_value: dict[str, str] = {}
        self.used: set[str] = set()
        self.blanks: dict[str, str] = {}  # variables of blank Secrets -> their value
        for name, value in sorted(variables.items()):
            if value in self.values and looks_secret(name) and value not in self.by_value:
                self.by_value[value] = name

    def name_for(self, value: str, wanted: str) -> str:
        """The variable for ``value``: the one it was read from, else ``wanted`` (made
        unique: another value may have the name already)."""
        if value in self.by_value:
            return self.by_value[value]
        taken = set(self.by_value.values())
        name, n = wanted, 2
        while name in taken:
            name, n = f"{wanted}_{n}", n + 1
        self.by_value[value] = name
        return name

    def references(self, value: str) -> list[str]:
        """The variables that would stand in ``value`` (whole, or parts of it)."""
        if value in self.by_value:
            return [self.by_value[value]]
        return [self.by_value[v] for v in self._parts(value)]

    def _parts(self, value: str) -> list[str]:
        return sorted(
            (v for v in self.by_value if len(v) >= MIN_REDACTED and v in value),
            key=len,
            reverse=True,
        )

    def _reference(self, value: str) -> str:
        name = self.by_value[value]
        self.used.add(name)
        return f"${{{name}}}"

    def text(self, value: str) -> str:
        """A string as written in the file: secrets as references, the rest escaped."""
        if value in self.by_value:
            return self._reference(value)
        parts = self._parts(value)
        if not parts:
            return escape(value)
        pattern = re.compile("|".join(re.escape(v) for v in parts))
        out: list[str] = []
        last = 0
        for m in pattern.finditer(value):
            out.append(escape(value[last : m.start()]))
            out.append(self._reference(m.group(0)))
            last = m.end()
        out.append(escape(value[last:]))
        return "".join(out)

    def write(self, data: Any, path: str = "") -> Any:
        if isinstance(data, _Reference):
            self.used.add(data.name)
            self.blanks[data.name] = data.value
            return f"${{{data.name}}}"
        return self._write(data, path)

    def _write(self, data: Any, path: str) -> Any:
        """Every string value of ``data`` as written (keys are names: neither interpolated
        nor escaped); a secret value that no variable stands for is refused, not written."""
        if isinstance(data, str):
            written = self.text(data)
            whole = data in self.values and written == escape(data)
            if whole or any(len(v) >= MIN_REDACTED and escape(v) in written for v in self.values):
                raise StackctlError(
                    f"stack {self.stack.name!r}: {path.lstrip('.') or 'a value'} holds a "
                    "secret value that no variable stands for; nothing was written",
                    hint="read the value from a variable with a secret-looking name "
                    "(${DB_PASSWORD}), or set it in a service's environment",
                )
            return written
        if isinstance(data, dict):
            return {k: self.write(v, f"{path}.{k}") for k, v in data.items()}
        if isinstance(data, list):
            return [self.write(v, f"{path}[{i}]") for i, v in enumerate(data)]
        return data


def stack_variables(stack: Stack) -> dict[str, str]:
    """The variables a stack's values are read from, as loading reads them: the process
    environment over the ``.env`` beside the stack (the I/O :func:`to_compose` leaves out)."""
    variables = variables_for(stack.base_dir)[0]
    return {**variables.dotenv, **variables.process}


def _secret_values(stack: Stack) -> set[str]:
    """The values the export must never write: typed Secrets, values of secret-looking
    variables, keys and build arguments. (An env file's values stay in the env file, which
    the export names; a secret file's content stays in its file.)"""
    values = set(stack.secret_values)
    for service in stack.services.values():
        for key, value in service.environment.items():
            if isinstance(value, Secret):
                values.add(value.value)
            elif looks_secret(key):
                values.add(value)
        if service.build is not None:
            values |= {v for k, v in service.build.args.items() if looks_secret(k)}
    return {v for v in values if v and v.strip()}


def _environment(service: Service, names: _SecretNames) -> dict[str, Any]:
    """The environment; each secret value gets a variable (see the module)."""
    out: dict[str, Any] = {}
    for key, value in service.environment.items():
        text = value.value if isinstance(value, Secret) else value
        out[key] = text
        if not isinstance(value, Secret) and not (looks_secret(key) and text):
            continue
        wanted = key if looks_secret(key) else f"{key}_SECRET"
        if not text.strip():  # a blank Secret: no value to find elsewhere, a variable all the same
            out[key] = _Reference(names.name_for(_Reference.blank(key, text), wanted), text)
            continue
        refs = names.references(text)
        # Loaded back as a secret: by its key, or by a secret-looking variable in it.
        if not (refs and (looks_secret(key) or any(looks_secret(r) for r in refs))):
            names.name_for(text, wanted)
    return out


@dataclass(frozen=True)
class _Reference:
    """A variable written as ``${name}`` for a value no string of the file may stand for."""

    name: str
    value: str

    @staticmethod
    def blank(key: str, value: str) -> str:
        """A stand-in to reserve the variable's name by (never written)."""
        return f"\0blank {key} {value!r}"


# --------------------------------------------------------------------------- services

_Rebase = Callable[[str], str]

# Keys whose stack-format value docker-compose 1.29 reads as it is.
_SAME = (
    "image",
    "container_name",
    "hostname",
    "command",
    "entrypoint",
    "expose",
    "restart",
    "labels",
    "user",
    "working_dir",
    "cap_add",
    "cap_drop",
    "privileged",
    "read_only",
    "extra_hosts",
    "dns",
    "dns_search",
    "stop_signal",
    "stop_grace_period",
    "init",
    "logging",
    "secrets",
    "configs",
    "devices",
    "sysctls",
    "security_opt",
    "shm_size",
    "tty",
    "stdin_open",
    "network_mode",
    "links",
    "ulimits",
    "pids_limit",
    "runtime",
    "platform",
    "mem_limit",
    "memswap_limit",
    "mem_reservation",
    "cpus",
    "cpu_shares",
    "cpu_quota",
    "cpu_period",
    "cpuset",
    "oom_score_adj",
    "group_add",
    "ipc",
    "pid",
    "userns_mode",
    "cgroup_parent",
    "storage_opt",
    "domainname",
)
# Keys 1.29 has nothing for: kept under x-stackctl only.
_STACKCTL_ONLY = ("engine", "acknowledge", "gpus")

_BUILD_KEYS = ("context", "dockerfile", "args", "labels", "cache_from", "network", "target",
               "shm_size", "extra_hosts")  # fmt: skip
_HEALTH_KEYS = ("test", "interval", "timeout", "retries", "start_period", "disable")
_PULL_POLICIES = ("always", "never", "if_not_present", "build")


def _service(service: Service, rebase: _Rebase, names: _SecretNames) -> Any:
    """The service in 1.29's keys, with an ``x-stackctl`` of what they cannot say."""
    data: dict[str, Any] = _stack_format(service)
    out: dict[str, Any] = {}
    extension: dict[str, Any] = {}

    def inexact(key: str) -> None:
        extension[key] = data[key]

    for key in data:
        if key in _SAME:
            out[key] = data[key]
        elif key in _STACKCTL_ONLY:
            inexact(key)
    if service.env_file:
        out["env_file"] = [rebase(p) for p in service.env_file]
    if service.environment:
        out["environment"] = _environment(service, names)
    if service.build is not None:
        build = {k: v for k, v in data["build"].items() if k in _BUILD_KEYS}
        build["context"] = rebase(service.build.context)
        for key, value in service.build.args.items():
            if looks_secret(key) and value:
                names.name_for(value, key)
        out["build"] = build
        if set(data["build"]) - set(_BUILD_KEYS):
            extension["build"] = {**data["build"], "context": build["context"]}
    if service.ports:
        out["ports"] = [_port(p) for p in service.ports]
        if any(port_short(p) is None and p.host_ip for p in service.ports):
            inexact("ports")
    if service.volumes:
        mounts = [_mount(m, rebase) for m in service.volumes]
        out["volumes"] = [m for m, _ in mounts]
        if not all(exact for _, exact in mounts):
            extension["volumes"] = [_rebased_mount(m, rebase) for m in data["volumes"]]
    if service.networks:
        out["networks"] = data["networks"]
        if any(_repeats(n.aliases) for n in service.networks.values()):
            inexact("networks")  # compose's unicity keeps one of each alias
            out["networks"] = {
                k: {**v, "aliases": list(dict.fromkeys(v["aliases"]))} if "aliases" in v else v
                for k, v in data["networks"].items()
            }
    if service.depends_on:
        out["depends_on"] = {
            k: {"condition": str(d.condition)} for k, d in service.depends_on.items()
        }
        if all(d.condition == "service_started" for d in service.depends_on.values()):
            out["depends_on"] = list(service.depends_on)
        if any(not d.required or d.restart for d in service.depends_on.values()):
            inexact("depends_on")
    if service.healthcheck is not None:
        out["healthcheck"] = {k: v for k, v in data["healthcheck"].items() if k in _HEALTH_KEYS}
        if service.healthcheck.disabled:  # 1.29: `disable: true` takes no other option
            out["healthcheck"] = {"disable": True}
        if data["healthcheck"] != out["healthcheck"]:
            inexact("healthcheck")
    if service.deploy is not None:
        out["deploy"], exact = _deploy(data["deploy"])
        if not exact:
            inexact("deploy")
        if service.deploy.restart_policy is not None and service.deploy.restart_policy.condition:
            out["restart"] = service.restart  # else the loader reads the policy as restart
    if service.replicas is not None:
        out["scale"] = service.replicas
    if service.pull_policy is not None:
        if service.pull_policy in _PULL_POLICIES:
            out["pull_policy"] = service.pull_policy
        else:
            inexact("pull_policy")
    # A repeated entry (dns: [a, a], two mounts at one target): compose's unicity rules
    # keep one (load/merge.py), so the exact list goes to x-stackctl.
    identities: dict[str, list[Any]] = {
        "volumes": [m.target for m in service.volumes],
        "secrets": [x.target or x.source for x in service.secrets],
        "configs": [x.path for x in service.configs],
        "devices": [d.split(":")[1] if ":" in d else d for d in service.devices],
    }
    for key, value in out.items():
        items = identities.get(key, value)
        if key in data and isinstance(items, list) and _repeats(items) and key not in extension:
            inexact(key)
            if isinstance(value, list) and len(value) == len(items):
                out[key] = _unique(value, items)  # what docker-compose accepts: no repeats
    if extension:
        out[EXTENSION] = extension
    return out


def _repeats(items: list[Any]) -> bool:
    return len({repr(i) for i in items}) < len(items)


def _unique(values: list[Any], identities: list[Any]) -> list[Any]:
    """One value per identity, as compose-go's unicity: first position, last value."""
    kept: dict[str, Any] = {}
    for value, identity in zip(values, identities, strict=True):
        kept[repr(identity)] = value
    return list(kept.values())


def _stack_format(service: Service) -> dict[str, Any]:
    """The service in the stack format (what x-stackctl holds), without environment."""
    clean = service.model_copy(update={"environment": {}})
    data: dict[str, Any] = to_data(Stack("x", services=[clean]), escape_dollars=False)
    return dict(data["services"][service.name])


def _port(port: Port) -> Any:
    short = port_short(port)
    if short is not None:
        return short
    long: dict[str, Any] = {"target": port.target}
    if port.published is not None:
        long["published"] = port.published
    if port.protocol != "tcp":
        long["protocol"] = port.protocol
    if port.mode is not None:
        long["mode"] = port.mode
    return long


def _mount(mount: Mount, rebase: _Rebase) -> tuple[Any, bool]:
    """The mount in 1.29's words, and whether they say all of it."""
    source = rebase(mount.source) if mount.type == "bind" and mount.source else mount.source
    moved = mount.model_copy(update={"source": source})
    short = mount_short(moved)
    if short is not None:
        return short, True
    long: dict[str, Any] = {"type": mount.type, "target": mount.target}
    if source is not None:
        long["source"] = source
    if mount.read_only:
        long["read_only"] = True
    if mount.propagation:
        long["bind"] = {"propagation": mount.propagation}
    if mount.nocopy:
        long["volume"] = {"nocopy": True}
    if mount.tmpfs_size is not None:
        long["tmpfs"] = {"size": units.parse_size(mount.tmpfs_size)}
    exact = (
        mount.create_host_path
        and mount.selinux is None
        and mount.subpath is None
        and mount.tmpfs_mode is None
    )
    return long, exact


def _rebased_mount(item: Any, rebase: _Rebase) -> Any:
    if isinstance(item, dict) and item.get("type") == "bind" and item.get("source"):
        return {**item, "source": rebase(item["source"])}
    if isinstance(item, str) and item.startswith("."):
        source, sep, rest = item.partition(":")
        return rebase(source) + sep + rest
    return item


def _deploy(deploy: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``deploy`` without what 1.29 has no key for (``pids`` of resources)."""
    out = dict(deploy)
    exact = True
    resources = out.get("resources")
    if isinstance(resources, dict):
        kept: dict[str, Any] = {}
        for part, spec in resources.items():
            if isinstance(spec, dict) and "pids" in spec:
                exact = False
                spec = {k: v for k, v in spec.items() if k != "pids"}
            if spec:
                kept[part] = spec
        out["resources"] = kept
        if not kept:
            out.pop("resources")
    return out, exact


def variables_note(exports: Iterable[Export]) -> str | None:
    """One line for stderr naming the variables the exported files need, if any."""
    wanted = sorted({v for e in exports for v in e.variables})
    if not wanted:
        return None
    listed = " ".join(wanted)
    return f"secret values were not written; set these variables before using the file: {listed}"
