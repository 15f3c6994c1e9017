#!/usr/bin/env bash
# scripts/setup-python.sh - a .venv in the repo with stackctl installed (editable, with the
# dev extras); reinstalls only when pyproject.toml or the interpreter changed.
# Environment: STACKCTL_PYTHON (interpreter for the venv, default python3).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${STACKCTL_PYTHON:-python3}
VENV=$ROOT/.venv
STAMP=$VENV/.stackctl-installed
[[ -f pyproject.toml ]] || { echo "pyproject.toml not found in $ROOT" >&2; exit 1; }

if [[ -x $VENV/bin/python ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "existing .venv is broken (its interpreter does not run); recreating"
    rm -rf "$VENV"
fi
if [[ ! -x $VENV/bin/python ]]; then
    echo "creating .venv with $(command -v "$PY") ($("$PY" --version 2>&1))"
    "$PY" -m venv "$VENV" || { echo "python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
want=$( { sha256sum pyproject.toml; "$VENV/bin/python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
have=$(cat "$STAMP" 2>/dev/null || true)
if [[ $want != "$have" ]]; then
    echo "pip install -e '.[dev]'"
    rm -f "$STAMP"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[dev]' \
        || { echo "pip install -e '.[dev]' failed" >&2; exit 1; }
    echo "$want" >"$STAMP"
else
    echo "python env up to date ($("$VENV/bin/python" --version))"
fi
