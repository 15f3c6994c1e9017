"""Map a Compose file (already interpolated and schema-checked) onto the stack format.

Compose keys that mean the same thing in stackctl pass through unchanged (the model's
validators read Compose's short and long forms). ``scale`` becomes ``replicas``; the old
``external: {name: x}`` form becomes ``external: true`` plus ``name: x``; ``version`` is
ignored, as Compose does; ``x-*`` extensions are ignored, but for ``x-stackctl``, where
``stackctl export`` keeps what docker-compose 1.29 has no key for: at the top level the
stack's ``name`` and ``engine``; in a service, settings in the stack format that replace
the service's compose keys of the same name (``engine``, ``acknowledge``, a health check
with ``start_interval``...). Every other key is reported by name with a hint, never dropped
silently: stackctl would not do what the file says.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stackctl.model import Service

PathT = tuple[str | int, ...]

EXTENSION = "x-stackctl"
_STACK_EXTENSION_KEYS = ("name", "engine")

_REMOVE = "remove it; stackctl does not support it yet"
_LIMITS = "set it under deploy.resources.limits ({what})"

SERVICE_HINTS: dict[str, str] = {
    "profiles": "put the profile's services in a stack of their own",
    "external_links": "join the other stack's network (declared `external: true`) and use "
    "its container name",
    "extends": "copy the settings in, or share them with a YAML anchor (x-common: &common)",
    "cpu_count": _LIMITS.format(what="cpus"),
    "cpu_percent": _LIMITS.format(what="cpus"),
    "develop": "remove it; stackctl deploys images, it does not watch sources",
    "env_file_format": _REMOVE,
    "label_file": "write the labels under `labels:`",
    "volumes_from": "mount the same volumes by name under `volumes:`",
    "post_start": _REMOVE,
    "pre_stop": _REMOVE,
    # build: what the daemon's classic builder (POST /build) cannot do
    **dict.fromkeys(
        (
            "ssh",
            "cache_to",
            "additional_contexts",
            "platforms",
            "tags",
            "entitlements",
            "provenance",
            "sbom",
            "isolation",
        ),
        "stackctl builds through the daemon's classic builder, which has no such option: "
        "remove it, or build with `docker buildx build` and reference the image with `image:`",
    ),
}

TOP_LEVEL_HINTS: dict[str, str] = {
    "include": "load the included files as stacks of their own (stackctl apply a/ b/)",
    "models": _REMOVE,
}

_PASS_THROUGH = frozenset(Service.model_fields) - {"name", "replicas", "engine"} | {"tmpfs"}
_FREE_MAPS = frozenset(
    {"environment", "labels", "sysctls", "extra_hosts", "driver_opts", "options", "aux_addresses"}
)


@dataclass
class Unsupported:
    """A key stackctl cannot honour, with where it is and what to do instead."""

    path: PathT
    message: str
    hint: str


@dataclass
class Mapped:
    data: dict[str, Any]
    problems: list[Unsupported] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # stack path -> compose path


def project_name(folder_name: str) -> str:
    """Compose's project name from a folder name: lowercase, only ``[a-z0-9_-]``."""
    name = re.sub(r"[^a-z0-9_-]", "", folder_name.lower())
    return name.lstrip("_-") or "default"


def compose_to_stack(data: Mapping[str, Any], *, default_name: str) -> Mapped:
    """The stack-format data for a compose document, plus the keys stackctl cannot honour."""
    out = Mapped({"name": data.get("name") or project_name(default_name)})
    for key, value in data.items():
        if key == EXTENSION:
            _stack_extension(value, out)
            continue
        if key in ("name", "version") or str(key).startswith("x-"):
            continue
        if key in TOP_LEVEL_HINTS:
            if value:
                out.problems.append(
                    Unsupported(
                        (key,), f"`{key}` is not supported by stackctl", TOP_LEVEL_HINTS[key]
                    )
                )
            continue
        if not isinstance(value, Mapping):
            out.data[key] = value  # the schema has reported it
        elif key == "services":
            out.data["services"] = {
                name: _service(svc, ("services", name), out) if isinstance(svc, Mapping) else svc
                for name, svc in value.items()
            }
        elif key in ("networks", "volumes", "secrets", "configs"):
            out.data[key] = {k: _top_item(v) for k, v in value.items()}
    return out


def _stack_extension(value: Any, out: Mapped) -> None:
    """Top-level ``x-stackctl``: the stack's ``name`` (read with the project name) and
    ``engine``."""
    if not isinstance(value, Mapping):
        out.problems.append(
            Unsupported((EXTENSION,), f"`{EXTENSION}` must be a mapping", "write `engine: swarm`")
        )
        return
    for key, item in value.items():
        if key not in _STACK_EXTENSION_KEYS:
            out.problems.append(
                Unsupported(
                    (EXTENSION, key),
                    f"`{key}` is not a stack setting of `{EXTENSION}`",
                    f"use {' or '.join(_STACK_EXTENSION_KEYS)}",
                )
            )
        elif key == "engine":
            out.data["engine"] = item


def _service_extension(value: Any, path: PathT, out: Mapped) -> dict[str, Any]:
    """A service's ``x-stackctl``: stack-format settings over its compose keys."""
    if not isinstance(value, Mapping):
        out.problems.append(
            Unsupported(
                (*path, EXTENSION),
                f"`{EXTENSION}` must be a mapping",
                "write the service's settings in the stack format",
            )
        )
        return {}
    kept: dict[str, Any] = {}
    for key, item in value.items():
        if key in Service.model_fields and key != "name":
            kept[key] = item
        else:
            out.problems.append(
                Unsupported(
                    (*path, EXTENSION, key),
                    f"`{key}` is not a service setting of stackctl",
                    "remove it (`stackctl schema` lists the settings)",
                )
            )
    return kept


def _service(svc: Mapping[str, Any], path: PathT, out: Mapped) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in svc.items():
        if key.startswith("x-"):
            continue
        if key in _PASS_THROUGH:
            result[key] = _strip_extensions(value, key)
        elif key == "scale":
            result["replicas"] = value
            out.renamed[".".join(str(p) for p in (*path, "replicas"))] = ".".join(
                str(p) for p in (*path, "scale")
            )
        elif key in _compose_service_keys():  # other keys: the Compose schema reports them
            hint = SERVICE_HINTS.get(key) or _REMOVE
            out.problems.append(
                Unsupported((*path, key), f"`{key}` is not supported by stackctl", hint)
            )
    if "env_file" in result:
        result["env_file"] = _env_files(result["env_file"], (*path, "env_file"), out)
    if isinstance(result.get("devices"), list):
        result["devices"] = [_device(d) for d in result["devices"]]
    _restart_policy(result)
    if EXTENSION in svc:
        result.update(_service_extension(svc[EXTENSION], path, out))
    return result


_ON_ONE_HOST = {
    "none": "no",
    "no": "no",
    "on-failure": "on-failure",
    "any": "always",
    "always": "always",
    "unless-stopped": "unless-stopped",
}
_ON_SWARM = {"no": "none", "always": "any", "unless-stopped": "any"}


def _restart_policy(svc: dict[str, Any]) -> None:
    """``deploy.restart_policy`` as docker compose reads it: on one host it is the
    container's restart policy when ``restart`` is not set (``none``/``no`` -> no,
    ``any``/``always`` -> always, ``unless-stopped``, ``on-failure`` with ``max_attempts``);
    the condition is kept in Swarm's words (``no`` -> none, ``always``/``unless-stopped``
    -> any)."""
    deploy = svc.get("deploy")
    policy = deploy.get("restart_policy") if isinstance(deploy, dict) else None
    if not isinstance(policy, dict) or not isinstance(policy.get("condition"), str):
        return
    condition = policy["condition"]
    if "restart" not in svc and condition in _ON_ONE_HOST:
        restart = _ON_ONE_HOST[condition]
        attempts = policy.get("max_attempts")
        if restart == "on-failure" and isinstance(attempts, int) and attempts > 0:
            restart = f"on-failure:{attempts}"
        svc["restart"] = restart
    policy["condition"] = _ON_SWARM.get(condition, condition)


@functools.cache
def _compose_service_keys() -> frozenset[str]:
    from stackctl.schema import compose_validator

    schema = compose_validator().schema
    return frozenset(schema["definitions"]["service"]["properties"])


@functools.cache
def compose_only_service_keys() -> frozenset[str]:
    """Service keys of Compose that the stack format does not have (``build``, ``scale``,
    ``profiles``...): a file whose services use one is a Compose file."""
    return _compose_service_keys() - _PASS_THROUGH


def _strip_extensions(value: Any, key: str | int = "") -> Any:
    """Drop ``x-*`` keys from Compose objects (not from free maps such as labels)."""
    if isinstance(value, Mapping):
        if key in _FREE_MAPS:
            return dict(value)
        return {
            k: _strip_extensions(v, k)
            for k, v in value.items()
            if not (isinstance(k, str) and k.startswith("x-"))
        }
    if isinstance(value, list):
        return [_strip_extensions(v) for v in value]
    return value


def _external(item: dict[str, Any]) -> dict[str, Any]:
    ext = item.get("external")
    if isinstance(ext, Mapping):  # the old form: external: {name: x}
        item["external"] = True
        if "name" in ext and "name" not in item:
            item["name"] = ext["name"]
    return item


def _top_item(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return _external(_strip_extensions(value))
    return value


def _env_files(value: Any, path: PathT, out: Mapped) -> Any:
    if not isinstance(value, str | Mapping | list):
        return value  # the schema has reported it
    items = value if isinstance(value, list) else [value]
    files: list[Any] = []
    for i, item in enumerate(items):
        if isinstance(item, Mapping):
            extra = [k for k in item if k not in ("path", "required")]
            if item.get("required", True) in (False, "false") or extra:
                what = "required: false" if not extra else f"`{extra[0]}`"
                out.problems.append(
                    Unsupported(
                        (*path, i),
                        f"env_file with {what} is not supported by stackctl",
                        "list the file as a plain path (it must exist)",
                    )
                )
                continue
            files.append(item.get("path"))
        else:
            files.append(item)
    return files


def _device(value: Any) -> Any:
    if isinstance(value, Mapping) and "source" in value:
        parts = [str(value["source"]), str(value.get("target") or value["source"])]
        if value.get("permissions"):
            parts.append(str(value["permissions"]))
        return ":".join(parts)
    return value


def unsupported_wording(path: PathT, key: str, known: Sequence[str]) -> tuple[str, str]:
    """How a nested compose key that the model rejects is reported (after mapping).

    The Compose schema has already refused typos, so such a key is valid Compose that
    stackctl cannot honour: no "did you mean" here.
    """
    return f"`{key}` is not supported by stackctl", SERVICE_HINTS.get(key) or _REMOVE
