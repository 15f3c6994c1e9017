"""Ownership labels and the canonical hashing both backends use.

Every resource stackctl creates carries ``io.stackctl.stack`` and a config hash over the
canonical JSON of what shapes it; the canonical config itself is stored in a label so that
a later plan can show field-level differences.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from stackctl.core.redact import is_digest as is_digest  # the digest forms live there

LABEL_STACK = "io.stackctl.stack"
LABEL_SERVICE = "io.stackctl.service"
LABEL_NUMBER = "io.stackctl.container-number"
LABEL_NETWORK = "io.stackctl.network"
LABEL_VOLUME = "io.stackctl.volume"
LABEL_HASH = "io.stackctl.config-hash"
LABEL_CONFIG = "io.stackctl.config"
LABEL_ONESHOT = "io.stackctl.oneshot"
LABEL_ONEOFF = "io.stackctl.oneoff"  # stackctl run: STACK/SERVICE (no stack label: not a unit)
LABEL_SECRET = "io.stackctl.secret"  # a swarm secret: the key of the stack's secret

COMPOSE_PROJECT = "com.docker.compose.project"  # the label docker compose sets
# docker compose's other labels (v1 and v2 write the same ones)
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_NUMBER = "com.docker.compose.container-number"
COMPOSE_ONEOFF = "com.docker.compose.oneoff"  # docker compose run: never adopted
COMPOSE_NETWORK = "com.docker.compose.network"
COMPOSE_VOLUME = "com.docker.compose.volume"
# On the adoption record volume (backends/docker/adopt.py): the compose project adopted
LABEL_ADOPTED = "io.stackctl.adopted"
STACK_NAMESPACE = "com.docker.stack.namespace"  # the label `docker stack deploy` sets

TEMP_SUFFIX = "_stackctl-new"


def temp_name(name: str) -> str:
    """The name a replacement container has until the old one is gone."""
    return f"{name}{TEMP_SUFFIX}"


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def drop_empty(config: Mapping[str, Any]) -> dict[str, Any]:
    """Drop empty values so adding a new optional field later does not change old hashes."""
    return {k: v for k, v in config.items() if v not in (None, [], {}, False)}


def config_from_labels(labels: Mapping[str, str]) -> dict[str, Any] | None:
    """The canonical config a resource was made with (None: unknown or unreadable)."""
    raw = labels.get(LABEL_CONFIG)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
