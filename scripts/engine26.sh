#!/usr/bin/env bash
# scripts/engine26.sh - a second Docker engine (Docker 26.1 from Debian trixie,
# Engine API 1.45) beside the host's engine, for the integration tests.
#
#   scripts/engine26.sh prepare           rootfs only (build/cache/extract), no daemon
#   scripts/engine26.sh start [--lease ID]  prints the socket URL on stdout, e.g.
#                                         unix:///run/stackctl-engine26/docker.sock
#   scripts/engine26.sh stop [--lease ID]   tears everything down
#   scripts/engine26.sh status            exit 0 when the engine answers
#
# How it runs (never in the host's namespaces: a dockerd in the host's network
# namespace breaks the host engine's docker0 bridge):
#   * rootfs: `debootstrap --variant=minbase --include=docker.io,iptables,...
#     trixie`, cached as $CACHE/engine26-trixie.tar (~45 s once, then reused;
#     STACKCTL_TEST_CACHE, default /var/cache/stackctl-test) and extracted to
#     $STATE/rootfs (default /var/lib/stackctl-engine26; kept across runs).
#   * network: its own network namespace `stackctl-e26`, a veth pair into the
#     host bridge `sct-e26` (10.226.26.1/24; the engine is 10.226.26.2), one
#     `iptables -I FORWARD -i sct-e26 -o sct-e26 -j ACCEPT` on the host.  No
#     default route: nothing the test engine runs can reach beyond this host.
#   * mounts: a private mount namespace (unshare -m) holding the rootfs bound
#     onto itself, proc, sysfs, /sys/fs/cgroup and /dev (rbind), a tmpfs /run,
#     the data root $STATE/data on /var/lib/docker and the host folder
#     /run/stackctl-engine26 (socket + pidfile); then pivot_root into the rootfs
#     (with chroot, `docker exec` would land in the host's filesystem).  The
#     mounts exist only in that namespace, so they vanish with the daemon.
#   * images: stackctl-test/busybox:1 and stackctl-test/debian:bookworm are
#     copied in from the host engine (docker save | docker load) when missing
#     or different (same image id on both engines).
#   * each fresh start removes containers, networks and volumes a previous run
#     left in the test engine (it belongs to the tests alone).
#
# Leases: several test runs on one machine may share the engine.  `start
# --lease ID` records ID (a pid, e.g. the test script's $$); `stop --lease ID`
# drops it and tears down only when no live lease is left (a pid lease ends with
# its process; a `start` without --lease holds until a plain `stop`).  `stop`
# without --lease tears down at once.
#
# `stop` leaves the host as it was: dockerd (and every process left in its
# network namespace) stopped, namespace, veth, bridge and iptables rule gone.
# Log: /var/log/stackctl-engine26.log (STACKCTL_ENGINE26_LOG).
set -euo pipefail
# Our scripts run apt side by side (test images, the second engine's rootfs): one at a time.
apt_get() { flock /var/lock/stackctl-apt.lock apt-get -o DPkg::Lock::Timeout=600 "$@"; }
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;; esac
export PATH

CACHE=${STACKCTL_TEST_CACHE:-/var/cache/stackctl-test}
STATE=${STACKCTL_ENGINE26_STATE:-/var/lib/stackctl-engine26}
LOG=${STACKCTL_ENGINE26_LOG:-/var/log/stackctl-engine26.log}
WAIT=${STACKCTL_ENGINE26_WAIT:-60}
ROOT=$STATE/rootfs
DATA=$STATE/data
TAR=$CACHE/engine26-trixie.tar
RUNDIR=/run/stackctl-engine26
SOCK=$RUNDIR/docker.sock
URL=unix://$SOCK
PIDFILE=$RUNDIR/docker.pid
LEASES=$RUNDIR/leases
NETNS=stackctl-e26
BRIDGE=sct-e26
VETH_HOST=sct-e26h
VETH_NS=sct-e26n
HOST_ADDR=10.226.26.1/24
NS_ADDR=10.226.26.2/24
SUITE=trixie
INCLUDE=docker.io,iptables,ca-certificates
RECIPE_VERSION=1
IMAGES=(stackctl-test/busybox:1 stackctl-test/debian:bookworm)

say() { echo "[engine26] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
T0=$SECONDS

d26() { timeout 60 docker -H "$URL" "$@"; }
engine_ok() { [[ -S $SOCK ]] && timeout 10 docker -H "$URL" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
pid_alive() {
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
    ! grep -qE '^State:[[:space:]]+[ZX]' "/proc/$1/status" 2>/dev/null
}
netns_inode() { stat -Lc %i "/var/run/netns/$NETNS" 2>/dev/null || true; }
# The dockerd this script started: pidfile + comm + its network namespace is ours.
our_dockerd() {
    local p
    p=$(cat "$PIDFILE" 2>/dev/null || true)
    pid_alive "$p" || return 1
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == dockerd ]] || return 1
    [[ -n $(netns_inode) && $(stat -Lc %i "/proc/$p/ns/net" 2>/dev/null) == "$(netns_inode)" ]] || return 1
    echo "$p"
}

# ------------------------------------------------------------------ rootfs
recipe() { printf '%s\n' "$RECIPE_VERSION" "$SUITE" "$INCLUDE" | sha256sum | cut -c1-16; }

debian_mirror() {
    if [[ -n ${STACKCTL_DEBIAN_MIRROR:-} ]]; then echo "${STACKCTL_DEBIAN_MIRROR%/}"; return; fi
    local f m=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        m=$(awk 'tolower($1) == "uris:" && $2 !~ /security/ { print $2; exit }' "$f")
        [[ -n $m ]] && break
    done
    if [[ -z $m ]]; then
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [[ -f $f ]] || continue
            m=$(sed -E 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }')
            [[ -n $m ]] && break
        done
    fi
    [[ $m == http://* || $m == https://* ]] || m=http://deb.debian.org/debian
    echo "${m%/}"
}

umount_under() {  # unmount everything mounted at or below $1 (deepest first)
    local m
    while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
        awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r)
}

build_tar() {
    local scratch=$CACHE/engine26-root mirror keyring=()
    mirror=$(debian_mirror)
    if ! command -v debootstrap >/dev/null 2>&1 || [[ ! -e /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
        say "apt-get install debootstrap debian-archive-keyring"
        apt_get update -qq >/dev/null || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt_get install -y -qq --no-install-recommends \
            debootstrap debian-archive-keyring >/dev/null || die "apt-get install debootstrap failed"
    fi
    [[ -e /usr/share/debootstrap/scripts/$SUITE ]] \
        || die "this debootstrap does not know '$SUITE' (apt-get install -t bookworm-backports debootstrap, or link scripts/$SUITE -> sid)"
    [[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] \
        && keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
    umount_under "$scratch"; rm -rf --one-file-system "$scratch"
    trap 'umount_under "$CACHE/engine26-root"; rm -rf --one-file-system "$CACHE/engine26-root"' EXIT
    mkdir -p "$CACHE/debs-$SUITE"
    say "debootstrap --variant=minbase --include=$INCLUDE $SUITE ($mirror); log: $CACHE/engine26-debootstrap.log"
    # Two stages, so that a policy-rc.d forbids the docker.io postinst to start
    # a dockerd in the host's namespaces.
    if ! debootstrap --foreign --variant=minbase --include="$INCLUDE" "${keyring[@]}" \
            --cache-dir="$CACHE/debs-$SUITE" "$SUITE" "$scratch" "$mirror" \
            >"$CACHE/engine26-debootstrap.log" 2>&1; then
        tail -n 30 "$CACHE/engine26-debootstrap.log" >&2
        die "debootstrap $SUITE (first stage) failed; if it is a signature check, update debian-archive-keyring"
    fi
    printf '#!/bin/sh\nexit 101\n' >"$scratch/usr/sbin/policy-rc.d"
    chmod 755 "$scratch/usr/sbin/policy-rc.d"
    if ! chroot "$scratch" /debootstrap/debootstrap --second-stage >>"$CACHE/engine26-debootstrap.log" 2>&1; then
        tail -n 30 "$CACHE/engine26-debootstrap.log" >&2; die "debootstrap $SUITE (second stage) failed"
    fi
    umount_under "$scratch/proc"; umount_under "$scratch/sys"; umount_under "$scratch/dev"
    [[ -x $scratch/usr/sbin/dockerd ]] || die "no dockerd in the $SUITE rootfs"
    rm -rf "$scratch"/var/cache/apt/archives/*.deb "$scratch"/var/lib/apt/lists/* \
        "$scratch"/var/log/*.log "$scratch"/debootstrap "$scratch"/usr/share/man/* \
        "$scratch"/usr/share/info/* "$scratch"/usr/share/locale/*
    find "$scratch/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    : >"$scratch/etc/resolv.conf"
    mkdir -p "$scratch/etc/docker"
    echo '{}' >"$scratch/etc/docker/daemon.json"
    tar -C "$scratch" --numeric-owner --sort=name -cf "$TAR.tmp" .
    mv -f "$TAR.tmp" "$TAR"
    recipe >"$TAR.recipe"
    umount_under "$scratch"; rm -rf --one-file-system "$scratch"
    trap - EXIT
}

prepare() {
    mkdir -p "$CACHE" "$STATE"
    exec 8>"$CACHE/.engine26-build.lock"
    flock 8
    local want t
    want=$(recipe)
    if [[ -f $ROOT/.stackctl-recipe && $(cat "$ROOT/.stackctl-recipe") == "$want" && -x $ROOT/usr/sbin/dockerd ]]; then
        say "rootfs $ROOT ready"
    else
        if [[ -s $TAR && $(cat "$TAR.recipe" 2>/dev/null) == "$want" ]]; then
            say "using cached rootfs $TAR"
        else
            t=$SECONDS; build_tar; say "  rootfs tarball built in $((SECONDS - t))s"
        fi
        our_dockerd >/dev/null && die "the engine runs from the old rootfs; stop it first"
        t=$SECONDS
        umount_under "$ROOT"; rm -rf --one-file-system "$ROOT"
        mkdir -p "$ROOT.tmp"
        tar -C "$ROOT.tmp" --numeric-owner -xf "$TAR"
        echo "$want" >"$ROOT.tmp/.stackctl-recipe"
        mv "$ROOT.tmp" "$ROOT"
        say "  extracted $TAR in $((SECONDS - t))s"
    fi
    flock -u 8
}

# ------------------------------------------------------------------ network
net_up() {
    [[ -e /var/run/netns/$NETNS ]] || ip netns add "$NETNS"
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge
        ip addr add "$HOST_ADDR" dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
    if ! nsenter --net="/var/run/netns/$NETNS" ip link show eth0 >/dev/null 2>&1; then
        ip link del "$VETH_HOST" 2>/dev/null || true
        ip link add "$VETH_HOST" type veth peer name "$VETH_NS"
        ip link set "$VETH_HOST" master "$BRIDGE" up
        ip link set "$VETH_NS" netns "$NETNS"
        nsenter --net="/var/run/netns/$NETNS" sh -c "
            ip link set lo up
            ip link set $VETH_NS name eth0
            ip addr add $NS_ADDR dev eth0
            ip link set eth0 up"
    fi
    iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null \
        || iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
}

net_down() {
    while iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null; do
        iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
    done
    [[ -e /var/run/netns/$NETNS ]] && ip netns del "$NETNS"
    ip link del "$VETH_HOST" 2>/dev/null || true
    ip link del "$BRIDGE" 2>/dev/null || true
}

# ------------------------------------------------------------------ daemon
start_dockerd() {
    mkdir -p "$RUNDIR" "$DATA" "$(dirname "$LOG")"
    rm -f "$SOCK" "$PIDFILE"
    echo "==== $(date -Is) engine26.sh start" >>"$LOG"
    # nsenter, unshare and sh (exec dockerd) replace themselves: $! is dockerd.  It must
    # not inherit the lock fds (8, 9): it would hold the locks for its lifetime.
    # shellcheck disable=SC2016  # the inner sh expands $R, $D, ...
    setsid nohup nsenter --net="/var/run/netns/$NETNS" \
        unshare -m --propagation private \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        R="$ROOT" D="$DATA" RUNDIR="$RUNDIR" SOCK="$SOCK" PIDFILE="$PIDFILE" \
        sh -ec '
            mount --bind "$R" "$R"
            mount -t proc proc "$R/proc"
            mount -t sysfs sysfs "$R/sys"
            mount --rbind /sys/fs/cgroup "$R/sys/fs/cgroup"
            mount --rbind /dev "$R/dev"
            mount -t tmpfs -o mode=755 tmpfs "$R/run"
            mkdir -p "$R$RUNDIR" "$R/var/lib/docker" "$R/.oldroot"
            mount --bind "$RUNDIR" "$R$RUNDIR"
            mount --bind "$D" "$R/var/lib/docker"
            # pivot_root, not chroot: the namespace root must be the rootfs, or
            # `docker exec` (setns into a container) lands in the wrong filesystem.
            cd "$R"
            pivot_root . .oldroot
            cd /
            umount -l /.oldroot
            exec dockerd -H "unix://$SOCK" --pidfile "$PIDFILE" \
                --data-root /var/lib/docker --exec-root /run/docker \
                --cgroup-parent stackctl-engine26
        ' </dev/null >>"$LOG" 2>&1 8>&- 9>&- &
    local pid=$! deadline=$((SECONDS + WAIT))
    while ((SECONDS < deadline)); do
        engine_ok && return 0
        pid_alive "$pid" || { tail -n 30 "$LOG" >&2; die "dockerd exited (log: $LOG)"; }
        sleep 0.3
    done
    tail -n 30 "$LOG" >&2
    die "dockerd did not answer on $URL within ${WAIT}s (log: $LOG)"
}

# Kill what is left in our network namespace (containers' shims, a hung dockerd).
kill_netns_pids() {
    local sig=$1 p
    [[ -e /var/run/netns/$NETNS ]] || return 0
    for p in $(ip netns pids "$NETNS" 2>/dev/null); do kill "-$sig" "$p" 2>/dev/null || true; done
}

stop_dockerd() {
    local p n
    if p=$(our_dockerd); then
        say "stopping dockerd (pid $p)"
        kill -TERM "$p" 2>/dev/null || true
        for ((n = 0; n < 150; n++)); do pid_alive "$p" || break; sleep 0.2; done
        if pid_alive "$p"; then say "dockerd did not stop in 30s; killing it"; kill -KILL "$p" 2>/dev/null || true; fi
    fi
    if [[ -e /var/run/netns/$NETNS && -n $(ip netns pids "$NETNS" 2>/dev/null) ]]; then
        kill_netns_pids TERM
        for ((n = 0; n < 50; n++)); do [[ -z $(ip netns pids "$NETNS" 2>/dev/null) ]] && break; sleep 0.2; done
        kill_netns_pids KILL
        sleep 0.2
    fi
    rm -f "$SOCK" "$PIDFILE"
}

# Copy the test images in (only when missing or different).
copy_images() {
    local img want have t
    for img in "${IMAGES[@]}"; do
        want=$(docker image inspect --format '{{.Id}}' "$img" 2>/dev/null) \
            || die "$img is missing on the host engine (run scripts/build-test-images.sh)"
        have=$(d26 image inspect --format '{{.Id}}' "$img" 2>/dev/null || true)
        if [[ $want != "$have" ]]; then
            t=$SECONDS
            docker save "$img" | timeout 300 docker -H "$URL" load -q >/dev/null \
                || die "docker save $img | docker load (engine26) failed"
            say "  copied $img in $((SECONDS - t))s"
        fi
    done
}

# A fresh daemon starts empty of test resources (a killed run may have left some).
wipe_leftovers() {
    local ids=()
    mapfile -t ids < <(d26 ps -aq)
    if ((${#ids[@]})); then
        say "  removing ${#ids[@]} leftover container(s)"
        d26 rm -f -v "${ids[@]}" >/dev/null || true
    fi
    d26 network prune -f >/dev/null || true
    d26 volume prune -af >/dev/null || true
}

describe() { d26 version --format 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null || echo '?'; }

add_lease() {  # a start without --lease is a person's: it holds until a plain `stop`
    mkdir -p "$LEASES"; : >"$LEASES/${LEASE:-manual}"
}
live_leases() {
    local f n=0
    for f in "$LEASES"/*; do
        [[ -e $f ]] || continue
        if [[ ${f##*/} =~ ^[0-9]+$ ]] && ! pid_alive "${f##*/}"; then rm -f "$f"; continue; fi
        n=$((n + 1))
    done
    echo "$n"
}

cmd_start() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (network namespace, mounts, chroot)"
    command -v docker >/dev/null || die "no docker CLI"
    docker version >/dev/null 2>&1 || die "the host engine does not answer (run scripts/ensure-docker.sh)"
    mkdir -p "$RUNDIR"
    exec 9>"$RUNDIR.lock"
    flock 9
    if our_dockerd >/dev/null && engine_ok; then
        say "already running: $URL ($(describe))"
    else
        prepare
        stop_dockerd   # a dead or hung one from before
        net_up
        local t=$SECONDS
        start_dockerd
        say "dockerd up in $((SECONDS - t))s: $URL ($(describe))"
        wipe_leftovers
    fi
    copy_images
    if ! d26 run --rm "${IMAGES[0]}" true >/dev/null 2>>"$LOG"; then
        tail -n 20 "$LOG" >&2; die "the engine runs but cannot run a container (log: $LOG)"
    fi
    add_lease
    say "ready in $((SECONDS - T0))s"
    echo "$URL"
}

cmd_stop() {
    mkdir -p "$RUNDIR"
    exec 9>"$RUNDIR.lock"
    flock 9
    if [[ -n ${LEASE:-} ]]; then
        rm -f "$LEASES/$LEASE"
        local n
        n=$(live_leases)
        if ((n > 0)); then say "still leased by $n other run(s): left running"; return 0; fi
    fi
    stop_dockerd
    net_down
    rm -rf "$LEASES"
    rm -f "$SOCK" "$PIDFILE"
    rmdir "$RUNDIR" 2>/dev/null || true
    say "stopped; namespace, veth, bridge and iptables rule removed ($((SECONDS - T0))s)"
}

cmd_status() {
    if our_dockerd >/dev/null && engine_ok; then
        echo "running: $URL ($(describe)), pid $(cat "$PIDFILE"), $(live_leases) lease(s)"
        return 0
    fi
    local left=()
    [[ -e /var/run/netns/$NETNS ]] && left+=("netns $NETNS")
    ip link show "$BRIDGE" >/dev/null 2>&1 && left+=("bridge $BRIDGE")
    iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null && left+=("iptables rule")
    if ((${#left[@]})); then echo "not running; left over: ${left[*]} (scripts/engine26.sh stop)"; else echo "not running"; fi
    return 3
}

cmd=${1:-}
shift || true
LEASE=""
while (($#)); do
    case $1 in
        --lease) LEASE=${2:?--lease needs an id}; shift 2 ;;
        --lease=*) LEASE=${1#--lease=}; shift ;;
        *) die "unknown argument: $1" ;;
    esac
done
case $cmd in
    prepare) prepare ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    -h|--help|help|"") sed -n '2,/^set -euo/p' "$0" | sed '$d'; [[ -n $cmd ]] ;;
    *) die "unknown command: $cmd (prepare|start|stop|status)" ;;
esac
