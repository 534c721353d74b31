#!/usr/bin/env bash
# Copy deploy/policies/statewide.json (or the file given as $1) to policies.json, which kustomization.yaml's
# configMapGenerator turns into the clearance-policies-<hash> ConfigMap. Byte for byte, so the worker's policies
# fingerprint is the same as with docker-compose.yml; tests/deploy/test_k8s_manifests.py fails while the two differ.
set -euo pipefail
cd "$(dirname "$0")"
src="${1:-../policies/statewide.json}"
python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$src"  # refuse what is not JSON
cp "$src" policies.json
