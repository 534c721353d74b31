"""One worker's shell around the faust app: start-up, the housekeeping timer, rebalance signals, /metrics and the
health endpoints, the watchdog's exit.

``create_app`` builds it with everything it needs (handler, gauges, refresher, metrics, settings); the agent, the
timer and faust's signals in :mod:`streams.worker.app` only call it. Every reach into faust's internals goes
through :mod:`streams.worker.faust_patches`.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from streams.settings import Settings
from streams.worker import explain_api, faust_patches
from streams.worker.continuity import InputContinuity, Verdict
from streams.worker.gauges import Gauges
from streams.worker.handler import EventHandler, utc_today
from streams.worker.metrics import Metrics, MetricsPortError, serve
from streams.worker.refresh import Refresher
from streams.worker.watchdog import Limits, Observation, Status, Watchdog, readiness

log = logging.getLogger(__name__)

# Exit status when the watchdog ends the worker: EX_TEMPFAIL, "try again" (the supervisor restarts it).
WATCHDOG_EXIT = 75
# Exit status of a worker whose metrics port cannot be bound (a configuration error, like clearance worker's own).
CONFIG_EXIT = 2
# How long the watchdog's orderly stop may take before the process exits anyway (below Kubernetes' 60 s grace).
STOP_GRACE_S = 30.0
# The housekeeping timer runs every 2 s: a verdict older than these means the event loop is not turning.
READY_STALE_S = 30.0
LIVE_STALE_S = 120.0


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
        self.watchdog = Watchdog(Limits(settings.watchdog_stall_s, settings.watchdog_rejoin_s), time.monotonic())
        # the latest verdict: written by the event loop, read by the metrics server's thread (one reference)
        self._status: Status | None = None
        self.exit_reason: str | None = None
        self._stop_deadline: threading.Timer | None = None  # armed once a stop is under way
        self.continuity = InputContinuity()

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
            try:
                self._metrics_server = serve(self.metrics.registry, host, port, liveness=self.liveness,
                                             readiness=self.readiness)
            except MetricsPortError as exc:
                # At start-up nothing is held yet, and an orderly faust stop from inside this task would print
                # tracebacks of its own: say it in one line and end the process.
                _say(f"clearance worker: {exc}")
                os._exit(CONFIG_EXIT)
            log.info("metrics on http://%s:%d/metrics (health: /healthz, /readyz)", host, port)
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
        """Subjects and lag of revoked partitions now belong to another worker: stop counting them here."""
        self.metrics.rebalances.inc()
        partitions = {tp.partition for tp in revoked if tp.topic == self.input_topic}
        self.gauges.drop_partitions(partitions)
        self.gauges.drop_lag(partitions)
        self.continuity.forget(partitions)

    def on_rebalance_complete(self) -> None:
        """Table state of the assigned partitions is restored: re-check it against the policies (faust sends
        this signal after recovery, before the streams resume)."""
        self.refresher.request()

    async def housekeeping(self) -> None:
        """Every few seconds: publish gauges and lag; after a rebalance or a date change, re-check held state."""
        recovering = faust_patches.is_recovering(self.app)
        self.metrics.worker_recovering.set(1 if recovering else 0)
        consumer = getattr(self.app, "consumer", None)
        lag = self.gauges.publish_lag(consumer) if consumer is not None else None
        self.watch(recovering, lag or 0)
        await self._rewind_overdue()
        if recovering or not self.ready:
            return
        await self.refresher.maybe_refresh(self.today())
        self.gauges.publish()

    # -- watchdog and health ----------------------------------------------------------------------------------------

    def watch(self, recovering: bool, lag: int) -> None:
        """Feed the watchdog one observation; when it says so, stop the worker for a restart."""
        assigned = faust_patches.assigned_partitions(self.app, self.input_topic) or set()
        committed, uncommitted = faust_patches.commit_positions(self.app, self.input_topic)
        status = self.watchdog.observe(Observation(
            at=time.monotonic(), assigned=len(assigned), lag=lag, consumed=self._handled(),
            in_group=faust_patches.in_consumer_group(self.app), recovering=recovering,
            committed=committed, uncommitted=uncommitted))
        self._status = status
        if status.exit_reason is not None:
            self.stop_for_restart(status.exit_reason)

    def _handled(self) -> float:
        """Messages of the input handled so far (accepted or dead-lettered): grows with every message."""
        return sum(sample.value for metric in (self.metrics.events_consumed, self.metrics.invalid_events)
                   for family in metric.collect() for sample in family.samples if sample.name.endswith("_total"))

    async def in_order(self, message: Any) -> bool:
        """Whether the input ``message`` the agent was handed may be handled now (:mod:`streams.worker.continuity`).
        False: records before it were skipped; it is left unacknowledged (faust's commits stop before it) and the
        partition is rewound to its next offset, or, when rewinding did not bring the hole back, the worker stops
        for a restart."""
        partition, offset = message.partition, message.offset
        continuity = self.continuity
        if not continuity.knows(partition):
            try:
                start = await faust_patches.start_offset(self.app, self.input_topic, partition)
            except Exception as exc:  # the broker cannot say (an outage): the restart reads from the last commit
                faust_patches.leave_unacknowledged(self.app, message)
                self.stop_for_restart(f"input partition {partition}: its committed offset could not be read "
                                      f"({type(exc).__name__})")
                return False
            if partition not in (faust_patches.assigned_partitions(self.app, self.input_topic) or set()):
                faust_patches.leave_unacknowledged(self.app, message)
                return False  # revoked meanwhile: its new owner reads it from the committed offset
            continuity.start(partition, start)
        verdict = continuity.check(partition, offset, time.monotonic())
        if verdict is Verdict.HANDLE:
            return True
        faust_patches.leave_unacknowledged(self.app, message)
        await self._act(partition, verdict)
        return False

    def handled(self, partition: int, offset: int) -> None:
        self.continuity.handled(partition, offset)

    async def _rewind_overdue(self) -> None:
        """Holes no record arrived to retry: rewind them again (or restart)."""
        for partition, verdict in self.continuity.overdue(time.monotonic()).items():
            await self._act(partition, verdict)

    async def _act(self, partition: int, verdict: Verdict) -> None:
        hole = self.continuity.hole(partition)
        expected = self.continuity.next_offset(partition)
        if hole is None or expected is None:
            return
        if verdict is Verdict.RESTART:
            self.stop_for_restart(f"input partition {partition} still skips offset {expected} after {hole.rewinds} "
                                  "rewinds; the restart reads it again from the last commit")
        elif verdict is Verdict.REWIND:
            if await faust_patches.rewind(self.app, self.input_topic, partition, expected):
                self.metrics.input_rewinds.inc()
                log.warning("input partition %d: the consumer skipped offset %d (rewind %d); its later records are "
                            "not handled until it is read again", partition, expected, hole.rewinds)
            else:  # revoked meanwhile: whoever owns it now reads it from its committed offset
                self.continuity.forget([partition])

    def stop_for_restart(self, reason: str) -> None:
        """Stop the worker the way SIGTERM does (faust commits what it handled, flushes the changelog and closes
        the tables), then exit with :data:`WATCHDOG_EXIT`; if the orderly stop hangs (a broker that does not
        answer), exit after :data:`STOP_GRACE_S` anyway, which is as safe as a kill -9: the offsets committed
        never run ahead of the changelog, and unfinished events are handled again."""
        if self.exit_reason is not None:
            return
        self.exit_reason = reason
        log.critical("watchdog: %s; stopping the worker (exit status %d) for its supervisor to restart it",
                     reason, WATCHDOG_EXIT)
        atexit.register(_exit_now, WATCHDOG_EXIT, "")
        self.arm_stop_deadline()
        os.kill(os.getpid(), signal.SIGTERM)

    def arm_stop_deadline(self) -> None:
        """Exit with :data:`WATCHDOG_EXIT` if the stop now under way (the watchdog's, SIGTERM's, or faust's after a
        crash) has not ended the process within :data:`STOP_GRACE_S`. faust's stop can wait forever: seen after a
        broker kill -9 under exactly_once, where the changelog send failed, the consumer crashed, the agent was
        restarted in the middle of the stop and the process stayed up idle. Exiting is as safe as a kill -9."""
        if self._stop_deadline is not None:
            return
        why = f"no orderly stop within {STOP_GRACE_S:g} s"
        self._stop_deadline = threading.Timer(STOP_GRACE_S, _exit_now, (WATCHDOG_EXIT, why))
        self._stop_deadline.daemon = True
        self._stop_deadline.start()

    def liveness(self) -> tuple[bool, str]:
        """/healthz: the process is up and its event loop turns (called on the metrics server's thread)."""
        if self.exit_reason is not None:
            return False, f"exiting: {self.exit_reason}"
        status = self._status
        if status is not None and (age := time.monotonic() - status.observation.at) > LIVE_STALE_S:
            return False, f"the event loop has not run housekeeping for {age:.0f} s"
        return True, "ok"

    def readiness(self) -> tuple[bool, str]:
        """/readyz: started, in its group, holding partitions, not recovering, consuming its lag."""
        status = self._status
        if status is not None and (age := time.monotonic() - status.observation.at) > READY_STALE_S:
            return False, f"the event loop has not run housekeeping for {age:.0f} s"
        return readiness(status, started=self.ready)


def _say(line: str) -> None:
    """One line on the process's real stderr: faust's worker redirects ``sys.stderr`` into its log."""
    os.write(2, f"{line}\n".encode())


def _exit_now(code: int, why: str) -> None:
    """End the process with ``code`` (from atexit, after faust's orderly stop; or from the grace timer)."""
    if why:
        _say(f"clearance worker: watchdog: {why}; exiting with status {code}")
    logging.shutdown()
    os._exit(code)
