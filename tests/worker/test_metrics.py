"""The metrics bundle: names, types, labels and buckets as the deploy rules and the dashboard expect them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from streams import RULESET_VERSION, __version__
from streams.events.model import EVENT_TYPES
from streams.worker.metrics import (
    ALLOWED_LABELS,
    CANDIDATE_CHANGES,
    EVENT_TO_DETERMINATION_BUCKETS,
    IMPACT_FIGURES,
    INVALID_KINDS,
    METRIC_DOCS,
    PROCESSING_BUCKETS,
    RECORD_OPS,
    SPECS,
    Metrics,
    determination_label,
    markdown_table,
    serve,
)

# Label names that would mean a person (or a record of one) is identified by a time series.
PERSONAL = re.compile(
    r"name|dob|birth|cii|ssn|subject|person|case|conviction|record_id|^id$|_id$|address|phone"
)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics.create(CollectorRegistry())


def exercise(m: Metrics) -> None:
    """Touch every metric through the bundle so each shows all its labels in the exposition."""
    for event_type in EVENT_TYPES:
        m.event_consumed(event_type)
    m.record_applied("upserted", 3)
    m.record_applied("retracted")
    m.dead_lettered("schema")
    m.determination_emitted("configurable", "SACRAMENTO", "Eligible for Dismissal")
    m.determination_emitted("configurable", "SACRAMENTO", "")
    m.determination_emitted("los_angeles", "LOS ANGELES", "Hand Review", retracted=True)
    m.candidate_changed("added")
    m.event_processing_seconds.observe(0.0002)
    m.event_to_determination_seconds.observe(0.3)
    m.consumer_lag.labels(topic="court.record-changes", partition="0").set(12)
    m.subjects_in_state.set(40)
    m.candidates.labels(county="SACRAMENTO", determination="Eligible for Dismissal").set(2)
    for figure in IMPACT_FIGURES:
        m.set_impact("SACRAMENTO", figure, 1)
    m.rebalances.inc()
    m.worker_recovering.set(1)
    m.last_event_timestamp.set(1_700_000_000)
    m.flagged(["dob_missing"])
    m.convictions_without_policy.labels(county="unrecognised").set(3)
    m.reevaluated("ruleset", 10, 2)
    m.held("state_budget")
    m.set_build_info("0123abcd")


def scrape(m: Metrics) -> str:
    return generate_latest(m.registry).decode()


def families(m: Metrics) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(scrape(m))}


def family_name(spec_name: str, kind: str) -> str:
    """The parser reports counters without their ``_total`` suffix."""
    return spec_name.removesuffix("_total") if kind == "counter" else spec_name


def test_every_spec_is_exposed_with_its_type_help_and_label_names(metrics: Metrics) -> None:
    exercise(metrics)
    exposed = families(metrics)
    for spec in SPECS.values():
        family = exposed[family_name(spec.name, spec.kind)]
        assert family.type == spec.kind, spec.name
        assert family.documentation == spec.help
        series_labels = {
            frozenset(k for k in s.labels if k != "le")
            for s in family.samples
            if not s.name.endswith("_created")
        }
        assert series_labels == {frozenset(spec.labels)}, spec.name


def test_exposition_carries_only_allow_listed_label_names(metrics: Metrics) -> None:
    exercise(metrics)
    seen = {name for f in families(metrics).values() for s in f.samples for name in s.labels} - {"le"}
    assert seen <= ALLOWED_LABELS
    assert seen == {label for spec in SPECS.values() for label in spec.labels}


def test_allow_list_has_no_label_that_could_identify_a_person() -> None:
    assert [label for label in ALLOWED_LABELS if PERSONAL.search(label)] == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [(spec.name, spec.kind) for spec in SPECS.values()],
)
def test_names_follow_prometheus_conventions(name: str, kind: str) -> None:
    assert re.fullmatch(r"clearance_[a-z0-9_]+", name)
    assert name.endswith("_total") == (kind == "counter")
    if kind == "histogram":
        assert name.endswith("_seconds")  # base unit, never milliseconds
    assert "_ms" not in name and "milli" not in name


def test_names_are_the_ones_the_worker_and_rules_use() -> None:
    assert set(METRIC_DOCS) == {
        "clearance_data_quality_total",
        "clearance_held_events_total",
        "clearance_convictions_without_policy",
        "clearance_reevaluated_subjects_total",
        "clearance_events_consumed_total",
        "clearance_records_applied_total",
        "clearance_invalid_events_total",
        "clearance_determinations_emitted_total",
        "clearance_candidate_changes_total",
        "clearance_event_processing_seconds",
        "clearance_event_to_determination_seconds",
        "clearance_consumer_lag",
        "clearance_subjects_in_state",
        "clearance_candidates",
        "clearance_impact_subjects",
        "clearance_rebalances_total",
        "clearance_input_rewinds_total",
        "clearance_worker_recovering",
        "clearance_last_event_timestamp_seconds",
        "clearance_build_info",
    }


def test_bundle_fields_are_the_spec_keys_plus_the_registry_and_the_child_cache() -> None:
    assert Metrics._fields == (*SPECS, "registry", "children")


def test_cached_children_count_into_the_same_series_and_still_refuse_unknown_values(metrics: Metrics) -> None:
    for _ in range(3):
        metrics.candidate_changed("added")
        metrics.determination_emitted("los_angeles", "LOS ANGELES", "DismissCombo")
    assert metrics.candidate_changes.labels(change="added")._value.get() == 3
    assert metrics.determinations_emitted.labels(
        flow="los_angeles", county="LOS ANGELES", determination="DismissCombo")._value.get() == 3
    with pytest.raises(ValueError, match="change label"):
        metrics.candidate_changed("S123-personal")
    assert ("candidate_changes", ("S123-personal",)) not in metrics.children


def test_enumerated_labels_exist_at_zero_before_the_first_event(metrics: Metrics) -> None:
    """``increase()`` sees a first dead letter only if its series existed before (the DLQ alert needs it)."""
    text = scrape(metrics)
    for kind in INVALID_KINDS:
        assert f'clearance_invalid_events_total{{kind="{kind}"}} 0.0' in text
    for event_type in EVENT_TYPES:
        assert f'clearance_events_consumed_total{{type="{event_type}"}} 0.0' in text
    for op in RECORD_OPS:
        assert f'clearance_records_applied_total{{op="{op}"}} 0.0' in text
    for change in CANDIDATE_CHANGES:
        assert f'clearance_candidate_changes_total{{change="{change}"}} 0.0' in text
    assert "clearance_worker_recovering 0.0" in text


def test_histograms_use_the_explicit_buckets(metrics: Metrics) -> None:
    exposed = families(metrics)
    for name, buckets in (
        ("clearance_event_processing_seconds", PROCESSING_BUCKETS),
        ("clearance_event_to_determination_seconds", EVENT_TO_DETERMINATION_BUCKETS),
    ):
        bounds = [float(s.labels["le"]) for s in exposed[name].samples if s.name.endswith("_bucket")]
        assert bounds == [*buckets, float("inf")]
    assert (PROCESSING_BUCKETS[0], PROCESSING_BUCKETS[-1]) == (50e-6, 5.0)
    assert (EVENT_TO_DETERMINATION_BUCKETS[0], EVENT_TO_DETERMINATION_BUCKETS[-1]) == (1e-3, 60.0)
    for buckets in (PROCESSING_BUCKETS, EVENT_TO_DETERMINATION_BUCKETS):
        assert list(buckets) == sorted(set(buckets))


def test_observations_land_in_the_right_bucket(metrics: Metrics) -> None:
    metrics.event_processing_seconds.observe(0.0003)
    text = scrape(metrics)
    assert 'clearance_event_processing_seconds_bucket{le="0.00025"} 0.0' in text
    assert 'clearance_event_processing_seconds_bucket{le="0.0005"} 1.0' in text


def test_determination_labels() -> None:
    assert determination_label("Eligible for Dismissal") == "Eligible for Dismissal"
    assert determination_label("") == "none"
    assert determination_label(None) == "none"
    assert determination_label("Eligible for Dismissal", retracted=True) == "retracted"


def test_determinations_counter_uses_none_and_retracted(metrics: Metrics) -> None:
    metrics.determination_emitted("configurable", "YOLO", "")
    metrics.determination_emitted("configurable", "YOLO", "Eligible for Reduction", retracted=True, count=2)
    samples = {
        s.labels["determination"]: s.value
        for s in families(metrics)["clearance_determinations_emitted"].samples
        if s.name.endswith("_total")
    }
    assert samples == {"none": 1.0, "retracted": 2.0}


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.event_consumed("record.deleted"),
        lambda m: m.record_applied("deleted"),
        lambda m: m.dead_lettered("CII 12345678"),
        lambda m: m.candidate_changed("removed"),
        lambda m: m.set_impact("YOLO", "no_record", 1),
    ],
)
def test_enumerated_labels_reject_free_form_values(metrics: Metrics, call) -> None:
    with pytest.raises(ValueError, match="must be one of"):
        call(metrics)
    assert "CII" not in scrape(metrics)


def test_build_info_is_one_series_of_value_one(metrics: Metrics) -> None:
    metrics.set_build_info("old")
    metrics.set_build_info("new")
    samples = families(metrics)["clearance_build_info"].samples
    assert [(s.labels, s.value) for s in samples] == [
        ({"version": __version__, "ruleset": RULESET_VERSION, "policies": "new"}, 1.0)
    ]


def test_bundle_registers_on_the_injected_registry_only() -> None:
    registry = CollectorRegistry()
    Metrics.create(registry)
    Metrics.create(CollectorRegistry())  # a second registry is independent
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Metrics.create(registry)


def test_docs_and_markdown_table_cover_every_metric() -> None:
    table = markdown_table()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(SPECS)
    for name, help_text in METRIC_DOCS.items():
        assert f"`{name}`" in table and help_text in table
    assert "sum across workers" in METRIC_DOCS["clearance_impact_subjects"]


def test_serve_exposes_the_registry_over_http(metrics: Metrics) -> None:
    metrics.set_build_info("feedface")
    server = serve(metrics.registry, "127.0.0.1", 0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5) as response:
            body = response.read().decode()
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert 'policies="feedface"' in body
    assert "clearance_event_processing_seconds_bucket" in body


@pytest.mark.prometheus
def test_promtool_lints_the_exposition(metrics: Metrics, promtool: str) -> None:
    exercise(metrics)
    result = subprocess.run(
        [promtool, "check", "metrics"], input=scrape(metrics), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing; CI installs it with scripts/setup.sh --prometheus")
        pytest.skip("promtool not installed (scripts/setup.sh --prometheus)")
    return path


def test_held_events_take_only_their_causes(metrics: Metrics) -> None:
    metrics.held("output_size")
    assert metrics.registry.get_sample_value("clearance_held_events_total", {"cause": "output_size"}) == 1
    assert metrics.registry.get_sample_value("clearance_held_events_total", {"cause": "state_budget"}) == 0
    with pytest.raises(ValueError):
        metrics.held("S1")
