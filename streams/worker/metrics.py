"""Prometheus metrics of the streaming worker, as one typed bundle built on an injected registry.

Why a bundle: the worker receives every metric through one object (tests pass a fresh
``CollectorRegistry``), the names and label sets live in one table (``SPECS``) that also generates the README
table, and the tests check the deploy rules and dashboards against the same names.

Personal data never reaches a label: the label names are a closed set (``ALLOWED_LABELS``), and labels whose
values are enumerations (``type``, ``op``, ``kind``, ``change``, ``figure``) are pre-created at zero so that
``rate()`` and ``increase()`` see the first event. ``county`` (a county name), ``flow`` and ``determination``
(the rule engine's outcome text) are low-cardinality domain values; ``topic``/``partition`` describe Kafka.

Counting contract for ``court.record-changes`` (the error-ratio rule relies on it): every message read
increments exactly one of ``clearance_events_consumed_total{type}`` (accepted) or
``clearance_invalid_events_total{kind}`` with kind ``not_json|schema|unknown_type|oversized`` (rejected before
processing); an accepted event that then fails in the rules also increments
``clearance_invalid_events_total{kind="processing"}``.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from streams import RULESET_VERSION, __version__
from streams.doj.quality import CODES as DATA_QUALITY_CODES
from streams.errors import ClearanceError
from streams.events.model import CANDIDATE_CHANGES, ERROR_KINDS, EVENT_TYPES, Retract, Upsert
from streams.events.model import RETRACTED as RETRACTED_STATUS
from streams.summary import RELIEF_FIGURES

__all__ = [
    "ALLOWED_LABELS",
    "CANDIDATE_CHANGES",
    "EVENT_TO_DETERMINATION_BUCKETS",
    "IMPACT_FIGURES",
    "INVALID_KINDS",
    "METRIC_DOCS",
    "PROCESSING_BUCKETS",
    "RECORD_OPS",
    "SPECS",
    "HealthCheck",
    "MetricSpec",
    "Metrics",
    "MetricsPortError",
    "determination_label",
    "markdown_table",
    "serve",
]

RECORD_OPS = (Upsert.op, Retract.op)
INVALID_KINDS = ERROR_KINDS
IMPACT_FIGURES = tuple(RELIEF_FIGURES)

# Determination label values for "no determination" and "the conviction was retracted" (the status's name).
NO_DETERMINATION = "none"
RETRACTED = RETRACTED_STATUS

# Per-event processing: the rules take ~2-3 µs and faust ~160 µs per message (shared/faust-notes.md), so the
# interesting range is 50 µs .. a few ms, with a tail up to seconds for GC pauses and RocksDB compaction.
PROCESSING_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)
# End to end (event emitted_at → determination emitted): milliseconds when keeping up, a minute under lag.
EVENT_TO_DETERMINATION_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)

# Every label name any metric may carry; the tests assert the exposition never shows another one.
ALLOWED_LABELS = frozenset(
    {"type", "op", "kind", "flow", "county", "determination", "change", "topic", "partition", "figure",
     "version", "ruleset", "policies", "code", "cause", "result"}
)
REEVALUATION_CAUSES = ("policies", "ruleset", "date", "extract")
# Why a valid event was not applied (the person is then held for hand review): its person's state would exceed the
# state budget, or one of its outputs the message limit (streams.worker.handler).
HOLD_CAUSES = ("state_budget", "output_size")

Kind = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric as exposed: ``name`` is the full series name (``_total`` included for counters)."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


SPECS: Mapping[str, MetricSpec] = {
    "events_consumed": MetricSpec(
        "clearance_events_consumed_total", "counter",
        "Record-change events accepted from court.record-changes, by event type.", ("type",)),
    "records_applied": MetricSpec(
        "clearance_records_applied_total", "counter",
        "DOJ records written to (upserted) or removed from (retracted) the per-subject state.", ("op",)),
    "invalid_events": MetricSpec(
        "clearance_invalid_events_total", "counter",
        "Events written to the dead-letter topic, by reason (not_json, schema, unknown_type, oversized, "
        "processing).", ("kind",)),
    "determinations_emitted": MetricSpec(
        "clearance_determinations_emitted_total", "counter",
        "Determination events emitted, by flow, county and determination (none = no determination, "
        "retracted = conviction withdrawn).", ("flow", "county", "determination")),
    "candidate_changes": MetricSpec(
        "clearance_candidate_changes_total", "counter",
        "Changes published to clearance.dismissal-candidates (added, changed, withdrawn).", ("change",)),
    "event_processing_seconds": MetricSpec(
        "clearance_event_processing_seconds", "histogram",
        "Wall time to process one record-change event in the worker (decode, rules, emit).",
        buckets=PROCESSING_BUCKETS),
    "event_to_determination_seconds": MetricSpec(
        "clearance_event_to_determination_seconds", "histogram",
        "Delay from an event's emitted_at to the emission of the determinations it caused.",
        buckets=EVENT_TO_DETERMINATION_BUCKETS),
    "consumer_lag": MetricSpec(
        "clearance_consumer_lag", "gauge",
        "Messages not yet consumed (end offset minus position) per assigned topic partition.",
        ("topic", "partition")),
    "subjects_in_state": MetricSpec(
        "clearance_subjects_in_state", "gauge",
        "Subjects (people) held in this worker's state; sum across workers for the total."),
    "candidates": MetricSpec(
        "clearance_candidates", "gauge",
        "Current dismissal/reduction candidates held by this worker, by county and determination; sum across "
        "workers for the total.", ("county", "determination")),
    "impact_subjects": MetricSpec(
        "clearance_impact_subjects", "gauge",
        "People who would be left with no felony, no conviction, or no conviction in the last 7 years; "
        "each worker counts only the subjects it holds, so sum across workers for the total.",
        ("county", "figure")),
    "rebalances": MetricSpec(
        "clearance_rebalances_total", "counter", "Consumer-group rebalances this worker went through."),
    "input_rewinds": MetricSpec(
        "clearance_input_rewinds_total", "counter",
        "Times the consumer handed over an input record past offsets it had skipped (records faust fetched and "
        "dropped) and the partition was read again from the first skipped offset; the later record waited."),
    "worker_recovering": MetricSpec(
        "clearance_worker_recovering", "gauge",
        "1 while the worker restores table state or rebalances, else 0."),
    "last_event_timestamp": MetricSpec(
        "clearance_last_event_timestamp_seconds", "gauge",
        "Unix time at which this worker last processed an event."),
    "data_quality": MetricSpec(
        "clearance_data_quality_total", "counter",
        "Determinations emitted with a data-quality flag, by flag code (dob_missing, dob_invalid, date_missing, "
        "date_invalid, subject_id_mismatch, sentence_without_conviction).", ("code",)),
    "convictions_without_policy": MetricSpec(
        "clearance_convictions_without_policy", "gauge",
        "Convictions held by this worker in counties that have no policy (so no determination), by the county name "
        "normalised to one of California's counties, or 'unrecognised'.", ("county",)),
    "reevaluations": MetricSpec(
        "clearance_reevaluated_subjects_total", "counter",
        "Held subjects checked without an event and how many of them changed (result=checked|changed), by cause "
        "(policies, ruleset, date, extract).", ("cause", "result")),
    "held_events": MetricSpec(
        "clearance_held_events_total", "counter",
        "Valid events not applied, each dead-lettered (kind processing): the person's state would exceed its budget "
        "(cause=state_budget) or an output the message limit (cause=output_size), or the person is held for hand "
        "review since such an event (its later events wait in the dead-letter topic until the limit is raised).",
        ("cause",)),
    "build_info": MetricSpec(
        "clearance_build_info", "gauge",
        "Always 1; labels name the package version, the ruleset version and the policies fingerprint.",
        ("version", "ruleset", "policies")),
}

METRIC_DOCS: Mapping[str, str] = {spec.name: spec.help for spec in SPECS.values()}


def _build(spec: MetricSpec, registry: CollectorRegistry) -> Counter | Gauge | Histogram:
    """Create one collector (prometheus_client appends ``_total`` to counters itself, hence the strip)."""
    if spec.kind == "counter":
        return Counter(spec.name.removesuffix("_total"), spec.help, spec.labels, registry=registry)
    if spec.kind == "gauge":
        return Gauge(spec.name, spec.help, spec.labels, registry=registry)
    return Histogram(spec.name, spec.help, spec.labels, registry=registry, buckets=spec.buckets)


def determination_label(determination: str | None, *, retracted: bool = False) -> str:
    """Determination label: the engine's text, ``none`` when empty, ``retracted`` for withdrawals."""
    if retracted:
        return RETRACTED
    return determination or NO_DETERMINATION


class Metrics(NamedTuple):
    """Every metric of the worker; build with ``Metrics.create(registry)`` and share the one instance.

    Field names are the keys of ``SPECS``; ``registry`` is the registry they live on (what ``serve`` exposes).
    """

    events_consumed: Counter
    records_applied: Counter
    invalid_events: Counter
    determinations_emitted: Counter
    candidate_changes: Counter
    event_processing_seconds: Histogram
    event_to_determination_seconds: Histogram
    consumer_lag: Gauge
    subjects_in_state: Gauge
    candidates: Gauge
    impact_subjects: Gauge
    rebalances: Counter
    input_rewinds: Counter
    worker_recovering: Gauge
    last_event_timestamp: Gauge
    data_quality: Counter
    convictions_without_policy: Gauge
    reevaluations: Counter
    held_events: Counter
    build_info: Gauge
    registry: CollectorRegistry
    # (metric field, label values) → labelled child: ``labels()`` re-checks and re-hashes its arguments on every
    # call (~2 µs), and the worker counts several times per event
    children: dict[tuple[str, tuple[str, ...]], Any]

    @classmethod
    def create(cls, registry: CollectorRegistry) -> Metrics:
        """Register every metric on ``registry`` and pre-create the enumerated label values at zero."""
        collectors = {field: _build(spec, registry) for field, spec in SPECS.items()}
        metrics = cls(registry=registry, children={}, **collectors)  # type: ignore[arg-type]
        for event_type in EVENT_TYPES:
            metrics.events_consumed.labels(type=event_type)
        for op in RECORD_OPS:
            metrics.records_applied.labels(op=op)
        for kind in INVALID_KINDS:
            metrics.invalid_events.labels(kind=kind)
        for change in CANDIDATE_CHANGES:
            metrics.candidate_changes.labels(change=change)
        for code in DATA_QUALITY_CODES:
            metrics.data_quality.labels(code=code)
        for cause in REEVALUATION_CAUSES:
            for result in ("checked", "changed"):
                metrics.reevaluations.labels(cause=cause, result=result)
        for cause in HOLD_CAUSES:
            metrics.held_events.labels(cause=cause)
        metrics.worker_recovering.set(0)
        return metrics

    def _child(self, field: str, values: tuple[str, ...], allowed: tuple[str, ...] | None = None) -> Any:
        """The labelled child of metric ``field``; ``allowed``: the values the single label may take."""
        key = (field, values)
        child = self.children.get(key)
        if child is None:
            if allowed is not None:
                _member(values[0], allowed, SPECS[field].labels[0])
            child = self.children[key] = getattr(self, field).labels(*values)
        return child

    def event_consumed(self, event_type: str) -> None:
        """Count an accepted event; an unknown type is a caller bug (it should have been dead-lettered)."""
        self._child("events_consumed", (event_type,), EVENT_TYPES).inc()

    def record_applied(self, op: str, count: int = 1) -> None:
        self._child("records_applied", (op,), RECORD_OPS).inc(count)

    def dead_lettered(self, kind: str) -> None:
        """Count one dead-letter write; ``kind`` is ``EventError.kind``."""
        self.invalid_events.labels(kind=_member(kind, INVALID_KINDS, "kind")).inc()

    def determination_emitted(
        self, flow: str, county: str, determination: str | None, *, retracted: bool = False, count: int = 1
    ) -> None:
        label = determination_label(determination, retracted=retracted)
        self._child("determinations_emitted", (flow, county, label)).inc(count)

    def candidate_changed(self, change: str) -> None:
        self._child("candidate_changes", (change,), CANDIDATE_CHANGES).inc()

    def flagged(self, codes: list[str]) -> None:
        """Count one emitted determination's data-quality flags."""
        for code in codes:
            self._child("data_quality", (code,), DATA_QUALITY_CODES).inc()

    def reevaluated(self, cause: str, checked: int, changed: int) -> None:
        _member(cause, REEVALUATION_CAUSES, "cause")
        self.reevaluations.labels(cause=cause, result="checked").inc(checked)
        self.reevaluations.labels(cause=cause, result="changed").inc(changed)

    def held(self, cause: str) -> None:
        """Count one valid event not applied (the person held for hand review) for ``cause``."""
        self._child("held_events", (cause,), HOLD_CAUSES).inc()

    def set_impact(self, county: str, figure: str, subjects: int) -> None:
        figure = _member(figure, IMPACT_FIGURES, "figure")
        self.impact_subjects.labels(county=county, figure=figure).set(subjects)

    def set_build_info(
        self, policies: str, *, version: str = __version__, ruleset: str = RULESET_VERSION
    ) -> None:
        """Say which code and rules produce the outputs; ``policies`` is a short digest of the document."""
        self.build_info.clear()
        self.build_info.labels(version=version, ruleset=ruleset, policies=policies).set(1)


def _member(value: str, allowed: tuple[str, ...], label: str) -> str:
    """Keep enumerated labels closed: a free-form value here could smuggle an id into a time series."""
    if value not in allowed:
        raise ValueError(f"{label} label must be one of {', '.join(allowed)}, not {value!r}")
    return value


class MetricsPortError(ClearanceError):
    """The metrics address cannot be bound (in use, or not this machine's); the message names the setting."""


# (ok, one-line reason) of a health endpoint; called on the server's thread, so it must only read a snapshot.
HealthCheck = Callable[[], tuple[bool, str]]


def _always_ok() -> tuple[bool, str]:
    return True, "ok"


class _Handler(BaseHTTPRequestHandler):
    """``/metrics``, ``/healthz`` and ``/readyz``; any other path is 404 (a probe or scrape with a typo must fail,
    not get the metrics)."""

    server: _MetricsServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(200, encoder(self.server.registry), content_type)
        elif path in ("/healthz", "/readyz"):
            check = self.server.liveness if path == "/healthz" else self.server.readiness
            ok, reason = check()
            self._send(200 if ok else 503, f"{reason}\n".encode(), "text/plain; charset=utf-8")
        else:
            self._send(404, b"not found: /metrics, /healthz, /readyz\n", "text/plain; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # http.server's signature
        """Silent: a scrape every few seconds would flood the worker's log."""


class _MetricsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], registry: CollectorRegistry, liveness: HealthCheck,
                 readiness: HealthCheck) -> None:
        self.registry = registry
        self.liveness = liveness
        self.readiness = readiness
        super().__init__(address, _Handler)


def serve(
    metrics_registry: CollectorRegistry, host: str, port: int, *, liveness: HealthCheck = _always_ok,
    readiness: HealthCheck = _always_ok,
) -> ThreadingHTTPServer:
    """Serve ``/metrics``, ``/healthz`` (``liveness``) and ``/readyz`` (``readiness``) from a daemon thread; a
    failing check answers 503 with its reason. Not Faust's web server, which would expose table contents. Port 0
    picks a free port (read it from ``server.server_port``); stop with ``server.shutdown(); server.server_close()``.
    A port in use is a :class:`MetricsPortError` with one line saying so."""
    try:
        server = _MetricsServer((host, port), metrics_registry, liveness, readiness)
    except OSError as exc:
        reason = "is in use by another program" if exc.errno == errno.EADDRINUSE else f"cannot be bound: {exc.strerror}"
        raise MetricsPortError(
            f"metrics address {host}:{port} {reason}; set CLEARANCE_METRICS_PORT (or --metrics-port) to a free port"
        ) from None
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server


def markdown_table() -> str:
    """README table of every metric, generated from ``SPECS`` so the documentation cannot drift."""
    rows = ["| metric | type | labels | meaning |", "|---|---|---|---|"]
    for spec in SPECS.values():
        labels = ", ".join(f"`{label}`" for label in spec.labels) or "–"
        rows.append(f"| `{spec.name}` | {spec.kind} | {labels} | {spec.help} |")
    return "\n".join(rows) + "\n"
