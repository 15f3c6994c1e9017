"""Redaction: every occurrence of a secret value replaced by its digest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stackctl.core.labels import secret_digest

MIN_REDACTED = 4  # shorter "secrets" would blank out ordinary text everywhere


def redact(data: Any, secrets: Iterable[str]) -> Any:
    """``data`` (strings, dicts, lists) with every secret value replaced by its digest."""
    values = sorted((s for s in set(secrets) if len(s) >= MIN_REDACTED), key=len, reverse=True)
    if not values:
        return data

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            for value in values:
                if value in item:
                    item = item.replace(value, secret_digest(value))
            return item
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(data)
