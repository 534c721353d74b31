"""The Faust application: ``faust -A streams.app worker`` or ``clearance worker --policies FILE``.

The agent stays thin — decode → pure core (``streams.incremental``) → emit — and everything it needs lives in one
``Runtime`` object (settings, policies, metrics, topic names) so tests can build an app with a memory store.
Faust's web server is off: its table views would serve people's records over HTTP.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import faust
from faust.types import TP

from streams.runtime import Runtime
from streams.settings import RECORD_CHANGES, Settings

log = logging.getLogger(__name__)

TABLE = "subjects"
# How long the broker may hold a fetch that finds no new data. faust hard-codes 1,500 ms, and because aiokafka keeps
# one fetch in flight per broker, a fetch that only covers idle partitions (faust's assignor topic, table
# changelogs) blocked the input partitions for up to 1.5 s several times a second: measured, it cut bulk throughput
# by 4x. A short wait costs only a few more empty fetch round trips while idle.
FETCH_MAX_WAIT_MS = int(os.environ.get("CLEARANCE_FETCH_MAX_WAIT_MS", "50"))


def _credentials(settings: Settings) -> Any:
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism,
            ssl_context=settings.ssl_context() if settings.security_protocol == "SASL_SSL" else None,
        )
    if settings.security_protocol == "SSL":
        return faust.SSLCredentials(settings.ssl_context())
    return None


def _shorten_fetch_wait(max_wait_ms: int) -> None:
    """Make faust's consumers use ``max_wait_ms`` as ``fetch_max_wait_ms`` (faust offers no setting for it)."""
    from faust.transport.drivers import aiokafka as faust_aiokafka

    thread_class = faust_aiokafka.AIOKafkaConsumerThread
    original = getattr(thread_class, "_clearance_original_create", thread_class._create_worker_consumer)

    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = max_wait_ms  # read when the consumer starts its fetcher
        return consumer

    thread_class._clearance_original_create = original  # type: ignore[attr-defined]
    thread_class._create_worker_consumer = create_worker_consumer  # type: ignore[method-assign]


def _rocksdb_without_wal() -> None:
    """Open faust's RocksDB partitions with the write-ahead log off (faust offers no setting for it).

    The table's changelog topic is the durable copy, as in Kafka Streams (which turns RocksDB's WAL off for the
    same reason): after a crash RocksDB reopens at its last flushed memtable, whose persisted changelog offset
    is written in the same memtable as the values, and faust replays the changelog from there. The WAL only
    doubled every write (measured: 7.4 µs → 1.2 µs per 5 KB put).
    """
    from faust.stores import rocksdb as faust_rocksdb

    if not faust_rocksdb.USE_ROCKSDICT:
        return
    options_class = faust_rocksdb.RocksDBOptions
    original = getattr(options_class, "_clearance_original_open", options_class.open)

    def open_without_wal(self: Any, path: Any, *, read_only: bool = False) -> Any:
        db = original(self, path, read_only=read_only)
        if not self.use_rocksdict:
            return db
        write_options = faust_rocksdb.rocksdict.WriteOptions()
        write_options.disable_wal = True
        db.set_write_options(write_options)
        return db

    options_class._clearance_original_open = original  # type: ignore[attr-defined]
    options_class.open = open_without_wal  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, partitions: int | None = None) -> faust.App:
    """Build the app; ``partitions`` must equal the input topic's (the table is co-partitioned with it)."""
    settings = settings or Settings()
    partitions = partitions or int(os.environ.get("CLEARANCE_PARTITIONS", "4"))
    _shorten_fetch_wait(FETCH_MAX_WAIT_MS)
    _rocksdb_without_wal()
    app_id = settings.topic(settings.app_id)
    datadir = settings.data_dir / "worker" / app_id  # one datadir per app id: RocksDB files must not mix
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id,
        broker=[f"kafka://{host}" for host in settings.bootstrap.split(",")],
        broker_credentials=_credentials(settings),
        store=settings.store,
        datadir=str(datadir),
        web_enabled=False,
        autodiscover=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=partitions,
        topic_replication_factor=int(os.environ.get("CLEARANCE_REPLICATION_FACTOR", "1")),
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        producer_linger=0.005,  # 30 ms gave ~10 % more bulk throughput but p99 live latency ~300 ms
        producer_max_batch_size=512 * 1024,
        producer_acks=-1,
        stream_wait_empty=False,
        table_standby_replicas=0,
    )
    # `faust -A streams.app worker` switches web_enabled back on unless given --without-web; the boot strategy's
    # own flag wins over the setting, so faust's web server (whose /table views would serve people's records)
    # stays off whichever command starts the worker.
    app.boot_strategy.enable_web = False
    runtime = Runtime(app, settings, partitions)
    app.clearance = runtime  # type: ignore[attr-defined]
    changes = app.topic(settings.topic(RECORD_CHANGES), key_type=bytes, value_type=bytes, partitions=partitions)
    # Co-partitioned with the input: a key lives in its event's partition, so a read is one RocksDB lookup in that
    # partition's database (with use_partitioner=True faust probes every partition's database and hashes each
    # changelog key again). The policy/date refresh, which writes outside any event, names the partition itself
    # (Runtime._refresh_all).
    table = app.Table(TABLE, key_type=bytes, value_type=bytes, partitions=partitions)
    runtime.table = table

    @app.agent(changes, name="classify")
    async def classify(stream: faust.StreamT) -> None:
        await runtime.before_first_event()
        async for event in stream.events():
            msg = event.message
            await runtime.handle(msg.key, msg.value, msg.topic, msg.partition, msg.offset)

    @app.task
    async def serve_metrics() -> None:
        runtime.start()

    @app.timer(interval=2.0)
    async def housekeeping() -> None:
        await runtime.housekeeping()

    @app.on_partitions_revoked.connect
    async def on_revoked(app: faust.App, revoked: set[TP], **_: Any) -> None:
        runtime.on_revoked(revoked)

    @app.on_rebalance_complete.connect
    async def on_rebalanced(app: faust.App, **_: Any) -> None:
        runtime.on_rebalance_complete()

    return app


app = create_app()
