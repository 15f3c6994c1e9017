#!/usr/bin/env bash
# scripts/test.sh [pytest args...] - the project's one test command (CI runs it too).
#
#   1. Python env: .venv in the repo (python3 -m venv), `pip install -e '.[dev]'`
#      whenever pyproject.toml changed since the last install (hash kept in
#      .venv/.stackctl-installed).
#   2. scripts/ensure-docker.sh        a Docker engine answers (installs/starts dockerd)
#   3. scripts/build-test-images.sh    offline test images exist
#   4. ruff check, mypy, pytest -q "$@"
#
# Every step runs even if an earlier check failed, so one run shows all
# problems; the exit code is pytest's when pytest fails, else 1 if ruff or mypy
# failed, else 0.  (pytest's exit 5, "no tests collected", is passed through.)
#
# Environment: STACKCTL_PYTHON (interpreter for the venv, default python3),
# STACKCTL_SKIP_DOCKER=1 (skip steps 2-3, for a quick lint/unit run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

T_ALL=$SECONDS
section() { printf '\n==== %s ====\n' "$*"; T_STEP=$SECONDS; }
took() { printf -- '---- %s: %ss\n' "$1" "$((SECONDS - T_STEP))"; }
die() { printf 'test.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# --- 1. Python environment ------------------------------------------------
section "python env (.venv)"
PY=${STACKCTL_PYTHON:-python3}
VENV=$ROOT/.venv
STAMP=$VENV/.stackctl-installed
[[ -f pyproject.toml ]] || die "pyproject.toml not found in $ROOT"

if [[ -x $VENV/bin/python ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "existing .venv is broken (its interpreter does not run); recreating"
    rm -rf "$VENV"
fi
if [[ ! -x $VENV/bin/python ]]; then
    echo "creating .venv with $(command -v "$PY") ($("$PY" --version 2>&1))"
    "$PY" -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
fi
# Reinstall when pyproject.toml or the interpreter changed.
want=$( { sha256sum pyproject.toml; "$VENV/bin/python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
have=$(cat "$STAMP" 2>/dev/null || true)
if [[ $want != "$have" ]]; then
    echo "pip install -e '.[dev]'"
    rm -f "$STAMP"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[dev]' \
        || die "pip install -e '.[dev]' failed"
    echo "$want" >"$STAMP"
else
    echo "up to date ($("$VENV/bin/python" --version))"
fi
export PATH=$VENV/bin:$PATH
export VIRTUAL_ENV=$VENV
took "python env"

# --- 2-3. Docker engine and test images ------------------------------------
if [[ ${STACKCTL_SKIP_DOCKER:-0} != 1 ]]; then
    section "docker engine"
    scripts/ensure-docker.sh || die "no Docker engine (see above)"
    took "docker engine"

    section "test images"
    scripts/build-test-images.sh || die "building the test images failed (see above)"
    took "test images"
fi

failed=()

# --- 4a. ruff ----------------------------------------------------------------
section "ruff check"
lint_dirs=()
for d in stackctl tests examples stacks bench; do
    [[ -d $d ]] && lint_dirs+=("$d")
done
if ((${#lint_dirs[@]} == 0)); then
    echo "nothing to lint"
elif ! command -v ruff >/dev/null 2>&1; then
    echo "ruff is not installed in .venv (add it to the [dev] extras)"; failed+=(ruff)
else
    echo "+ ruff check ${lint_dirs[*]}"
    ruff check "${lint_dirs[@]}" || failed+=(ruff)
fi
took "ruff"

# --- 4b. mypy ---------------------------------------------------------------
section "mypy"
if ! command -v mypy >/dev/null 2>&1; then
    echo "mypy is not installed in .venv (add it to the [dev] extras)"; failed+=(mypy)
else
    echo "+ mypy"
    mypy || failed+=(mypy)
fi
took "mypy"

# --- 4c. pytest -------------------------------------------------------------
section "pytest"
echo "+ pytest -q $*"
rc=0
if ((${#failed[@]})); then
    # Keep pytest's summary as the last line of output: report earlier failures first.
    echo "(already failed: ${failed[*]}; running the tests anyway)"
fi
python -m pytest -q "$@" || rc=$?
if ((rc != 0)); then
    exit "$rc"
fi
if ((${#failed[@]})); then
    printf 'test.sh: FAILED: %s (total %ss)\n' "${failed[*]}" "$((SECONDS - T_ALL))" >&2
    exit 1
fi
