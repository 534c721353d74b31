"""A real Prometheus, started with deploy/prometheus/prometheus.yml and a templated targets file, scrapes a
``streams.metrics.serve`` endpoint, evaluates the project's recording rules and fires a project alert.

This is the shape of the worker integration test: replace the bare metrics server by a running
``clearance worker`` whose CLEARANCE_METRICS_PORT is written into targets/workers.yml.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from streams.metrics import Metrics, serve

PROM = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
DEADLINE_SECONDS = 45.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_for(what: str, probe: Callable[[], Any], log: Path) -> Any:
    """Poll ``probe`` until it returns something truthy; bounded, so a broken setup fails, never hangs."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            result = probe()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}; prometheus log:\n{log.read_text(errors='replace')[-3000:]}")


class Prometheus:
    """HTTP API of the Prometheus under test."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = get_json(f"{self.base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def api(self, path: str) -> Any:
        return get_json(f"{self.base}/api/v1/{path}")["data"]


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
    """The project's config at 1 s intervals, the rules as shipped, the metrics server as the only worker."""
    _, metrics_port = metrics
    web_port = free_port()
    config_dir = tmp_path / "prometheus"
    shutil.copytree(PROM / "rules", config_dir / "rules")
    config = yaml.safe_load((PROM / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"] |= {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    for job in config["scrape_configs"]:
        if job["job_name"] == "prometheus":
            job["static_configs"] = [{"targets": [f"127.0.0.1:{web_port}"]}]
    (config_dir / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (config_dir / "targets").mkdir()
    targets = [{"targets": [f"127.0.0.1:{metrics_port}"], "labels": {"env": "test"}}]
    (config_dir / "targets" / "workers.yml").write_text(yaml.safe_dump(targets), encoding="utf-8")
    log = tmp_path / "prometheus.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                prometheus_binary,
                f"--config.file={config_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{web_port}",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        server = Prometheus(web_port)
        wait_for(
            "prometheus to be ready", lambda: urllib.request.urlopen(f"{server.base}/-/ready", timeout=2), log
        )
        yield server, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


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
