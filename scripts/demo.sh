#!/usr/bin/env bash
# scripts/demo.sh - set up this machine and run stackctl's main job for real:
# plan and apply examples/demo (nginx -> web by name, Postgres health-gated), check it
# answers on 127.0.0.1:8080, and show that a second apply changes nothing.
#   scripts/demo.sh            apply and leave it running
#   scripts/demo.sh --destroy  apply, check, then destroy it again
#   scripts/demo.sh matrix [--destroy]
#       examples/matrix in local mode (STACKCTL_MATRIX_LOCAL=1): Traefik 3, Synapse and
#       Postgres from one `stackctl apply`, then a Matrix client session through Traefik
#       on 127.0.0.1 (Host: matrix.localhost): versions, shared-secret registration, log
#       in, create a room, send a message and read it back.  Ports 80/443 unless
#       MATRIX_HTTP_PORT / MATRIX_HTTPS_PORT say otherwise.  --destroy also removes the
#       stacks afterwards (their volumes stay: `docker volume rm matrix_pgdata
#       matrix_synapse_data`).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

scripts/setup-python.sh
export PATH=$ROOT/.venv/bin:$PATH
scripts/ensure-docker.sh
scripts/build-test-images.sh

if [[ ${1:-} == matrix ]]; then
    export STACKCTL_MATRIX_LOCAL=1
    PREFIX=${STACKCTL_MATRIX_PREFIX:-}
    HTTP_PORT=${MATRIX_HTTP_PORT:-80}
    echo "+ stackctl validate examples/matrix   (STACKCTL_MATRIX_LOCAL=1)"
    stackctl validate examples/matrix
    echo "+ stackctl plan examples/matrix"
    stackctl plan examples/matrix
    echo "+ stackctl apply examples/matrix --yes --wait"
    stackctl apply examples/matrix --yes --wait
    echo "+ a Matrix client session through Traefik: http://127.0.0.1:$HTTP_PORT, Host: matrix.localhost"
    secret=$(docker exec "${PREFIX}synapse" sed -n 's/^registration_shared_secret: //p' /data/secrets.yaml)
    python scripts/matrix_session.py --url "http://127.0.0.1:$HTTP_PORT" --host matrix.localhost \
        --secret "$secret"
    echo "+ stackctl plan examples/matrix   (a second run changes nothing)"
    stackctl plan examples/matrix
    if [[ ${2:-} == --destroy ]]; then
        echo "+ stackctl destroy examples/matrix --yes"
        stackctl destroy examples/matrix --yes
    fi
    exit 0
fi

echo "+ stackctl validate examples/demo"
stackctl validate examples/demo
echo "+ stackctl plan examples/demo"
stackctl plan examples/demo
echo "+ stackctl apply examples/demo --yes --wait"
stackctl apply examples/demo --yes --wait
echo "+ curl http://127.0.0.1:8080/"
for _ in $(seq 1 30); do
    if out=$(curl -fsS http://127.0.0.1:8080/ 2>/dev/null); then break; fi
    sleep 0.5
done
echo "${out:?nginx did not answer on 127.0.0.1:8080}"
echo "+ stackctl apply examples/demo --yes   (a second run changes nothing)"
stackctl apply examples/demo --yes
stackctl status examples/demo
if [[ ${1:-} == --destroy ]]; then
    echo "+ stackctl destroy examples/demo --yes"
    stackctl destroy examples/demo --yes
fi
