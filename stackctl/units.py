"""Parsing of the small languages inside a stack: durations, sizes, image references."""

from __future__ import annotations

import re

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}


def parse_duration(text: str) -> int:
    """``"1m30s"`` -> nanoseconds. Raises ValueError with a message for people."""
    s = text.strip()
    if not s:
        raise ValueError("empty duration; use e.g. '5s', '1m30s', '500ms'")
    pos = 0
    total = 0.0
    while m := _DURATION_PART.match(s, pos):  # anchored at pos: linear, unlike finditer
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise ValueError(f"malformed duration {text!r}; use e.g. '5s', '1m30s', '500ms'")
    return int(total)


_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """``"2048M"`` -> bytes (binary units, as Docker and Compose read them)."""
    m = _SIZE_RE.match(text.strip())
    if not m:
        raise ValueError(f"malformed size {text!r}; use e.g. '512m', '2048M', '1g'")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


# The distribution reference grammar (docker/distribution reference/regexp.go), simplified.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*(?::\d+)?)"
_IMAGE_RE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)


def check_image_reference(ref: str) -> None:
    if not _IMAGE_RE.match(ref):
        raise ValueError(
            f"malformed image reference {ref!r}; use NAME[:TAG][@DIGEST], "
            "lowercase, e.g. 'postgres:16' or 'ghcr.io/owner/app:1.2'"
        )


def split_image(ref: str) -> tuple[str, str | None, str | None]:
    """``"ghcr.io/a/b:1@sha256:.."`` -> (repository, tag, digest)."""
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    name, tag = ref, None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        name, tag = ref[:colon], ref[colon + 1 :]
    return name, tag, digest


def image_with_tag(ref: str) -> str:
    """The reference Docker resolves: ``nginx`` means ``nginx:latest``."""
    name, tag, digest = split_image(ref)
    if digest:
        return ref
    return f"{name}:{tag or 'latest'}"
