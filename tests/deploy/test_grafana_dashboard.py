"""deploy/grafana: the dashboard's queries parse, name real series, and the provisioning files point at it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "clearance-streams.json"

# Grafana variables in queries, replaced by values PromQL accepts so promtool can parse the expression.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m", "$county": ".*"}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Panels, including those nested in collapsed rows."""
    found: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def exprs(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in panels(dashboard) for target in panel.get("targets", [])]


def substitute(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def test_every_query_panel_has_prometheus_targets_with_an_expression(dashboard: dict[str, Any]) -> None:
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"]), panel["title"]


@pytest.mark.prometheus
def test_every_dashboard_expression_parses(
    dashboard: dict[str, Any], check_promql: Callable[[Iterable[str]], None]
) -> None:
    check_promql(substitute(expr) for expr in exprs(dashboard))


@pytest.mark.prometheus
def test_the_parse_check_rejects_a_broken_expression(check_promql: Callable[[Iterable[str]], None]) -> None:
    with pytest.raises(AssertionError):
        check_promql(["sum(rate(clearance_events_consumed_total[5m])"])


def test_queries_name_only_series_the_code_exposes(
    dashboard: dict[str, Any], series_names: Callable[[str], set[str]], known_series: frozenset[str]
) -> None:
    used = set().union(*(series_names(expr) for expr in exprs(dashboard)))
    assert used - known_series == set()


def test_queries_are_scoped_to_the_worker_job(dashboard: dict[str, Any]) -> None:
    for expr in exprs(dashboard):
        selectors = re.findall(r"(?:clearance_[a-z0-9_]+|\bup)\{([^}]*)\}", expr)
        assert selectors, expr
        assert all('job="clearance-worker"' in selector for selector in selectors), expr


@pytest.mark.parametrize(
    ("topic", "pattern"),
    [
        ("throughput", r"rate\(clearance_events_consumed_total"),
        ("records", r"rate\(clearance_records_applied_total"),
        ("determinations", r"rate\(clearance_determinations_emitted_total"),
        ("p50 processing", r"histogram_quantile\(0\.50, .*clearance_event_processing_seconds_bucket"),
        ("p95 processing", r"histogram_quantile\(0\.95, .*clearance_event_processing_seconds_bucket"),
        ("p99 processing", r"histogram_quantile\(0\.99, .*clearance_event_processing_seconds_bucket"),
        ("p99 end to end", r"histogram_quantile\(0\.99, .*clearance_event_to_determination_seconds_bucket"),
        ("lag by partition", r"sum by \(topic, partition\) \(clearance_consumer_lag"),
        ("dlq rate", r"rate\(clearance_invalid_events_total"),
        (
            "outcomes by county",
            r"sum by \(county, determination\) \(rate\(clearance_determinations_emitted_total",
        ),
        ("current candidates", r"clearance_candidates\{"),
        ("impact figures", r"sum by \(county, figure\) \(clearance_impact_subjects"),
        ("worker up", r'^up\{job="clearance-worker"\}$'),
    ],
)
def test_dashboard_shows(dashboard: dict[str, Any], topic: str, pattern: str) -> None:
    assert any(re.search(pattern, expr) for expr in exprs(dashboard)), topic


def test_panel_ids_are_unique_and_panels_do_not_overlap(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels(dashboard):
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        area = {
            (x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & area, panel["title"]
        cells |= area


def test_dashboard_identity_and_variables(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "clearance-streams"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["county"]["allValue"] == ".*"
    used = {m for expr in exprs(dashboard) for m in re.findall(r"\$(\w+)", expr) if not m.startswith("__")}
    assert used <= set(variables)


def test_datasource_provisioning_points_at_the_compose_prometheus(
    load_yaml: Callable[[Path], Any], repo: Path
) -> None:
    (source,) = load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")["datasources"]
    assert source["type"] == "prometheus"
    compose = load_yaml(repo / "docker-compose.yml")
    assert "prometheus" in compose["services"]
    assert source["url"] == "http://prometheus:9090"
    scrape_interval = load_yaml(repo / "deploy" / "prometheus" / "prometheus.compose.yml")["global"][
        "scrape_interval"
    ]
    assert source["jsonData"]["timeInterval"] == scrape_interval


def test_dashboard_provider_reads_the_folder_compose_mounts(
    load_yaml: Callable[[Path], Any], repo: Path
) -> None:
    (provider,) = load_yaml(GRAFANA / "provisioning" / "dashboards" / "clearance.yml")["providers"]
    mounts = load_yaml(repo / "docker-compose.yml")["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts
