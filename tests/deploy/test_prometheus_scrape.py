"""A real Prometheus, started with deploy/prometheus/prometheus.yml and a templated targets file, scrapes a
``streams.worker.metrics.serve`` endpoint, evaluates the project's recording rules and fires a project alert.

This is the shape of the worker integration test: replace the bare metrics server by a running
``clearance worker`` whose CLEARANCE_METRICS_PORT is written into targets/workers.yml.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prom_support import Prometheus, running_prometheus, wait_for
from prometheus_client import CollectorRegistry

from streams.worker.metrics import Metrics, serve


@pytest.fixture
def metrics() -> Iterator[tuple[Metrics, int]]:
    bundle = Metrics.create(CollectorRegistry())
    bundle.set_build_info("scrape-test")
    server = serve(bundle.registry, "127.0.0.1", 0)
    try:
        yield bundle, server.server_port
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def prometheus(
    prometheus_binary: str, metrics: tuple[Metrics, int], tmp_path: Path
) -> Iterator[tuple[Prometheus, Path]]:
    with running_prometheus(prometheus_binary, metrics[1], tmp_path) as running:
        yield running


@pytest.mark.prometheus
def test_prometheus_scrapes_the_worker_job_and_evaluates_the_project_rules(
    metrics: tuple[Metrics, int], prometheus: tuple[Prometheus, Path]
) -> None:
    bundle, metrics_port = metrics
    server, log = prometheus

    up = wait_for("the worker target to be up", lambda: server.query('up{job="clearance-worker"} == 1'), log)
    assert [sample["metric"]["instance"] for sample in up] == [f"127.0.0.1:{metrics_port}"]
    (info,) = server.query("clearance_build_info")
    assert info["metric"]["policies"] == "scrape-test" and info["metric"]["env"] == "test"

    for _ in range(120):
        bundle.event_consumed("record.upserted")
    rate = wait_for(
        "the recorded event rate",
        lambda: server.query('job:clearance_events_consumed:rate5m{type="record.upserted"} > 0'),
        log,
    )
    assert rate[0]["metric"]["job"] == "clearance-worker"

    bundle.dead_lettered("schema")
    firing = wait_for(
        "ClearanceDeadLetters to fire",
        lambda: [
            alert
            for alert in server.api("alerts")["alerts"]
            if alert["labels"]["alertname"] == "ClearanceDeadLetters" and alert["state"] == "firing"
        ],
        log,
    )
    assert firing[0]["labels"]["kind"] == "schema"

    groups = server.api("rules")["groups"]
    assert {group["file"].rpartition("/")[2] for group in groups} == {"alerts.yml", "recording.yml"}
    broken = [rule["name"] for group in groups for rule in group["rules"] if rule["health"] == "err"]
    assert broken == []
