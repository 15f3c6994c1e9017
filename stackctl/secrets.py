"""What counts as a secret, by name: one rule shared by the loaders, validation and the
desired state (which hides such values in labels, plans and progress)."""

from __future__ import annotations

import re

_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|(^|_)KEY($|_)|API_?KEY|PRIVATE", re.I)


def looks_secret(name: str) -> bool:
    """An environment variable name that by convention holds a secret."""
    return bool(_SECRET_NAME.search(name))
