"""The parts of a service's config that a container and a swarm service take the same way:
its environment (env files read with the one dotenv parser, seeing the ``.env`` beside the
stack; typed secrets; secret sources), health check, process settings and host paths.
Each backend adds its own fields around these.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from stackctl import units
from stackctl.core.config import Finalized
from stackctl.core.dotenv import DotenvError, Variables, chain, read_dotenv_file, variables_for
from stackctl.core.redact import Secrets, digest_key, remember
from stackctl.errors import Diagnostic
from stackctl.model import Condition, Secret, Service, Stack
from stackctl.secrets import looks_secret


class HealthcheckConfig(TypedDict, total=False):
    """A health check (durations in nanoseconds); ``{"test": ["NONE"]}`` disables one."""

    test: list[str]
    interval: int
    timeout: int
    start_period: int
    start_interval: int
    retries: int


class MountBase(TypedDict, total=False):
    """A mount as both backends' configs hold it; each adds its own keys."""

    type: str  # bind | volume | tmpfs
    target: str
    read_only: bool
    source: str
    nocopy: bool
    tmpfs_size: int


class LoggingConfig(TypedDict):
    driver: str | None
    options: dict[str, str]


class ProcessConfig(TypedDict, total=False):
    """The canonical config fields a container and a swarm service share (built by
    :func:`process_config`, plus ``env``); each backend's config extends it. Empty values
    are dropped when finalized, so every key may be absent."""

    image: str
    command: list[str] | None
    entrypoint: list[str] | None
    hostname: str | None
    user: str | None
    working_dir: str | None
    labels: dict[str, str]
    healthcheck: HealthcheckConfig | None
    cap_add: list[str]
    cap_drop: list[str]
    read_only: bool
    extra_hosts: dict[str, str]
    dns: list[str]
    dns_search: list[str]
    stop_signal: str | None
    stop_grace_period: int | None  # nanoseconds
    init: bool | None
    logging: LoggingConfig | None
    sysctls: dict[str, str]
    tty: bool
    stdin_open: bool
    env: dict[str, str]  # sensitive values as digests in the stored config


def host_path(stack: Stack, source: str) -> str:
    """A bind source as an absolute, normalized host path (relative to the stack's folder)."""
    path = Path(os.path.expanduser(source))
    if not path.is_absolute():
        path = stack.base_dir / path
    return os.path.normpath(path)


def config_files(
    stack: Stack, sources: Iterable[str], digest: Callable[[str], str]
) -> dict[str, str]:
    """The single files among bind ``sources`` (absolute host paths) that lie inside the
    stack's folder (a config file such as ``nginx.conf``): their path relative to the
    folder -> ``digest`` of the SHA-256 of their bytes (keyed: a short secret file's digest
    cannot be checked against a dictionary). In a unit's config, so that an edit of the
    file changes the config hash. Folders and files outside the stack's folder are not
    read; a file that cannot be read is left out (the create reports it)."""
    sources = list(sources)
    if not sources:
        return {}
    base = os.path.realpath(stack.base_dir)
    out: dict[str, str] = {}
    for source in sources:
        real = os.path.realpath(source)
        if os.path.commonpath([base, real]) != base or not os.path.isfile(real):
            continue
        try:
            with open(real, "rb") as f:
                content = hashlib.file_digest(f, "sha256").hexdigest()
        except OSError:
            continue
        out[os.path.relpath(source, stack.base_dir)] = digest(content)
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class ServiceEnv:
    """A service's environment with real values, and which keys are never shown."""

    values: dict[str, str]
    sensitive: frozenset[str]

    def secret_values(self) -> set[str]:
        return {v for k, v in self.values.items() if k in self.sensitive}

    def canonical(self) -> dict[str, str]:
        """The environment sorted by key, real values: finalizing (``core/config.py``)
        turns the sensitive ones into digests whatever their length."""
        return dict(sorted(self.values.items()))


def service_env(stack: Stack, service: Service, problems: list[Diagnostic]) -> ServiceEnv:
    """env_file values, then ``environment`` (typed Secrets and secret-looking keys hidden),
    then the service's environment-sourced secrets (``secrets: [x]`` with
    ``secrets.x.environment``). Unreadable env files become ``problems``."""
    env: dict[str, str] = {}
    sensitive: set[str] = set()
    variables: Variables | None = None
    for i, rel in enumerate(service.env_file):
        path = Path(rel) if Path(rel).is_absolute() else stack.base_dir / rel
        if variables is None:
            variables = variables_for(stack.base_dir)[0]  # its problems were loading's
        try:
            values = read_dotenv_file(path, _env_file_lookup(variables, service), display=rel)
        except DotenvError as e:
            problems.append(
                Diagnostic(
                    "error",
                    e.problem,
                    file=str(path),
                    line=e.line,
                    path=f"services.{service.name}.env_file[{i}]",
                    hint=e.hint,
                    code="env-file-invalid",
                )
            )
            continue
        except OSError as e:
            problems.append(
                Diagnostic(
                    "error",
                    f"cannot read env_file {rel!r}: {e.strerror}",
                    file=str(stack.origin) if stack.origin else None,
                    line=stack.line_of(f"services.{service.name}.env_file"),
                    path=f"services.{service.name}.env_file[{i}]",
                    hint="create the file or fix the path (relative to the stack's folder)",
                    code="env-file-missing",
                )
            )
            continue
        env.update(values)
        sensitive.update(values)  # values from an env file are never shown
        remember(*values.values())
    for key, value in service.environment.items():
        if isinstance(value, Secret):
            env[key] = value.value
            sensitive.add(key)
        else:
            env[key] = value
            sensitive.discard(key)
            if looks_secret(key):
                sensitive.add(key)
    for secret in service.secrets:
        src = stack.secrets.get(secret.source)
        if src is not None and not src.file and src.environment:
            key = secret.source.upper()
            env[key] = os.environ.get(src.environment, "")
            sensitive.add(key)
    return ServiceEnv(env, frozenset(sensitive))


def _env_file_lookup(variables: Variables, service: Service) -> Callable[[str], str | None]:
    """What an ``env_file``'s bare keys and ``${VAR}`` references see, as in Compose: the
    stack's variables (process environment, then ``.env``), then the service's
    ``environment``."""
    own = {k: v.value if isinstance(v, Secret) else v for k, v in service.environment.items()}
    return chain(variables.lookup, own.get)


def secret_texts(data: bytes) -> set[str]:
    """A file secret's content as the text to redact wherever it also appears (with and
    without its trailing newline)."""
    text = data.decode("utf-8", errors="ignore")
    out = {t for t in (text, text.strip()) if t}
    remember(*out)
    return out


def file_secret_texts(stack: Stack, service: Service) -> set[str]:
    """The contents of the file secrets ``service`` uses, as text to redact; a file that
    cannot be read is skipped (where it is needed, that is reported elsewhere)."""
    out: set[str] = set()
    for use in service.secrets:
        src = stack.secrets.get(use.source)
        if src is None or not src.file or src.external:
            continue
        try:
            out |= secret_texts(Path(host_path(stack, src.file)).read_bytes())
        except OSError:
            continue
    return out


def secret_target(source: str, target: str | None) -> str:
    """Where a file secret appears in the container (Compose: /run/secrets/<name>)."""
    path = target or source
    return path if path.startswith("/") else f"/run/secrets/{path}"


def healthcheck_config(service: Service) -> HealthcheckConfig | None:
    hc = service.healthcheck
    if hc is None:
        return None
    if hc.disabled:
        return {"test": ["NONE"]}
    out: HealthcheckConfig = {}
    if hc.test is not None:
        out["test"] = list(hc.test)
    if hc.interval is not None:
        out["interval"] = units.parse_duration(hc.interval)
    if hc.timeout is not None:
        out["timeout"] = units.parse_duration(hc.timeout)
    if hc.start_period is not None:
        out["start_period"] = units.parse_duration(hc.start_period)
    if hc.start_interval is not None:
        out["start_interval"] = units.parse_duration(hc.start_interval)
    if hc.retries is not None:
        out["retries"] = hc.retries
    return out


def has_healthcheck(service: Service) -> bool:
    return service.healthcheck is not None and not service.healthcheck.disabled


def process_config(service: Service, image: str) -> ProcessConfig:
    """The config fields a container and a swarm service take the same way; ``image``:
    the reference it runs (``Stack.image_name``)."""
    return {
        "image": image,
        "command": service.command,
        "entrypoint": service.entrypoint,
        "hostname": service.hostname,
        "user": service.user,
        "working_dir": service.working_dir,
        "labels": dict(sorted(service.labels.items())),
        "healthcheck": healthcheck_config(service),
        "cap_add": sorted(service.cap_add),
        "cap_drop": sorted(service.cap_drop),
        "read_only": service.read_only,
        "extra_hosts": dict(sorted(service.extra_hosts.items())),
        "dns": list(service.dns),
        "dns_search": list(service.dns_search),
        "stop_signal": service.stop_signal,
        "stop_grace_period": (
            units.parse_duration(service.stop_grace_period) if service.stop_grace_period else None
        ),
        "init": service.init,
        "logging": (
            {"driver": service.logging.driver, "options": dict(service.logging.options)}
            if service.logging
            else None
        ),
        "sysctls": dict(service.sysctls),
        "tty": service.tty,
        "stdin_open": service.stdin_open,
    }


class UnitFields(TypedDict):
    """The fields a desired container and a desired swarm service share, built one way."""

    stack: str
    service: str
    image: str
    config: dict[str, Any]
    config_hash: str
    legacy_hash: str  # the same config's hash under earlier versions' unkeyed digests
    env: dict[str, str]
    sensitive: frozenset[str]
    depends_on: dict[str, Condition]
    has_healthcheck: bool


def stack_secrets(stack: Stack, problems: list[Diagnostic] | None = None) -> Secrets:
    """Every secret value of ``stack``, whichever service or field it came from (typed
    Secrets, secret-looking keys and variables, env_file values, environment-sourced and
    file secrets), with the stack's digest key: a value hidden in one service is hidden in
    every other service's command, health check or labels, and in networks."""
    values: set[str] = set(stack.secret_values)
    for service in stack.services.values():
        values |= service_env(stack, service, [] if problems is None else problems).secret_values()
        values |= file_secret_texts(stack, service)
    return Secrets.of(values, digest_key(stack.name))


def unit_fields(
    stack: Stack, service: Service, config: Finalized[Any], env: ServiceEnv
) -> UnitFields:
    return UnitFields(
        stack=stack.name,
        service=service.name,
        image=stack.image_name(service),
        config=config.config,
        config_hash=config.hash,
        legacy_hash=config.legacy_hash,
        env=env.values,
        sensitive=env.sensitive,
        depends_on={k: v.condition for k, v in service.depends_on.items()},
        has_healthcheck=has_healthcheck(service),
    )
