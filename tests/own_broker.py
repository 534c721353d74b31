"""A test module's own broker, for tests that kill -9 and restart it (never the session's, which other tests share):
``own_broker_fixture`` makes the module-scoped fixture, :func:`kill_9` and :func:`restart` bounce it."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from fixtures_kafka import BROKER_START_TIMEOUT_S, free_port, wait_until

from streams.kafka.broker import LocalBroker


def own_broker_fixture(name: str) -> Any:
    @pytest.fixture(scope="module")
    def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
        broker = LocalBroker(tmp_path_factory.mktemp(name), f"127.0.0.1:{free_port()}", die_with_parent=True)
        broker.start(timeout=BROKER_START_TIMEOUT_S)
        try:
            yield broker
        finally:
            broker.stop()

    return own_broker


def kill_9(broker: LocalBroker) -> None:
    pid = broker.status().pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not broker.is_running(), 30, "the broker to die")


def restart(broker: LocalBroker) -> None:
    if not broker.is_running():
        broker.start(timeout=BROKER_START_TIMEOUT_S)
