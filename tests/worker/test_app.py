"""The Faust app as built by ``create_app``, without a broker: the settings faust has no knob for are in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from faust.stores.rocksdb import USE_ROCKSDICT, RocksDBOptions
from prometheus_client import CollectorRegistry

from streams.settings import Settings
from streams.worker import faust_patches
from streams.worker.app import TABLE, create_app
from streams.worker.metrics import Metrics
from streams.worker.policies import parse_policies

POLICIES = parse_policies({"counties": {"LOS ANGELES": {"flow": "los_angeles"}}})


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = Settings(bootstrap="127.0.0.1:1", topic_prefix="t.", data_dir=tmp_path, store="rocksdb://",
                        metrics_port=0, partitions=3)
    return create_app(settings, POLICIES, Metrics.create(CollectorRegistry()))


def test_the_subjects_table_is_co_partitioned_with_the_input(app) -> None:  # type: ignore[no-untyped-def]
    table = app.tables[TABLE]
    assert table.partitions == 3
    assert table.use_partitioner is False  # reads and writes go to the event's partition
    assert app.boot_strategy.enable_web is False


@pytest.mark.skipif(not USE_ROCKSDICT, reason="faust uses rocksdict when it is installed (it is a dependency)")
def test_rocksdb_partitions_open_without_a_write_ahead_log(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "partition.db"
    db = RocksDBOptions().open(path)
    value = b"x" * 5000
    for i in range(200):
        db.put(f"S{i}".encode(), value)
    wal = sum(p.stat().st_size for p in path.glob("*.log"))
    assert wal < 4096, f"{wal} bytes of write-ahead log for 1 MB of puts"
    assert db.get(b"S199") == value
    db.close()
    reopened = RocksDBOptions().open(path)  # a clean close flushes the memtable: nothing is lost
    assert reopened.get(b"S0") == value
    reopened.close()


def test_standby_replicas_and_replication_come_from_the_settings(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(bootstrap="127.0.0.1:1").standby_replicas == 0  # off unless asked for
    monkeypatch.setenv("CLEARANCE_STANDBY_REPLICAS", "1")
    monkeypatch.setenv("CLEARANCE_REPLICATION_FACTOR", "3")
    settings = Settings(bootstrap="127.0.0.1:1", topic_prefix="t.", data_dir=tmp_path, store="memory://",
                        metrics_port=0, partitions=3)
    app = create_app(settings, POLICIES, Metrics.create(CollectorRegistry()))
    assert app.conf.table_standby_replicas == 1
    assert app.conf.topic_replication_factor == 3
    monkeypatch.setenv("CLEARANCE_STANDBY_REPLICAS", "-1")
    with pytest.raises(Exception, match="CLEARANCE_STANDBY_REPLICAS must be at least 0"):
        Settings()


def test_at_least_once_by_default_and_exactly_once_on_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEARANCE_PROCESSING_GUARANTEE", raising=False)
    assert Settings(bootstrap="127.0.0.1:1").processing_guarantee == "at_least_once"
    monkeypatch.setenv("CLEARANCE_PROCESSING_GUARANTEE", "exactly_once")
    settings = Settings(bootstrap="127.0.0.1:1", topic_prefix="t.", data_dir=tmp_path, store="memory://",
                        metrics_port=0, partitions=3)
    app = create_app(settings, POLICIES, Metrics.create(CollectorRegistry()))
    assert app.conf.processing_guarantee.value == "exactly_once"
    assert isinstance(app.clearance.handler.producer, faust_patches.TransactionalSends)  # type: ignore[attr-defined]
    monkeypatch.setenv("CLEARANCE_PROCESSING_GUARANTEE", "at_least_once")
    plain = Settings(bootstrap="127.0.0.1:1", topic_prefix="t2.", data_dir=tmp_path, store="memory://",
                     metrics_port=0, partitions=3)
    app = create_app(plain, POLICIES, Metrics.create(CollectorRegistry()))
    assert app.conf.processing_guarantee.value == "at_least_once"
    assert app.clearance.handler.producer is app.producer  # type: ignore[attr-defined]
    monkeypatch.setenv("CLEARANCE_PROCESSING_GUARANTEE", "exactly-once")
    with pytest.raises(Exception, match="CLEARANCE_PROCESSING_GUARANTEE must be one of at_least_once, exactly_once"):
        Settings()
