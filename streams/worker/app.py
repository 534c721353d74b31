"""The Faust application, built by passing settings and policies in: ``create_app(settings, policies)``.

``clearance worker --policies FILE`` validates the policies and asks the broker for the input's partition count,
then builds the app here. ``faust -A streams.worker.app worker`` reads the app lazily through this module's
``app`` attribute, built from the environment (:class:`~streams.settings.Settings`, ``CLEARANCE_POLICIES``,
``CLEARANCE_PARTITIONS``) on first access: importing this module builds nothing and creates no folder.

The agent stays thin — decode → pure core → emit, in :class:`~streams.worker.handler.EventHandler` — and the rest
of the worker's shell is :class:`~streams.worker.service.WorkerService`. Faust's web server is off: its table
views would serve people's records over HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.types import TP
from prometheus_client import REGISTRY

from streams.settings import RECORD_CHANGES, Settings
from streams.worker import faust_patches
from streams.worker.gauges import Gauges
from streams.worker.handler import EventHandler
from streams.worker.metrics import Metrics
from streams.worker.policies import Policies, load_policies
from streams.worker.refresh import Refresher
from streams.worker.service import WorkerService
from streams.worker.store import ROCKSDB_OPTIONS, FaustTableStore

TABLE = "subjects"
# The group drops a worker that sent no heartbeat for this long (its partitions go to another); the zombie fence
# (faust_patches.fence_zombie_writes) holds a worker's writes past it.
SESSION_TIMEOUT_S = 10.0
YIELD_EVERY = 32  # events the agent handles between turns it gives the event loop


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


def create_app(settings: Settings, policies: Policies, metrics: Metrics | None = None) -> faust.App:
    """Build the worker's app. ``settings.partitions`` must equal the input topic's (the table is co-partitioned
    with it); ``metrics`` default to a bundle on prometheus_client's global registry. The built
    :class:`WorkerService` is ``app.clearance``."""
    faust_patches.apply(settings.fetch_max_wait_ms, SESSION_TIMEOUT_S)
    partitions = settings.partitions
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
        topic_replication_factor=settings.replication_factor,
        broker_session_timeout=SESSION_TIMEOUT_S,
        broker_heartbeat_interval=3.0,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        # measured (BENCHMARKS.md): 20 ms instead of 5 ms is ~5 % more bulk throughput for ~+7 ms live latency
        producer_linger=settings.producer_linger_ms / 1000,
        producer_max_batch_size=512 * 1024,
        # the handler checks every output and dead letter against this limit before sending (issue #10)
        producer_max_request_size=settings.max_message_bytes,
        producer_acks=-1,
        stream_wait_empty=False,
        # a standby keeps another worker's table partitions warm from their changelog: on failover it is already
        # restored (Kafka Streams' num.standby.replicas); each copy costs the changelog read and the disk again
        table_standby_replicas=settings.standby_replicas,
        processing_guarantee=settings.processing_guarantee,
    )
    faust_patches.disable_web(app)
    # The worker takes faust's Monitor sensor out once running (WorkerService.before_first_event); this bare sensor,
    # which does nothing, keeps faust's rebalance bookkeeping from warning that there are no sensors.
    app.sensors.add(faust.Sensor())
    input_topic = settings.topic(RECORD_CHANGES)
    changes = app.topic(input_topic, key_type=bytes, value_type=bytes, partitions=partitions)
    # Co-partitioned with the input: a key lives in its event's partition, so a read is one RocksDB lookup in that
    # partition's database (with use_partitioner=True faust probes every partition's database and hashes each
    # changelog key again). The refresh, which writes outside any event, names the partition itself
    # (FaustTableStore.put_outside_event).
    table = app.Table(TABLE, key_type=bytes, value_type=bytes, partitions=partitions, options=dict(ROCKSDB_OPTIONS))
    metrics = metrics if metrics is not None else Metrics.create(REGISTRY)
    gauges = Gauges(metrics, input_topic)
    store = FaustTableStore(table, input_topic, partitions)
    exactly_once = settings.processing_guarantee == "exactly_once"
    producer = faust_patches.TransactionalSends(app, input_topic) if exactly_once else app.producer
    handler = EventHandler(producer, settings, policies, metrics, store, gauges, settings.processing_date)
    service = WorkerService(app, settings, handler, Refresher(handler), settings.processing_date)
    app.clearance = service  # type: ignore[attr-defined]
    faust_patches.never_acknowledge_gaps(input_topic)

    @app.agent(changes, name="classify")
    async def classify(stream: faust.StreamT) -> None:
        await service.before_first_event(table)
        handled = 0
        async for event in stream.events():
            msg = event.message
            if not await service.in_order(msg):
                continue  # records before it were skipped: it waits for them (streams.worker.continuity)
            await handler.handle(msg.key, msg.value, msg.topic, msg.partition, msg.offset)
            service.handled(msg.partition, msg.offset)
            handled += 1
            if handled % YIELD_EVERY == 0:
                # A buffered stream never suspends, so give the loop a turn: faust's producer buffer (the table's
                # changelog writes, max 100 before it throttles the stream with a warning) and timers run then.
                await asyncio.sleep(0)

    @app.task
    async def serve_metrics() -> None:
        service.serve_metrics()

    @app.timer(interval=2.0)
    async def housekeeping() -> None:
        await service.housekeeping()

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # faust's signal type wants `signal` by name
    async def on_revoked(app: faust.App, revoked: set[TP], **_: Any) -> None:
        service.on_revoked(revoked)

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]
    async def on_rebalanced(app: faust.App, **_: Any) -> None:
        service.on_rebalance_complete()

    return app


def app_from_environment() -> faust.App:
    """The app ``faust -A streams.worker.app`` runs: settings and policies from the environment, checked like
    ``clearance worker`` checks them (topics, input partitions = CLEARANCE_PARTITIONS, the policy change)."""
    from streams.worker.preflight import preflight_or_exit

    settings = Settings()
    policies = load_policies(settings.policies_path)
    preflight_or_exit(settings, policies, input_partitions=settings.partitions)
    return create_app(settings, policies)


_built: dict[str, faust.App] = {}


def __getattr__(name: str) -> Any:
    """``streams.worker.app.app``, built on first access (PEP 562), so importing the module has no side effect."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if "app" not in _built:
        _built["app"] = app_from_environment()
    return _built["app"]
