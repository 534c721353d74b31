"""Real Prometheus scraping a real ``clearance worker`` on the real broker: throughput is seen, the determinations
counter equals what the worker emitted, and every PromQL expression of the dashboard and the rules evaluates
without error against the scraped data."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures_worker import read_all, statewide_policies
from prom_support import PROM, running_prometheus, wait_for

from streams.cli import main as cli_main
from streams.settings import DETERMINATIONS, Settings
from streams.tools.replay import replay

pytestmark = [pytest.mark.kafka, pytest.mark.prometheus]
DASHBOARD = PROM.parent / "grafana" / "dashboards" / "clearance-streams.json"
# What Grafana would put in for its variables; 1m windows suit a test that lasts seconds with 1 s scrapes.
GRAFANA = {"$__rate_interval": "1m", "$__range": "5m", "$county": ".*"}


def _walk_exprs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in _walk_exprs(value)]
    if isinstance(node, list):
        return [e for value in node for e in _walk_exprs(value)]
    return []


def every_expression() -> list[str]:
    exprs = _walk_exprs(json.loads(DASHBOARD.read_text()))
    for path in (PROM / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            exprs.extend(rule["expr"] for rule in group["rules"])
    out = []
    for expr in exprs:
        for variable, value in GRAFANA.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, expr
        out.append(expr)
    return out


def test_prometheus_sees_a_real_worker(
    worker_factory, kafka_settings: Settings, prometheus_binary: str, tmp_path: Path
) -> None:
    worker = worker_factory(statewide_policies())
    worker.start()
    with running_prometheus(prometheus_binary, kafka_settings.metrics_port, tmp_path / "prom") as (server, log):
        wait_for("the worker target", lambda: server.query('up{job="clearance-worker"} == 1'), log)
        sample = tmp_path / "sample.csv"
        assert cli_main(["generate-doj", "--people", "400", "--seed", "5", "--output", str(sample)]) == 0
        rows, events = asyncio.run(replay(kafka_settings, sample, max_records=5, progress=False))
        worker.wait_consumed(events)

        wait_for("a positive throughput",
                 lambda: server.query('sum(job:clearance_events_consumed:rate5m{job="clearance-worker"}) > 0'), log)
        emitted = len(read_all(kafka_settings, kafka_settings.topic(DETERMINATIONS)))
        assert emitted > 0
        wait_for("the determinations counter to reach what the worker emitted",
                 lambda: server.query(f'sum(clearance_determinations_emitted_total) == {emitted}'), log)
        assert float(server.query("sum(clearance_records_applied_total)")[0]["value"][1]) == rows

        for expr in every_expression():
            server.query(expr)  # asserts status == success: evaluates without error on real data
        groups = server.api("rules")["groups"]
        assert [r["name"] for g in groups for r in g["rules"] if r["health"] == "err"] == []
