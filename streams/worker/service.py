"""One worker's shell around the faust app: start-up, the housekeeping timer, rebalance signals, /metrics.

``create_app`` builds it with everything it needs (handler, gauges, refresher, metrics, settings); the agent, the
timer and faust's signals in :mod:`streams.worker.app` only call it. Every reach into faust's internals goes
through :mod:`streams.worker.faust_patches`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from streams.settings import Settings
from streams.worker import explain_api, faust_patches
from streams.worker.gauges import Gauges
from streams.worker.handler import EventHandler, utc_today
from streams.worker.metrics import Metrics, serve
from streams.worker.refresh import Refresher

log = logging.getLogger(__name__)


class WorkerService:
    """The worker's non-event work; ``ready`` once the producer knows the changelog topic."""

    def __init__(
        self,
        app: Any,
        settings: Settings,
        handler: EventHandler,
        refresher: Refresher,
        today: Callable[[], date] = utc_today,
    ) -> None:
        self.app = app
        self.settings = settings
        self.handler = handler
        self.refresher = refresher
        self.today = today
        self.input_topic = handler.gauges.input_topic
        self.ready = False
        self._metrics_server: Any = None
        self._explain_server: explain_api.ExplainServer | None = None
        self._explain_refused = False

    @property
    def metrics(self) -> Metrics:
        return self.handler.metrics

    @property
    def gauges(self) -> Gauges:
        return self.handler.gauges

    def serve_metrics(self) -> None:
        """Serve /metrics (idempotent); quiet the client libraries' value-printing debug logs first."""
        # aiokafka's and faust's debug lines print message keys and values (people's records), and when enabled
        # they cost several % of the worker's CPU formatting 10 KB values: keep them at INFO or above.
        for name in ("aiokafka", "faust"):
            logger = logging.getLogger(name)
            logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
        self.metrics.set_build_info(self.handler.policies.fingerprint)
        if self._metrics_server is None and self.settings.metrics_port > 0:
            host, port = self.settings.metrics_host, self.settings.metrics_port
            self._metrics_server = serve(self.metrics.registry, host, port)
            log.info("metrics on http://%s:%d/metrics", host, port)
        self.serve_explain()

    def serve_explain(self) -> None:
        """Serve the live explain endpoint when ``CLEARANCE_EXPLAIN_PORT`` is set (idempotent; off by default).
        Without a token it is refused with one line and the worker runs on without it."""
        settings = self.settings
        if self._explain_server is not None or self._explain_refused or settings.explain_port <= 0:
            return
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        lookup = explain_api.store_lookup(
            self.handler.store, settings.partitions,
            lambda: faust_patches.assigned_partitions(self.app, self.input_topic), loop)
        try:
            self._explain_server = explain_api.serve(
                lookup, settings.explain_host, settings.explain_port, settings.explain_token())
        except explain_api.ExplainConfigError as exc:
            self._explain_refused = True
            log.error("%s", exc)
            return
        log.info("live explain on http://%s:%d/subjects/<subject_id> (bearer token required)",
                 settings.explain_host, self._explain_server.server_port)

    async def before_first_event(self, table: Any) -> None:
        """Make sure the producer knows the changelog topic before any table write (faust otherwise may hang).
        Idempotent: faust restarts a crashed agent, which runs this again."""
        self.serve_metrics()
        producer = self.app.producer
        await producer.maybe_start()
        # Declare the changelog (faust would, a moment later) before asking for its metadata: asking first would
        # let a broker with auto-creation make it with the default partition count, breaking co-partitioning.
        await table.changelog_topic.maybe_declare()
        changelog = table.changelog_topic.get_topic_name()
        kafka = faust_patches.kafka_producer(producer)
        await kafka.partitions_for(changelog)
        await self.handler.learn_output_partitions(kafka)
        faust_patches.remove_monitor(self.app)
        self.ready = True
        loop = type(asyncio.get_running_loop())
        log.info("worker ready: changelog %s known to the producer; event loop %s.%s", changelog, loop.__module__,
                 loop.__qualname__)

    def on_revoked(self, revoked: set[Any]) -> None:
        """Subjects of revoked partitions now belong to another worker: stop counting them here."""
        self.metrics.rebalances.inc()
        self.gauges.drop_partitions({tp.partition for tp in revoked if tp.topic == self.input_topic})

    def on_rebalance_complete(self) -> None:
        """Table state of the assigned partitions is restored: re-check it against the policies (faust sends
        this signal after recovery, before the streams resume)."""
        self.refresher.request()

    async def housekeeping(self) -> None:
        """Every few seconds: publish gauges and lag; after a rebalance or a date change, re-check held state."""
        recovering = faust_patches.is_recovering(self.app)
        self.metrics.worker_recovering.set(1 if recovering else 0)
        consumer = getattr(self.app, "consumer", None)
        if consumer is not None:
            self.gauges.publish_lag(consumer)
        if recovering or not self.ready:
            return
        await self.refresher.maybe_refresh(self.today())
        self.gauges.publish()
