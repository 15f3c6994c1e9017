"""A fast yes/no answer to "does this document satisfy the schema?", before jsonschema.

jsonschema interprets a schema for every value it checks: about half a second for a
compose file of 1,000 services. fastjsonschema compiles the same schema to plain Python
once, and that code answers the same question some ten times faster. It only answers
yes or no: when the answer is no, jsonschema runs as before and every message keeps its
wording and its location.

The compiled code is cached (as bytecode) under ``$XDG_CACHE_HOME/stackctl/schema-checks``
(default ``~/.cache``), named by a hash of the schema and of fastjsonschema's version, so a
changed schema (a new stackctl, a changed model) compiles anew. Compiling costs about
0.4 s, once per schema and machine; where the cache cannot be written it is paid on each
run, and where fastjsonschema cannot compile a schema jsonschema decides alone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import marshal
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Check = Callable[[Any], object]

_OPTIONS = {"use_default": False, "use_formats": False}
"""A check must never fill in defaults (that would change the data), and jsonschema, as
stackctl runs it, checks no formats."""
_CHECKS: dict[str, Check | None] = {}
_BY_SCHEMA: dict[int, tuple[Mapping[str, Any], Check | None]] = {}  # keeps the schema alive


def satisfies(schema: Mapping[str, Any], data: Any) -> bool:
    """True when ``data`` certainly satisfies ``schema``; False means "ask jsonschema"."""
    check = _check_for(schema)
    if check is None:
        return False
    try:
        check(data)
    except Exception:  # fastjsonschema's refusal, or data it cannot handle: jsonschema decides
        return False
    return True


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stackctl" / "schema-checks"


def _check_for(schema: Mapping[str, Any]) -> Check | None:
    known = _BY_SCHEMA.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    check = _compiled(json.dumps(schema, sort_keys=True))
    _BY_SCHEMA[id(schema)] = (schema, check)
    return check


def _compiled(text: str) -> Check | None:
    try:
        import fastjsonschema
    except ImportError:
        return None
    # The cache holds compiled bytecode: keyed by the interpreter's bytecode version too.
    salt = f"{fastjsonschema.VERSION} {_OPTIONS}\n{importlib.util.MAGIC_NUMBER.hex()}\n{text}"
    key = hashlib.sha256(salt.encode()).hexdigest()[:32]
    if key not in _CHECKS:
        _CHECKS[key] = _load(key, text, fastjsonschema)
    return _CHECKS[key]


def _load(key: str, text: str, fastjsonschema: Any) -> Check | None:
    path = cache_dir() / f"check_{key}.bin"
    try:
        code = marshal.loads(path.read_bytes())
    except Exception:  # not cached yet, or a damaged file: compile (again)
        try:
            code = compile(_source(text, fastjsonschema), str(path), "exec")
        except Exception:  # fastjsonschema cannot compile this schema: jsonschema decides
            return None
        store(path, marshal.dumps(code))
    namespace: dict[str, Any] = {}
    try:
        exec(code, namespace)  # the code fastjsonschema generated from our own schema
    except Exception:
        return None
    entry = namespace.get("stackctl_entry")
    return entry if callable(entry) else None


def store(path: Path, data: bytes) -> None:
    """Write the cache file atomically (a concurrent run reads a whole file or none); a
    cache that cannot be written costs the compile on each run, nothing else."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".check-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        pass


def _source(text: str, fastjsonschema: Any) -> str:
    # A fresh copy of the schema: compiling changes it.
    code: str = fastjsonschema.compile_to_code(json.loads(text), **_OPTIONS)
    # The first function checks the whole document (the others check its definitions);
    # its name follows the schema's $id, so it is recorded by position.
    entry = re.search(r"^def (\w+)\(", code, re.MULTILINE)
    if entry is None:
        raise ValueError("fastjsonschema generated no function")
    return f"{code}\n\nstackctl_entry = {entry.group(1)}\n"
