#!/usr/bin/env bash
# scripts/ensure-docker.sh - make sure a Docker engine answers.
#
# If `docker version` already reaches a server on DOCKER_HOST (or the default
# socket), do nothing.  Otherwise install Debian's docker.io (and iptables) if
# dockerd is missing, start dockerd in the background and wait for it.
#
#   log:      /var/log/stackctl-dockerd.log  (STACKCTL_DOCKERD_LOG)
#   pidfile:  /run/stackctl-dockerd.pid      (STACKCTL_DOCKERD_PIDFILE)
#   timeout:  60 s                            (STACKCTL_DOCKERD_WAIT)
#
# Gotchas handled here:
#   * /usr/local/bin/docker may be a newer CLI (v28) than Debian's engine
#     (20.10, API 1.41).  The CLI negotiates the API version, so this works;
#     if it ever does not, we retry with DOCKER_API_VERSION=1.41 and tell you.
#   * Debian's iptables defaults to the nft backend; if that does not work on
#     this kernel we switch to iptables-legacy, and as a last resort start
#     dockerd with --iptables=false (no NAT, but containers and published
#     ports on localhost still work).
#
# Idempotent: safe to run any number of times; the second run takes < 1 s.
set -euo pipefail
# Our scripts run apt side by side (test images, the second engine's rootfs): one at a time.
apt_get() { flock /var/lock/stackctl-apt.lock apt-get -o DPkg::Lock::Timeout=600 "$@"; }

# dockerd, iptables and runc live in /usr/sbin; make sure we find them.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;; esac
export PATH

LOG=${STACKCTL_DOCKERD_LOG:-/var/log/stackctl-dockerd.log}
PIDFILE=${STACKCTL_DOCKERD_PIDFILE:-/run/stackctl-dockerd.pid}
WAIT=${STACKCTL_DOCKERD_WAIT:-60}
DEFAULT_HOST=unix:///var/run/docker.sock
HOST=${DOCKER_HOST:-$DEFAULT_HOST}

say() { echo "[ensure-docker] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Does the docker CLI reach a server?  (Short timeout: a dead socket must not hang us.)
engine_ok() {
    command -v docker >/dev/null 2>&1 || return 1
    timeout 15 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# Fallback probe without the CLI: the python docker SDK, if importable.
sdk_ok() {
    command -v python3 >/dev/null 2>&1 || return 1
    timeout 15 python3 - <<'PY' >/dev/null 2>&1
import docker
docker.from_env(timeout=10).ping()
PY
}

report_ok() {
    local v
    v=$(timeout 15 docker version --format 'client {{.Client.Version}} (API {{.Client.APIVersion}}), engine {{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || true)
    say "docker engine is up on ${HOST}: ${v:-ok}"
}

check_cli_compat() {
    # Called once the socket answers.  Make sure the CLI on PATH can talk to it.
    if engine_ok; then
        return 0
    fi
    if DOCKER_API_VERSION=1.41 timeout 15 docker version >/dev/null 2>&1; then
        say "WARNING: $(command -v docker) only works with DOCKER_API_VERSION=1.41;"
        say "         export DOCKER_API_VERSION=1.41 (or put /usr/bin before /usr/local/bin in PATH)."
        return 0
    fi
    if [[ -x /usr/bin/docker ]] && timeout 15 /usr/bin/docker version >/dev/null 2>&1; then
        say "WARNING: $(command -v docker) cannot talk to the engine but /usr/bin/docker can;"
        say "         put /usr/bin before /usr/local/bin in PATH."
        return 0
    fi
    return 1
}

if engine_ok; then
    report_ok
    exit 0
fi
if sdk_ok; then
    say "docker SDK ping answered on ${HOST} (the docker CLI did not)"
    check_cli_compat || say "WARNING: the docker CLI cannot talk to the engine"
    exit 0
fi

[[ $HOST == unix://* ]] || die "DOCKER_HOST=${HOST} does not answer and is not a local unix socket; refusing to start a local dockerd for it. Unset DOCKER_HOST to use the default socket."
SOCK=${HOST#unix://}

[[ $(id -u) -eq 0 ]] || die "no docker engine answers on ${HOST} and we are not root, so we cannot start one"

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_install() {
    if [[ $APT_UPDATED -eq 0 ]]; then
        say "apt-get update"
        apt_get update -qq >/dev/null || die "apt-get update failed"
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    apt_get install -y -qq --no-install-recommends "$@" >/dev/null \
        || die "apt-get install $* failed"
}

# --- install what is missing ---------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
# docker.io depends on these (and tini = docker-init for `docker run --init`);
# listed in case someone removed them while keeping docker.io.
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v runc >/dev/null 2>&1 || need+=(runc)
if ((${#need[@]})); then
    # Without a policy-rc.d the docker.io postinst may start its own dockerd
    # through /etc/init.d (untracked, other log).  Forbid that during install.
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_install "${need[@]}"
    if [[ -n $(trap -p EXIT) ]]; then rm -f "$policy"; trap - EXIT; fi
fi
command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after installing docker.io"
command -v docker >/dev/null 2>&1 || die "no docker CLI (docker.io should provide /usr/bin/docker)"

# --- is a dockerd already starting/running? -------------------------------
# Alive = exists and is not a zombie (a killed dockerd whose parent does not
# reap it stays in /proc as a zombie and still answers kill -0).
pid_alive() {
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
    ! grep -qE '^State:[[:space:]]+[ZX]' "/proc/$1/status" 2>/dev/null
}

wait_for_engine() {
    local pid=${1:-} deadline=$((SECONDS + WAIT))
    while ((SECONDS < deadline)); do
        if [[ -S $SOCK ]] && engine_ok; then return 0; fi
        if [[ -S $SOCK ]] && check_cli_compat 2>/dev/null; then return 0; fi
        if [[ -n $pid ]] && ! pid_alive "$pid"; then return 2; fi
        sleep 0.5
    done
    return 1
}

existing=""
if [[ -f $PIDFILE ]] && pid_alive "$(cat "$PIDFILE")"; then
    existing=$(cat "$PIDFILE")
elif [[ -f /var/run/docker.pid ]] && pid_alive "$(cat /var/run/docker.pid)" \
     && [[ $(cat "/proc/$(cat /var/run/docker.pid)/comm" 2>/dev/null) == dockerd ]]; then
    existing=$(cat /var/run/docker.pid)
fi
if [[ -n $existing ]]; then
    say "dockerd (pid ${existing}) is already running but not answering yet; waiting up to ${WAIT}s"
    rc=0; wait_for_engine "$existing" || rc=$?
    if [[ $rc -eq 0 ]]; then report_ok; exit 0; fi
    [[ $rc -eq 2 ]] || die "dockerd pid ${existing} is running but does not answer on ${HOST}; see ${LOG} (stop it and re-run)"
    say "dockerd pid ${existing} exited; starting a new one"
fi

# --- iptables backend -----------------------------------------------------
DOCKERD_EXTRA=()
iptables_works() { timeout 10 iptables -t nat -L -n >/dev/null 2>&1 && timeout 10 iptables -t filter -L -n >/dev/null 2>&1; }
if command -v iptables >/dev/null 2>&1; then
    if ! iptables_works; then
        if command -v iptables-legacy >/dev/null 2>&1 && command -v update-alternatives >/dev/null 2>&1; then
            say "iptables (nft backend) does not work here; switching to iptables-legacy"
            update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1 || true
            update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
        fi
        if ! iptables_works; then
            say "WARNING: iptables does not work on this kernel; starting dockerd with --iptables=false"
            DOCKERD_EXTRA+=(--iptables=false --ip-masq=false)
        fi
    fi
else
    DOCKERD_EXTRA+=(--iptables=false --ip-masq=false)
fi
# Extra flags from the caller, e.g. STACKCTL_DOCKERD_ARGS="--storage-driver=vfs".
if [[ -n ${STACKCTL_DOCKERD_ARGS:-} ]]; then
    read -r -a _extra <<<"$STACKCTL_DOCKERD_ARGS"
    DOCKERD_EXTRA+=("${_extra[@]}")
fi

# --- start dockerd --------------------------------------------------------
# A dockerd/containerd killed with the previous session leaves pidfiles behind;
# if such a pid now belongs to some other process, dockerd refuses to start (or
# waits for a "running" containerd that is not there).  Drop those.
clear_stale_pidfile() {  # $1 file, $2 expected process name
    local f=$1 p
    [[ -f $f ]] || return 0
    p=$(cat "$f" 2>/dev/null || true)
    if [[ -z $p ]] || ! pid_alive "$p" || [[ $(cat "/proc/$p/comm" 2>/dev/null) != "$2" ]]; then
        rm -f "$f"
    fi
}
clear_stale_pidfile /var/run/docker.pid dockerd
clear_stale_pidfile /var/run/docker/containerd/containerd.pid containerd
mkdir -p "$(dirname "$LOG")" "$(dirname "$PIDFILE")" "$(dirname "$SOCK")"
# A dead dockerd may have left its socket/pidfile behind; dockerd refuses to
# start over a live pidfile only, but a stale socket confuses our wait loop.
if [[ -S $SOCK ]]; then rm -f "$SOCK"; fi

# --- a CPU cgroup of its own, as a service manager would give it -----------
# Under systemd, dockerd runs in docker.service (system.slice) and a person's commands in
# user.slice, so on a busy host each side still gets its share of the CPU. Started from a
# shell, dockerd, containerd, every container's shim and every health check's runc would
# share the shell's cgroup and compete with its commands thread for thread: with 100
# health-checked containers, a 0.3 s `stackctl plan` then waits 1-2 s for a CPU. So where
# no systemd runs and the cgroup v1 cpu controller is writable, dockerd (with everything it
# starts) goes into /stackctl-docker/daemon and the containers into
# /stackctl-docker/containers. STACKCTL_DOCKERD_CGROUP=0 turns this off; other cgroup
# layouts (v2 without systemd) are left as they are.
CGROUP_PROCS=""
CPU_CGROUPS=/sys/fs/cgroup/cpu
if [[ ${STACKCTL_DOCKERD_CGROUP:-1} != 0 && ! -d /run/systemd/system \
      && -f $CPU_CGROUPS/cgroup.procs && -w $CPU_CGROUPS ]] \
   && mkdir -p "$CPU_CGROUPS/stackctl-docker/daemon" "$CPU_CGROUPS/stackctl-docker/containers" 2>/dev/null; then
    CGROUP_PROCS=$CPU_CGROUPS/stackctl-docker/daemon/cgroup.procs
    if ! printf '%s\n' "${DOCKERD_EXTRA[@]:-}" | grep -q -- '--cgroup-parent'; then
        DOCKERD_EXTRA+=(--cgroup-parent=/stackctl-docker/containers)
    fi
fi

start_dockerd() {
    say "starting dockerd ${DOCKERD_EXTRA[*]:-} (log: ${LOG})"
    {
        echo "==== $(date -Is) ensure-docker.sh: dockerd -H ${HOST} ${DOCKERD_EXTRA[*]:-}"
    } >>"$LOG"
    # setsid + nohup: keep running after this script (and its session) exits. The shell
    # joins the cgroup first and then becomes dockerd (same pid), so containerd and all
    # that dockerd starts are born in it.
    setsid nohup sh -c '[ -z "$1" ] || echo $$ 2>/dev/null >"$1" || echo "ensure-docker.sh: could not join $1" >&2
        shift; exec "$@"' sh \
        "$CGROUP_PROCS" dockerd -H "$HOST" "${DOCKERD_EXTRA[@]}" </dev/null >>"$LOG" 2>&1 &
    DPID=$!
    echo "$DPID" >"$PIDFILE"
}

start=$SECONDS
start_dockerd
rc=0; wait_for_engine "$DPID" || rc=$?
if [[ $rc -eq 2 ]] && ! printf '%s\n' "${DOCKERD_EXTRA[@]:-}" | grep -q -- '--iptables=false' \
   && tail -n 30 "$LOG" | grep -qiE 'iptables|nat|bridge'; then
    say "dockerd exited with an iptables/bridge error; retrying with --iptables=false"
    DOCKERD_EXTRA+=(--iptables=false --ip-masq=false)
    start_dockerd
    rc=0; wait_for_engine "$DPID" || rc=$?
fi
if [[ $rc -ne 0 ]]; then
    say "dockerd did not answer on ${HOST} within ${WAIT}s (rc=${rc}); last lines of ${LOG}:"
    tail -n 40 "$LOG" >&2 || true
    die "could not start dockerd"
fi
# The CPU cgroup of a process: its cpu controller's (v1) or its unified (v2) line.
cpu_cgroup_of() {
    awk -F: '$2 ~ /(^|,)cpu(,|$)/ {v1 = $3} $2 == "" {v2 = $3} END {print (v1 != "" ? v1 : v2)}' \
        "/proc/$1/cgroup" 2>/dev/null
}
say "dockerd (pid ${DPID}) answered after $((SECONDS - start))s; CPU cgroup $(cpu_cgroup_of "$DPID")"
check_cli_compat || die "dockerd runs but the docker CLI cannot talk to it"
report_ok
