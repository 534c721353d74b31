"""deploy/prometheus: configs and rules pass promtool, every rule is unit-tested, names match the code."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streams.settings import Settings

PROM = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
CONFIGS = ("prometheus.yml", "prometheus.compose.yml")
RULE_FILES = sorted((PROM / "rules").glob("*.yml"))
TEST_FILES = sorted((PROM / "tests").glob("*.yml"))


def run(*argv: str, cwd: Path = PROM) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


def worker_job(config: dict[str, Any]) -> dict[str, Any]:
    return next(job for job in config["scrape_configs"] if job["job_name"] == "clearance-worker")


def rules_of(load_yaml: Callable[[Path], Any], name: str) -> list[dict[str, Any]]:
    return [rule for group in load_yaml(PROM / "rules" / name)["groups"] for rule in group["rules"]]


@pytest.mark.prometheus
@pytest.mark.parametrize("config", CONFIGS)
def test_promtool_check_config(promtool: str, config: str) -> None:
    result = run(promtool, "check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr
    # the config really loaded the rule files (a wrong glob would load none and still pass)
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout + result.stderr


@pytest.mark.prometheus
def test_promtool_check_rules(promtool: str) -> None:
    assert {p.name for p in RULE_FILES} == {"alerts.yml", "recording.yml"}
    result = run(promtool, "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.prometheus
def test_promtool_rule_unit_tests(promtool: str) -> None:
    assert TEST_FILES
    result = run(promtool, "test", "rules", *map(str, TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test(load_yaml: Callable[[Path], Any]) -> None:
    alerts = {rule["alert"] for rule in rules_of(load_yaml, "alerts.yml") if "alert" in rule}
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in TEST_FILES:
        for case in load_yaml(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert alerts == {
        "ClearanceConsumerLagHigh",
        "ClearanceConsumerStalled",
        "ClearanceDeadLetters",
        "ClearanceErrorRatioHigh",
        "ClearanceWorkerDown",
        "ClearanceWorkerAbsent",
        "ClearanceWorkerStuckRecovering",
    }
    assert alerts - firing == set()
    assert alerts - quiet == set()


def test_every_recording_rule_is_unit_tested(load_yaml: Callable[[Path], Any]) -> None:
    recorded = {rule["record"] for rule in rules_of(load_yaml, "recording.yml")}
    tested_exprs = " ".join(
        check["expr"]
        for path in TEST_FILES
        for case in load_yaml(path)["tests"]
        for check in case.get("promql_expr_test", [])
    )
    untested = {
        name for name in recorded if not re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", tested_exprs)
    }
    assert untested == set()


def test_unit_tests_load_the_rule_files_under_test(load_yaml: Callable[[Path], Any]) -> None:
    loaded = {
        (PROM / "tests" / rule_file).resolve()
        for path in TEST_FILES
        for rule_file in load_yaml(path)["rule_files"]
    }
    assert loaded == {p.resolve() for p in RULE_FILES}


@pytest.mark.parametrize("rule_file", ["alerts.yml", "recording.yml"])
def test_rules_name_only_series_the_code_exposes(
    load_yaml: Callable[[Path], Any],
    series_names: Callable[[str], set[str]],
    known_series: frozenset[str],
    rule_file: str,
) -> None:
    for rule in rules_of(load_yaml, rule_file):
        used = series_names(rule["expr"])
        assert used - known_series == set(), rule.get("alert") or rule.get("record")


def test_alerts_are_labelled_and_explained(load_yaml: Callable[[Path], Any]) -> None:
    for rule in rules_of(load_yaml, "alerts.yml"):
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


def test_target_alerts_watch_the_scrape_job(load_yaml: Callable[[Path], Any]) -> None:
    exprs = {rule["alert"]: rule["expr"].strip() for rule in rules_of(load_yaml, "alerts.yml")}
    assert exprs["ClearanceWorkerDown"] == 'up{job="clearance-worker"} == 0'
    assert exprs["ClearanceWorkerAbsent"] == 'absent(up{job="clearance-worker"})'


def test_alert_and_recorded_error_ratio_are_the_same_formula(load_yaml: Callable[[Path], Any]) -> None:
    def squash(expr: str) -> str:
        return re.sub(r"\s+", "", expr)

    recorded = next(r for r in rules_of(load_yaml, "recording.yml") if r["record"].endswith(":ratio_rate5m"))
    alert = next(r for r in rules_of(load_yaml, "alerts.yml") if r["alert"] == "ClearanceErrorRatioHigh")
    assert squash(alert["expr"]) == squash(recorded["expr"]) + ">0.01"


@pytest.mark.parametrize("config", CONFIGS)
def test_configs_scrape_the_worker_job_and_load_both_rule_files(
    load_yaml: Callable[[Path], Any], config: str
) -> None:
    document = load_yaml(PROM / config)
    jobs = {job["job_name"]: job for job in document["scrape_configs"]}
    assert jobs["clearance-worker"]["metrics_path"] == "/metrics"
    matched = {p for pattern in document["rule_files"] for p in PROM.glob(pattern)}
    assert matched == set(RULE_FILES)


def test_local_config_takes_worker_targets_from_files(load_yaml: Callable[[Path], Any]) -> None:
    """The integration test (and operators) point Prometheus at a worker by writing a targets file."""
    job = worker_job(load_yaml(PROM / "prometheus.yml"))
    patterns = [pattern for sd in job["file_sd_configs"] for pattern in sd["files"]]
    assert patterns == ["targets/*.yml"]
    targets = [t for group in load_yaml(PROM / "targets" / "workers.yml") for t in group["targets"]]
    defaults = Settings()
    assert targets == [f"127.0.0.1:{defaults.metrics_port}"]
    assert defaults.metrics_host == "127.0.0.1"


def test_compose_config_scrapes_the_compose_worker_service(
    load_yaml: Callable[[Path], Any], repo: Path
) -> None:
    job = worker_job(load_yaml(PROM / "prometheus.compose.yml"))
    targets = [t for group in job["static_configs"] for t in group["targets"]]
    compose = load_yaml(repo / "docker-compose.yml")
    port = compose["services"]["worker"]["environment"]["CLEARANCE_METRICS_PORT"]
    assert targets == [f"worker:{port}"]
