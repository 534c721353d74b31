"""The Faust application: ``faust -A streams.worker.app worker`` or ``clearance worker --policies FILE``.

The agent stays thin — decode → pure core (``streams.incremental``) → emit — and everything it needs lives in one
``Runtime`` object (settings, policies, metrics, topic names) so tests can build an app with a memory store.
Faust's web server is off: its table views would serve people's records over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import faust
from faust.types import TP

from streams.settings import RECORD_CHANGES, Settings
from streams.worker import faust_patches as faust_tuning
from streams.worker.handler import Runtime

log = logging.getLogger(__name__)

TABLE = "subjects"
YIELD_EVERY = 32  # events the agent handles between turns it gives the event loop
# How long the broker may hold a fetch that finds no new data (faust hard-codes 1,500 ms: see faust_tuning).
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


def create_app(settings: Settings | None = None, partitions: int | None = None) -> faust.App:
    """Build the app; ``partitions`` must equal the input topic's (the table is co-partitioned with it)."""
    settings = settings or Settings()
    partitions = partitions or int(os.environ.get("CLEARANCE_PARTITIONS", "4"))
    faust_tuning.shorten_fetch_wait(FETCH_MAX_WAIT_MS)
    faust_tuning.rocksdb_without_wal()
    faust_tuning.deliver_without_tasks()
    faust_tuning.publish_without_yield()
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
        # measured (BENCHMARKS.md): 20 ms instead of 5 ms is ~5 % more bulk throughput for ~+7 ms live latency
        producer_linger=settings.producer_linger_ms / 1000,
        producer_max_batch_size=512 * 1024,
        producer_acks=-1,
        stream_wait_empty=False,
        table_standby_replicas=0,
    )
    # `faust -A streams.worker.app worker` switches web_enabled back on unless given --without-web; the boot strategy's
    # own flag wins over the setting, so faust's web server (whose /table views would serve people's records)
    # stays off whichever command starts the worker.
    app.boot_strategy.enable_web = False
    # The worker takes faust's Monitor sensor out once running (Runtime.before_first_event); this bare sensor,
    # which does nothing, keeps faust's rebalance bookkeeping from warning that there are no sensors.
    app.sensors.add(faust.Sensor())
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
        handled = 0
        async for event in stream.events():
            msg = event.message
            await runtime.handle(msg.key, msg.value, msg.topic, msg.partition, msg.offset)
            handled += 1
            if handled % YIELD_EVERY == 0:
                # A buffered stream never suspends, so give the loop a turn: faust's producer buffer (the table's
                # changelog writes, max 100 before it throttles the stream with a warning) and timers run then.
                await asyncio.sleep(0)

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
