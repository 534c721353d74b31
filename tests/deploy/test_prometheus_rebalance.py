"""After a rebalance no worker keeps the lag series of a partition it lost: two real workers on the real broker, the
first one holding lag on every partition when the second joins, and ``promtool test rules`` over the values both
then expose shows that ``ClearanceConsumerStalled`` stays quiet on two healthy idle workers.

Before: the first worker kept its last lag figure of each partition it lost for good, and the alert (critical)
fired on it ten minutes later."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fixtures_kafka import free_port
from fixtures_worker import WorkerProcess, send, statewide_policies
from prom_support import PROM
from prometheus_client.parser import text_string_to_metric_families

from streams.cli import main as cli_main
from streams.doj.reader import iter_rows
from streams.events.builders import record_change_event
from streams.events.codec import encode
from streams.settings import RECORD_CHANGES, Settings
from streams.tools.replay import file_digest, subject_runs

pytestmark = [pytest.mark.kafka, pytest.mark.prometheus]
LAG = "clearance_consumer_lag"


def samples(worker: WorkerProcess) -> list[tuple[str, dict[str, str], float]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.settings.metrics_port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]


def lags(worker: WorkerProcess) -> dict[str, float]:
    return {labels["partition"]: value for name, labels, value in samples(worker) if name == LAG}


def test_no_stalled_alert_after_a_rebalance(
    worker_factory, kafka_settings: Settings, promtool: str, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.csv"
    assert cli_main(["generate-doj", "--people", "2400", "--seed", "3", "--output", str(sample)]) == 0
    digest = file_digest(sample)
    events = [(sid.encode(), encode(record_change_event(subject_id=sid, rows=run, file_digest=digest,
                                                        source_agency="TEST", emitted_at=datetime.now(UTC))))
              for sid, run in subject_runs(iter_rows(str(sample)), 1)]
    a = worker_factory(statewide_policies())
    b_settings = dataclasses.replace(kafka_settings, metrics_port=free_port(), data_dir=tmp_path / "b")
    b = WorkerProcess(b_settings, a.policies, tmp_path / "worker-b.log")
    send(kafka_settings, kafka_settings.topic(RECORD_CHANGES), events)  # a backlog on every partition
    a.start()
    try:
        a.wait_for(lambda m: sum(1 for k, v in m.items() if k.startswith(f"{LAG}{{") and v > 0) == 4, 120,
                   "the first worker to report lag on all four partitions")
        # Hold it there while the second joins, so the partitions it loses still have lag in its last figures.
        assert a.proc is not None
        os.killpg(a.proc.pid, signal.SIGSTOP)
        try:
            b.start()
        finally:
            os.killpg(a.proc.pid, signal.SIGCONT)

        def settled(_: dict[str, float]) -> bool:
            """Every event handled and, for every partition, some worker (its owner) reporting it caught up."""
            consumed = a._consumed(a.metrics()) + b._consumed(b.metrics())
            by_partition: dict[str, list[float]] = {}
            for worker in (a, b):
                for partition, value in lags(worker).items():
                    by_partition.setdefault(partition, []).append(value)
            return (consumed >= len(events) and len(by_partition) == 4
                    and all(min(values) == 0 for values in by_partition.values()) and bool(lags(b)))
        a.wait_for(settled, 300, "both workers to consume the backlog")
        b.wait_for(lambda m: m.get("clearance_worker_recovering", 1) == 0, 60, "the second worker to recover")
        held_a, held_b = lags(a), lags(b)
        assert a.metrics()["clearance_rebalances_total"] >= 1
        observed = {"a": samples(a), "b": samples(b)}
    finally:
        b.stop()

    # promtool over the observed values, held for 30 minutes: idle workers (their counters flat)
    keep = (LAG, "clearance_events_consumed_total", "clearance_invalid_events_total", "clearance_worker_recovering")
    series = []
    for instance, found in observed.items():
        for name, labels, value in found:
            if name in keep:
                text = ",".join(f'{k}="{v}"' for k, v in sorted({**labels, "job": "clearance-worker",
                                                                  "instance": instance}.items()))
                series.append({"series": f"{name}{{{text}}}", "values": f"{value:g}x30"})
    assert any(s["series"].startswith(LAG) for s in series)
    tests = {
        "rule_files": [str(PROM / "rules" / "alerts.yml")],
        "evaluation_interval": "1m",
        "tests": [{"name": "two idle workers after a rebalance", "interval": "1m", "input_series": series,
                   "alert_rule_test": [{"eval_time": "25m", "alertname": "ClearanceConsumerStalled",
                                        "exp_alerts": []}]}],
    }
    path = tmp_path / "rebalance_test.yml"
    path.write_text(yaml.safe_dump(tests), encoding="utf-8")
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # the fix itself: each partition's lag is reported once, by the worker holding it
    assert set(held_a).isdisjoint(held_b) and set(held_a) | set(held_b) == {"0", "1", "2", "3"}, (held_a, held_b)
