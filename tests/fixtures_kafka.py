"""Kafka fixtures: one real broker per test session, a unique topic prefix per test, and Settings for both.

The broker is the project's own (``streams.kafka.broker.LocalBroker``) on a free loopback port in a temporary
data directory, reusing the jars in ``deploy/kafka/lib`` (fetched on first use, which takes a minute on a cold
``~/.m2``). Set ``CLEARANCE_TEST_KAFKA_BOOTSTRAP`` to run the same tests against an existing PLAINTEXT
cluster. Tests that use these fixtures must be marked ``@pytest.mark.kafka`` so ``-m "not kafka"`` deselects
them all; collection fails otherwise.
"""

from __future__ import annotations

import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.kafka.broker import LocalBroker
from streams.settings import Settings

EXTERNAL_BOOTSTRAP_ENV = "CLEARANCE_TEST_KAFKA_BOOTSTRAP"
# Covers a cold JVM on a busy two-core CI runner; the jar fetch before it has its own Maven timeout.
BROKER_START_TIMEOUT_S = 120.0
_BROKER_FIXTURES = frozenset({"kafka_broker", "kafka_bootstrap", "kafka_settings"})


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the kernel's choice, so parallel sessions do not collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        uses_broker = _BROKER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if uses_broker and item.get_closest_marker("kafka") is None:
            raise pytest.UsageError(f"{item.nodeid} uses {sorted(uses_broker)} but lacks @pytest.mark.kafka")


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker | None]:
    """The session's local broker, or ``None`` when an external cluster is configured for the tests."""
    if os.environ.get(EXTERNAL_BOOTSTRAP_ENV):
        yield None
        return
    broker = LocalBroker(
        tmp_path_factory.mktemp("kafka-broker"), f"127.0.0.1:{free_port()}", die_with_parent=True
    )
    broker.start(timeout=BROKER_START_TIMEOUT_S)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: LocalBroker | None) -> str:
    external = os.environ.get(EXTERNAL_BOOTSTRAP_ENV)
    if external:
        return external
    assert kafka_broker is not None
    return kafka_broker.bootstrap


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """``t-<random>-<test name>.``: unique per test, readable in topic listings, a legal topic name."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:40]
    return f"t-{uuid.uuid4().hex[:8]}-{readable}."


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    """Poll ``predicate`` until true (no fixed sleeps: a busy machine only makes it slower); an OSError (a server
    not listening yet) counts as not yet. AssertionError after ``timeout``, with the tail of ``log`` if given."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.25)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def plaintext_settings(bootstrap: str, topic_prefix: str, data_dir: Path) -> Settings:
    """Settings for one test on a PLAINTEXT cluster: its own topic prefix, app id and data dir.

    Every field is explicit so the developer's ``CLEARANCE_*`` environment never leaks into a test.
    """
    return Settings(
        bootstrap=bootstrap,
        security_protocol="PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username="",
        sasl_password="",
        ssl_cafile="",
        data_dir=data_dir,
        topic_prefix=topic_prefix,
        app_id=f"{topic_prefix}clearance-streams",
        store="memory://",
        metrics_port=free_port(),
        metrics_host="127.0.0.1",
    )


@pytest.fixture
def kafka_settings(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Settings:
    """Settings for one test: the session's cluster (see :func:`plaintext_settings`)."""
    return plaintext_settings(kafka_bootstrap, topic_prefix, tmp_path)
