#!/usr/bin/env bash
# The main job end to end on one machine: install, start the local Kafka broker, create the topics, start a worker
# with the statewide policies, replay a generated multi-county DOJ sample, print the report and where the metrics
# are. The broker and the worker keep running so you can look at /metrics; `bash scripts/demo.sh stop` stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export CLEARANCE_DATA_DIR="${CLEARANCE_DATA_DIR:-$PWD/var}"
export CLEARANCE_METRICS_PORT="${CLEARANCE_METRICS_PORT:-9108}"
C=.venv/bin/clearance
DEMO="$CLEARANCE_DATA_DIR/demo"
PIDFILE="$DEMO/worker.pid"

stop_worker() {
  if [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    kill "$(cat "$PIDFILE")"
    for _ in $(seq 1 60); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.5; done
    echo "worker stopped"
  fi
  rm -f "$PIDFILE"
}

if [[ "${1:-}" == "stop" ]]; then
  stop_worker
  $C broker stop
  exit 0
fi

bash scripts/setup.sh --kafka --browser
mkdir -p "$DEMO"
$C broker start
$C topics create --partitions 4
[[ -f $DEMO/sample.csv ]] || $C generate-doj --people 3000 --seed 2026 --output "$DEMO/sample.csv"

stop_worker
nohup $C worker --policies deploy/policies/statewide.json --loglevel info >"$DEMO/worker.log" 2>&1 </dev/null &
echo $! >"$PIDFILE"
echo "worker started (pid $(cat "$PIDFILE"), log $DEMO/worker.log)"

$C replay --input-doj "$DEMO/sample.csv"

# Wait until the worker has consumed everything (its lag gauges read 0) — read from its own /metrics page.
.venv/bin/python - "$CLEARANCE_METRICS_PORT" <<'PY'
import sys, time, urllib.request
from prometheus_client.parser import text_string_to_metric_families
url = f"http://127.0.0.1:{sys.argv[1]}/metrics"
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    try:
        samples = [s for f in text_string_to_metric_families(urllib.request.urlopen(url, timeout=2).read().decode())
                   for s in f.samples]
    except OSError:
        time.sleep(1); continue
    lag = [s.value for s in samples if s.name == "clearance_consumer_lag"]
    consumed = sum(s.value for s in samples if s.name == "clearance_events_consumed_total")
    if lag and sum(lag) == 0 and consumed > 0:
        print(f"worker caught up: {consumed:.0f} events consumed")
        break
    time.sleep(1)
else:
    sys.exit("the worker did not catch up within 5 minutes; see its log")
PY

$C report
$C report --html "$DEMO/Summary_Report.html" --pdf "$DEMO/Summary_Report.pdf"
$C export --output "$DEMO/determinations.jsonl" --wait-idle 2
# One of the sample's people, explained offline under the policy the worker applies to Sacramento County.
EXPLAIN=$(.venv/bin/python - "$DEMO" <<'PY'
import csv, json, sys
demo = sys.argv[1]
policy = json.load(open("deploy/policies/statewide.json"))["counties"]["SACRAMENTO"]
json.dump(policy["eligibility_options"], open(f"{demo}/sacramento-options.json", "w"))
with open(f"{demo}/sample.csv", newline="") as fh:
    subject = next(row["SUBJECT_ID"] for row in csv.DictReader(fh) if row["STP_ORI_CNTY_NAME"] == "SACRAMENTO")
print(f"clearance explain {subject} --input-doj {demo}/sample.csv --county SACRAMENTO "
      f"--eligibility-options {demo}/sacramento-options.json")
PY
)
cat <<MSG

Summary report: $DEMO/Summary_Report.html and $DEMO/Summary_Report.pdf (statewide, one section per county)
One person:     .venv/bin/$EXPLAIN
Determinations: $DEMO/determinations.jsonl
Metrics:        http://127.0.0.1:$CLEARANCE_METRICS_PORT/metrics   (e.g. curl -s ... | grep ^clearance_)
Still running:  the Kafka broker and the worker. Stop both with:  bash scripts/demo.sh stop
MSG
