#!/usr/bin/env bash
# Install everything clearance-streams needs on a fresh machine: a .venv with the package and its test tools,
# (with --kafka) the Apache Kafka jars from Maven Central, (with --prometheus) Debian's prometheus and (with
# --browser) Debian's chromium and poppler-utils. Safe to run again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [[ ! -f $stamp ]]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test,rocksdb]'
  rm -f .venv/.installed-* && touch "$stamp"
fi
for arg in "$@"; do
  case "$arg" in
    --kafka) .venv/bin/python -m streams.kafka.broker fetch ;;
    --prometheus)
      if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
        if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus >/dev/null
        # The Debian package starts a system service on :9090; the tests run their own instance.
        (systemctl stop prometheus 2>/dev/null || service prometheus stop 2>/dev/null || pkill -x prometheus || true) >/dev/null 2>&1
      fi ;;
    --browser)
      # Debian's Chromium prints the summary report to PDF and runs the report's browser tests; poppler-utils
      # (pdftotext, pdftoppm) reads the PDF back in those tests.
      if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null || ! command -v pdftoppm >/dev/null; then
        if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
          chromium poppler-utils fonts-dejavu-core >/dev/null
      fi ;;
  esac
done
