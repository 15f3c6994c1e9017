#!/usr/bin/env bash
# The Debian packages the registry and ssh integration tests need (idempotent; several
# sessions share apt, so every apt-get goes through one flock):
#   docker-registry  the CNCF distribution registry (tests/registry.py runs it on 127.0.0.1)
#   apache2-utils    htpasswd -B (the registry's htpasswd auth wants bcrypt)
#   openssh-server   sshd for DOCKER_HOST=ssh:// (tests/sshd.py runs one on 127.0.0.1)
#   openssh-client   the ssh client the docker SDK shells out to (use_ssh_client)
#   docker-compose   Compose 1.29: brings up the projects the adoption tests take over, and
#                    checks every `stackctl export` (docker-compose config)
set -euo pipefail
apt_get() { flock /var/lock/stackctl-apt.lock apt-get -o DPkg::Lock::Timeout=600 "$@"; }
say() { echo "install-test-tools: $*" >&2; }

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [[ ${#need[@]} -eq 0 ]]; then
    exit 0
fi
say "apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_get update -qq >/dev/null || { say "apt-get update failed"; exit 1; }
apt_get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { say "apt-get install ${need[*]} failed"; exit 1; }
# The packages' own services are not wanted: the tests start their own on free ports.
for unit in docker-registry ssh; do
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$unit" >/dev/null 2>&1 || true; fi
done
