"""The worker's metrics server: /metrics, /healthz and /readyz with their verdicts, 404 for any other path, and a
port in use as one clear error; lag series of partitions the worker no longer holds are removed."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from prometheus_client import CollectorRegistry

from streams.worker.gauges import Gauges
from streams.worker.metrics import Metrics, MetricsPortError, serve

TOPIC = "court.record-changes"


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def server() -> Iterator[tuple[int, dict[str, tuple[bool, str]]]]:
    verdicts = {"live": (True, "ok"), "ready": (False, "recovering (rebalance or table restore)")}
    metrics = Metrics.create(CollectorRegistry())
    metrics.set_build_info("feedface")
    http = serve(metrics.registry, "127.0.0.1", 0, liveness=lambda: verdicts["live"],
                 readiness=lambda: verdicts["ready"])
    try:
        yield http.server_port, verdicts
    finally:
        http.shutdown()
        http.server_close()


def test_health_endpoints_answer_with_their_verdicts(server: tuple[int, dict[str, tuple[bool, str]]]) -> None:
    port, verdicts = server
    assert get(port, "/healthz") == (200, "ok\n")
    assert get(port, "/readyz") == (503, "recovering (rebalance or table restore)\n")
    verdicts["ready"] = (True, "ready")
    verdicts["live"] = (False, "exiting: stalled")
    assert get(port, "/readyz") == (200, "ready\n")
    assert get(port, "/healthz") == (503, "exiting: stalled\n")


def test_only_known_paths_answer(server: tuple[int, dict[str, tuple[bool, str]]]) -> None:
    port, _ = server
    status, body = get(port, "/metrics")
    assert status == 200 and 'policies="feedface"' in body
    for path in ("/", "/metrics/extra", "/health", "/favicon.ico", "/subjects/S1"):
        status, body = get(port, path)
        assert status == 404, path
        assert "clearance_" not in body


def test_a_port_in_use_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsPortError) as caught:
            serve(CollectorRegistry(), "127.0.0.1", port)
    message = str(caught.value)
    assert message == (f"metrics address 127.0.0.1:{port} is in use by another program; set "
                       "CLEARANCE_METRICS_PORT (or --metrics-port) to a free port")


class TP(NamedTuple):
    topic: str
    partition: int


class FakeConsumer:
    """What publish_lag reads of faust's consumer: assignment, high water marks, last offsets handed out."""

    def __init__(self, partitions: set[int], high: int, read: int) -> None:
        self.partitions, self.high, self._read_offset = partitions, high, {}
        for p in partitions:
            self._read_offset[TP(TOPIC, p)] = read

    def assignment(self) -> set[Any]:
        return {TP(TOPIC, p) for p in self.partitions} | {TP("other", 0)}

    def highwater(self, tp: Any) -> int:
        return self.high


def lag_series(metrics: Metrics) -> dict[str, float]:
    return {s.labels["partition"]: s.value for f in metrics.consumer_lag.collect() for s in f.samples}


def test_lag_series_of_partitions_no_longer_held_are_removed() -> None:
    metrics = Metrics.create(CollectorRegistry())
    gauges = Gauges(metrics, TOPIC)
    assert gauges.publish_lag(FakeConsumer({0, 1, 2, 3}, high=100, read=49)) == 200
    assert lag_series(metrics) == {"0": 50, "1": 50, "2": 50, "3": 50}
    gauges.drop_lag({2, 3})  # on_revoked
    assert lag_series(metrics) == {"0": 50, "1": 50}
    assert gauges.publish_lag(FakeConsumer({1}, high=100, read=99)) == 0  # lost 0 without a revoke signal
    assert lag_series(metrics) == {"1": 0}
