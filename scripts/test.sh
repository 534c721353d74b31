#!/usr/bin/env bash
# The project's test command (README and .ci/run use exactly this): install, lint, then every test, including
# the ones that start a real Kafka broker, a real Prometheus and headless Chromium (the summary report). Lint is
# ruff, then mypy (pyproject's [tool.mypy]).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --kafka --prometheus --browser --kustomize
.venv/bin/ruff check streams tests bench
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
