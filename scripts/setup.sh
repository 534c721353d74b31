#!/usr/bin/env bash
# Install everything clearance-streams needs on a fresh machine: a .venv with the package and its test tools,
# (with --kafka) the Apache Kafka jars from Maven Central, (with --prometheus) Debian's prometheus and (with
# --browser) Debian's chromium and poppler-utils, and (with --kustomize) kustomize when neither kubectl nor kustomize
# is on the PATH (built with the machine's Go into .venv/bin). Safe to run again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [[ ! -f $stamp ]]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  rm -f .venv/.installed-* && touch "$stamp"
fi
stop_debian_prometheus() {
  if command -v systemctl >/dev/null && systemctl stop prometheus >/dev/null 2>&1; then return; fi
  if service prometheus stop >/dev/null 2>&1; then return; fi
  local pidfile=/run/prometheus/prometheus.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  # the pid is trusted only while it still runs Debian's binary (a stale file may name a recycled pid)
  if [[ $pid =~ ^[0-9]+$ && $(readlink "/proc/$pid/exe" 2>/dev/null) == /usr/bin/prometheus ]]; then
    kill "$pid" 2>/dev/null || true
  fi
}
for arg in "$@"; do
  case "$arg" in
    --kafka) .venv/bin/python -m streams.kafka.broker fetch ;;
    --prometheus)
      if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
        if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus >/dev/null
        # The Debian package starts its own system service on :9090 (the tests run their own instance): stop
        # that service only, through its init system or the pid file its init script wrote, never by name (a
        # broad pkill would also kill a user's own Prometheus).
        stop_debian_prometheus
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
    --kustomize)
      # The k8s tests render deploy/k8s as `kubectl apply -k` does (kubectl's built-in kustomize, or kustomize).
      if ! command -v kubectl >/dev/null && ! command -v kustomize >/dev/null && [[ ! -x .venv/bin/kustomize ]]; then
        GOBIN="$PWD/.venv/bin" go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0
      fi ;;
  esac
done
