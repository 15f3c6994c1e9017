#!/usr/bin/env bash
# scripts/demo.sh - set up this machine and run stackctl's main job for real:
# plan and apply examples/demo (nginx -> web by name, Postgres health-gated), check it
# answers on 127.0.0.1:8080, and show that a second apply changes nothing.
#   scripts/demo.sh            apply and leave it running
#   scripts/demo.sh --destroy  apply, check, then destroy it again
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

scripts/setup-python.sh
export PATH=$ROOT/.venv/bin:$PATH
scripts/ensure-docker.sh
scripts/build-test-images.sh

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
