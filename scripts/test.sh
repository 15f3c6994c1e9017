#!/usr/bin/env bash
# scripts/test.sh [pytest args...] - the project's one test command (CI runs it too).
#
#   1. Python env: .venv in the repo (python3 -m venv), `pip install -e '.[dev]'`
#      whenever pyproject.toml changed since the last install (hash kept in
#      .venv/.stackctl-installed).
#   2. scripts/ensure-docker.sh        a Docker engine answers (installs/starts dockerd)
#   3. scripts/build-test-images.sh    offline test images exist
#      scripts/install-test-tools.sh   docker-registry, htpasswd, sshd, docker-compose (apt, idempotent)
#      scripts/engine26.sh start         a second engine, Docker 26.1 (API 1.45), in its
#                                        own namespaces, started in the background while
#                                        ruff and mypy run; stopped on exit (trap), even
#                                        when tests fail.  If it cannot start: a loud
#                                        WARNING and the tests run on the host engine only.
#   4. ruff check, mypy, pytest -q "$@"; then (full runs) the swarm test-bed tests
#
# Every step runs even if an earlier check failed, so one run shows all
# problems; the exit code is pytest's when pytest fails, else 1 if ruff or mypy
# failed, else 0.  (pytest's exit 5, "no tests collected", is passed through.)
#
# Environment: STACKCTL_PYTHON (interpreter for the venv, default python3),
# STACKCTL_SKIP_DOCKER=1 (skip steps 2-3, for a quick lint/unit run),
# STACKCTL_ENGINE26=0 (host engine only; so does passing --engines=host).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

T_ALL=$SECONDS
section() { printf '\n==== %s ====\n' "$*"; T_STEP=$SECONDS; }
took() { printf -- '---- %s: %ss\n' "$1" "$((SECONDS - T_STEP))"; }
die() { printf 'test.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# --- second engine (scripts/engine26.sh): wanted unless --engines leaves it out ---
E26_DIR=$(mktemp -d /tmp/stackctl-engine26.XXXXXX)
E26_PREP="" E26_PID="" E26_STARTED=""
engine26_wanted() {
    [[ ${STACKCTL_ENGINE26:-1} != 0 ]] || return 1
    local a prev=""
    for a in "$@"; do
        if [[ $a == --engines=* ]]; then [[ $a == *engine26* ]] || return 1; fi
        if [[ $prev == --engines ]]; then [[ $a == *engine26* ]] || return 1; fi
        prev=$a
    done
    return 0
}
engine26_warning() {
    export STACKCTL_ENGINE26_UNAVAILABLE=$1
    unset STACKCTL_ENGINE26_HOST
    printf '\n%s\n' "########################################################################" >&2
    printf 'WARNING: the second engine (Docker 26.1, API 1.45) is NOT tested in this run:\n' >&2
    printf 'WARNING: %s\n' "$1" >&2
    printf 'WARNING: the integration tests run on the host engine only.\n' >&2
    printf '%s\n\n' "########################################################################" >&2
}
# Stop it on every exit (tests failed, set -e, Ctrl-C); quietly, so that pytest's summary
# stays the last line.  With --lease, a run that shares the engine keeps it running.
on_exit() {
    local rc=$?
    if [[ -n $E26_PID ]]; then wait "$E26_PID" 2>/dev/null || true; fi
    if [[ -n $E26_STARTED ]] && ! scripts/engine26.sh stop --lease $$ >"$E26_DIR/stop.log" 2>&1; then
        cat "$E26_DIR/stop.log" >&2
        printf 'test.sh: WARNING: scripts/engine26.sh stop failed (see above)\n' >&2
    fi
    rm -rf "$E26_DIR"
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. Python environment ------------------------------------------------
section "python env (.venv)"
VENV=$ROOT/.venv
scripts/setup-python.sh || die "setting up .venv failed (see above)"
export PATH=$VENV/bin:$PATH
export VIRTUAL_ENV=$VENV
took "python env"

# --- 2-3. Docker engine and test images ------------------------------------
if [[ ${STACKCTL_SKIP_DOCKER:-0} != 1 ]]; then
    section "docker engine"
    scripts/ensure-docker.sh || die "no Docker engine (see above)"
    took "docker engine"

    section "test images"
    if engine26_wanted "$@"; then
        # The rootfs (debootstrap once, then cached) is ready while the images build.
        scripts/engine26.sh prepare >"$E26_DIR/prepare.log" 2>&1 &
        E26_PREP=$!
    fi
    scripts/build-test-images.sh || die "building the test images failed (see above)"
    took "test images"

    section "test tools (registry, htpasswd, sshd)"
    scripts/install-test-tools.sh || die "installing the test tools failed (see above)"
    took "test tools"

    if engine26_wanted "$@"; then
        section "second engine (Docker 26.1), in the background"
        wait "$E26_PREP" || true
        E26_STARTED=1  # from here on the EXIT trap stops it
        scripts/engine26.sh start --lease $$ >"$E26_DIR/url" 2>"$E26_DIR/start.log" &
        E26_PID=$!
        echo "scripts/engine26.sh start (log: $E26_DIR/start.log)"
    fi
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
if [[ -n $E26_PID ]]; then
    section "second engine (Docker 26.1)"
    if wait "$E26_PID" && [[ $(tail -n 1 "$E26_DIR/url") == unix://* ]]; then
        cat "$E26_DIR/prepare.log" "$E26_DIR/start.log" 2>/dev/null || true
        STACKCTL_ENGINE26_HOST=$(tail -n 1 "$E26_DIR/url")
        export STACKCTL_ENGINE26_HOST
        echo "integration tests run on the host engine and on $STACKCTL_ENGINE26_HOST"
    else
        tail -n 20 "$E26_DIR/prepare.log" 2>/dev/null || true
        tail -n 30 "$E26_DIR/start.log" 2>/dev/null || true
        engine26_warning "scripts/engine26.sh start failed (see above; log /var/log/stackctl-engine26.log)"
    fi
    took "second engine"
fi

section "pytest"
echo "+ pytest -q $*"
rc=0
if ((${#failed[@]})); then
    # Keep pytest's summary as the last line of output: report earlier failures first.
    echo "(already failed: ${failed[*]}; running the tests anyway)"
fi
python -m pytest -q "$@" || rc=$?

# --- 4d. swarm test-bed (--engine swarm) --------------------------------------
# tests/integration/swarm run only with STACKCTL_SWARM_TESTS=1: their conftest brings up
# the three-node test-bed (scripts/swarm-testbed.sh: three dockerds in network namespaces,
# never the host engine) and tears it down even when tests fail. Full runs only (no
# pytest args); STACKCTL_SKIP_SWARM=1 skips it.
if ((rc == 0 && $# == 0)) && [[ ${STACKCTL_SKIP_DOCKER:-0} != 1 && ${STACKCTL_SKIP_SWARM:-0} != 1 ]]; then
    section "pytest (swarm test-bed)"
    echo "+ STACKCTL_SWARM_TESTS=1 pytest -q tests/integration/swarm"
    STACKCTL_SWARM_TESTS=1 python -m pytest -q tests/integration/swarm || rc=$?
    took "swarm"
fi
if ((rc != 0)); then
    exit "$rc"
fi
if ((${#failed[@]})); then
    printf 'test.sh: FAILED: %s (total %ss)\n' "${failed[*]}" "$((SECONDS - T_ALL))" >&2
    exit 1
fi
