#!/usr/bin/env bash
# scripts/swarm-testbed.sh up|down|status - a three-node Docker Swarm on this one machine.
#
# Each node is its own dockerd in its own network namespace (sctswN), joined to a
# host bridge (sctswbr0, 10.231.77.0/24; nodes .11 .12 .13) by a veth pair:
#
#   ip netns add sctswN; veth sctswNh (host, in the bridge) <-> eth0 (in the namespace)
#   nsenter --net=/var/run/netns/sctswN unshare --uts -- dockerd
#       --data-root  /var/lib/stackctl-swarm/nodeN    --exec-root /run/stackctl-swarm/nodeN/exec
#       -H unix:///run/stackctl-swarm/nodeN/docker.sock --pidfile  /run/stackctl-swarm/nodeN/docker.pid
#       --cgroup-parent /stackctl-swarm-nodeN         --config-file (an empty one)
#
# nsenter, not `ip netns exec` (which remounts /sys and hides the cgroup mounts);
# `unshare --uts` gives each node its own hostname (sct-node1..3), so tasks per node
# read well. Node 1 runs `swarm init`, nodes 2 and 3 join as workers. The host's
# FORWARD policy is DROP (Docker) and bridge netfilter is on, so the bridge gets an
# ACCEPT rule. The HOST engine (/var/run/docker.sock) is never put into swarm mode:
# images reach the nodes by `docker save` on the host engine and `docker load` into
# each node (SWARM_TESTBED_IMAGES, default stackctl-test/busybox:1).
#
# The kernel has VXLAN but no IPVS: overlay networks work across nodes, Swarm's VIP
# load balancing (and the ingress routing mesh) does not; use endpoint_mode: dnsrr.
#
#   up      start whatever is missing (idempotent); prints the three node sockets
#   down    leave the swarm, stop the dockerds, delete namespaces, links, rule, data
#   status  what is up; the node sockets; `docker node ls` on the manager
#
# Output of `up`/`status` (stdout, one per line):  nodeN unix:///run/stackctl-swarm/nodeN/docker.sock
# Logs: /run/stackctl-swarm/nodeN/dockerd.log. The namespaces have no default route:
# nothing from the nodes leaves the bridge (dockerd runs with
# DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1, so tasks use the loaded images without a pull).
set -euo pipefail
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;; esac

NODES=${SWARM_TESTBED_NODES:-3}
BRIDGE=sctswbr0
NET=10.231.77
RUN=/run/stackctl-swarm
DATA=/var/lib/stackctl-swarm
IMAGES=${SWARM_TESTBED_IMAGES:-stackctl-test/busybox:1}
WAIT=${SWARM_TESTBED_WAIT:-60}

say() { echo "[swarm-testbed] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

ns() { echo "sctsw$1"; }
sock() { echo "unix://$RUN/node$1/docker.sock"; }
addr() { echo "$NET.$((10 + $1))"; }
dk() { local n=$1; shift; timeout 60 docker -H "$(sock "$n")" "$@"; }

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null && ! grep -qE '^State:[[:space:]]+[ZX]' "/proc/$1/status" 2>/dev/null; }
node_pid() { cat "$RUN/node$1/docker.pid" 2>/dev/null || true; }
node_up() { pid_alive "$(node_pid "$1")" && dk "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# --------------------------------------------------------------------------- network
net_up() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge
        ip addr add "$NET.1/24" dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
    iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null \
        || iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
    local n
    for ((n = 1; n <= NODES; n++)); do
        local name host
        name=$(ns "$n"); host="${name}h"
        [[ -e /var/run/netns/$name ]] || ip netns add "$name"
        if ! ip link show "$host" >/dev/null 2>&1; then
            ip link add "$host" type veth peer name "${name}n"
            ip link set "${name}n" netns "$name"
            ip -n "$name" link set "${name}n" name eth0
            ip -n "$name" addr add "$(addr "$n")/24" dev eth0
        fi
        ip link set "$host" master "$BRIDGE" up
        ip -n "$name" link set lo up
        ip -n "$name" link set eth0 up
    done
}

# --------------------------------------------------------------------------- dockerd
start_node() {
    local n=$1 dir="$RUN/node$1"
    if node_up "$n"; then return 0; fi
    local old; old=$(node_pid "$n")
    if pid_alive "$old"; then kill "$old" 2>/dev/null || true; sleep 1; fi
    mkdir -p "$dir/exec" "$DATA/node$n"
    echo '{}' >"$dir/daemon.json"
    rm -f "$dir/docker.sock" "$dir/docker.pid"
    say "starting dockerd node$n ($(addr "$n")) log $dir/dockerd.log"
    # No default route in the namespaces (nothing leaves the bridge), and no registry pull
    # attempt before each task: the images are loaded on every node.
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid nohup nsenter --net="/var/run/netns/$(ns "$n")" unshare --uts -- sh -c \
        "hostname sct-node$n && exec dockerd \
            --config-file '$dir/daemon.json' \
            --data-root '$DATA/node$n' --exec-root '$dir/exec' \
            -H '$(sock "$n")' --pidfile '$dir/docker.pid' \
            --cgroup-parent '/stackctl-swarm-node$n'" \
        </dev/null >>"$dir/dockerd.log" 2>&1 &
}

wait_nodes() {
    local n deadline=$((SECONDS + WAIT))
    for ((n = 1; n <= NODES; n++)); do
        until node_up "$n"; do
            if ((SECONDS > deadline)); then
                tail -n 30 "$RUN/node$n/dockerd.log" >&2 || true
                die "dockerd node$n did not answer on $(sock "$n") within ${WAIT}s"
            fi
            sleep 0.3
        done
    done
}

swarm_state() { dk "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

swarm_up() {
    if [[ $(swarm_state 1) != active ]]; then
        say "swarm init on node1"
        dk 1 swarm init --advertise-addr "$(addr 1)" --listen-addr "$(addr 1):2377" >/dev/null
    fi
    local token n
    token=$(dk 1 swarm join-token -q worker)
    for ((n = 2; n <= NODES; n++)); do
        if [[ $(swarm_state "$n") != active ]]; then
            say "node$n joins the swarm"
            dk "$n" swarm join --token "$token" --advertise-addr "$(addr "$n")" \
                --listen-addr "$(addr "$n"):2377" "$(addr 1):2377" >/dev/null
        fi
    done
    local deadline=$((SECONDS + WAIT))
    until [[ $(dk 1 node ls --format '{{.Status}}' | grep -c Ready) -ge $NODES ]]; do
        ((SECONDS < deadline)) || die "not all $NODES nodes are Ready: $(dk 1 node ls)"
        sleep 0.5
    done
}

images_up() {
    local img n missing
    for img in $IMAGES; do
        missing=()
        for ((n = 1; n <= NODES; n++)); do
            dk "$n" image inspect "$img" >/dev/null 2>&1 || missing+=("$n")
        done
        ((${#missing[@]})) || continue
        docker image inspect "$img" >/dev/null 2>&1 \
            || die "image $img is not on the host engine (scripts/build-test-images.sh builds it)"
        local tar="$RUN/image.tar"
        docker save -o "$tar" "$img"
        for n in "${missing[@]}"; do
            say "loading $img into node$n"
            dk "$n" load -q -i "$tar" >/dev/null
        done
        rm -f "$tar"
    done
}

print_sockets() {
    local n
    for ((n = 1; n <= NODES; n++)); do echo "node$n $(sock "$n")"; done
}

up() {
    [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, dockerd)"
    command -v dockerd >/dev/null || die "dockerd is missing (scripts/ensure-docker.sh installs it)"
    local t0=$SECONDS n
    mkdir -p "$RUN"
    net_up
    for ((n = 1; n <= NODES; n++)); do start_node "$n"; done
    wait_nodes
    swarm_up
    images_up
    say "up in $((SECONDS - t0))s"
    print_sockets
}

# --------------------------------------------------------------------------- down
stop_node() {
    local n=$1 pid
    pid=$(node_pid "$n")
    if pid_alive "$pid"; then
        dk "$n" swarm leave --force >/dev/null 2>&1 || true
        kill "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + 30))
        while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.3; done
        pid_alive "$pid" && { say "dockerd node$n did not stop; killing"; kill -9 "$pid" 2>/dev/null || true; }
    fi
    # containerd and shims started by that dockerd (their command line names its exec-root)
    local p
    for p in $(pgrep -f -- "$RUN/node$n/exec" || true); do kill -9 "$p" 2>/dev/null || true; done
}

unmount_under() {
    local dir=$1 m
    # deepest first
    for m in $(awk -v d="$dir" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
}

down() {
    local n
    for ((n = 1; n <= NODES; n++)); do stop_node "$n"; done
    for ((n = 1; n <= NODES; n++)); do
        unmount_under "$RUN/node$n"
        unmount_under "$DATA/node$n"
        ip link del "$(ns "$n")h" 2>/dev/null || true
        [[ -e /var/run/netns/$(ns "$n") ]] && ip netns del "$(ns "$n")"
        rm -rf "${RUN:?}/node$n" "${DATA:?}/node$n"
    done
    while iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null; do
        iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
    done
    ip link del "$BRIDGE" 2>/dev/null || true
    say "down"
}

status() {
    local n ok=0
    for ((n = 1; n <= NODES; n++)); do
        if node_up "$n"; then
            echo "node$n $(sock "$n") up swarm=$(swarm_state "$n")"
        else
            echo "node$n $(sock "$n") down"; ok=1
        fi
    done
    if node_up 1; then dk 1 node ls >&2 || true; fi
    return $ok
}

case ${1:-} in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
