"""Factories for aiokafka clients configured from :class:`~streams.settings.Settings`.

Every producer, consumer and admin client of the project is built here so TLS/SASL settings
(``Settings.kafka_client_kwargs``) are applied in one place and the producer gets throughput defaults rather
than aiokafka's latency-first ones. The factories return *unstarted* clients and must be called inside a
running event loop (aiokafka binds to it on construction).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, KafkaError

from streams.settings import Settings

# aiokafka's defaults (no linger, 16 KiB batches) send one small request per event. Batching for ~10 ms into
# 256 KiB batches cuts requests by orders of magnitude at a latency the classifier never notices. acks=all
# costs nothing on the single-node broker and is the safe choice on a real cluster. No compression: on
# loopback it only spends CPU, and aiokafka's lz4 needs the optional cramjam package.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "linger_ms": 10,
    "max_batch_size": 256 * 1024,
    "compression_type": None,
}
# Tools that read a topic end to end (export, report) want all of it when their group has no offsets yet.
CONSUMER_DEFAULTS: dict[str, Any] = {"auto_offset_reset": "earliest"}

_PROBE_INTERVAL_S = 0.25
_probing: contextvars.ContextVar[bool] = contextvars.ContextVar("clearance_kafka_probing", default=False)


def _client_kwargs(settings: Settings) -> dict[str, Any]:
    return {**settings.kafka_client_kwargs(), "client_id": settings.app_id}


def producer(settings: Settings, **overrides: Any) -> AIOKafkaProducer:
    """An unstarted producer; keyword ``overrides`` win over the defaults (e.g. ``transactional_id``)."""
    return AIOKafkaProducer(**_client_kwargs(settings), **(PRODUCER_DEFAULTS | overrides))


def consumer(settings: Settings, *topics: str, **kw: Any) -> AIOKafkaConsumer:
    """An unstarted consumer of full topic names (``settings.topic(...)``); ``group_id`` to commit."""
    return AIOKafkaConsumer(*topics, **_client_kwargs(settings), **(CONSUMER_DEFAULTS | kw))


def admin(settings: Settings) -> AIOKafkaAdminClient:
    """An unstarted admin client (``await client.start()`` ... ``await client.close()``)."""
    return AIOKafkaAdminClient(**_client_kwargs(settings))


@asynccontextmanager
async def started_admin(settings: Settings) -> AsyncIterator[AIOKafkaAdminClient]:
    """An admin client that is started for the ``async with`` body and always closed after it."""
    client = admin(settings)
    try:
        await client.start()
        yield client
    finally:
        await client.close()


class _QuietWhileProbing(logging.Filter):
    """Drops aiokafka's connection errors logged on behalf of a probe: a broker that is still starting is the
    expected case there, not an error. The flag is a context variable, so other clients in the same process
    (and their tasks) keep logging normally."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _probing.get()


def _install_probe_filter() -> None:
    for name in ("aiokafka", "aiokafka.client", "aiokafka.conn"):  # client.py logs as plain "aiokafka"
        log = logging.getLogger(name)
        if not any(isinstance(f, _QuietWhileProbing) for f in log.filters):
            log.addFilter(_QuietWhileProbing())


async def broker_answers(settings: Settings, timeout: float = 2.0) -> bool:
    """Whether ``settings.bootstrap`` answers a metadata request naming at least one live broker."""
    _install_probe_filter()
    token = _probing.set(True)
    try:
        client = AIOKafkaClient(
            **settings.kafka_client_kwargs(),
            client_id=f"{settings.app_id}-probe",
            request_timeout_ms=max(1, int(timeout * 1000)),
        )
        try:
            async with asyncio.timeout(timeout):
                await client.bootstrap()
            return bool(client.cluster.brokers())
        except (KafkaError, OSError, TimeoutError):
            return False
        finally:
            await client.close()
    finally:
        _probing.reset(token)


async def wait_for_broker(settings: Settings, timeout: float) -> None:
    """Return once the cluster answers metadata requests; ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no Kafka broker answered at {settings.bootstrap} within {timeout:g} s")
        if await broker_answers(settings, timeout=min(2.0, remaining)):
            return
        await asyncio.sleep(min(_PROBE_INTERVAL_S, max(0.0, deadline - time.monotonic())))


_CONNECTION_NOISE = ("Unable connect to", "Unable to connect to", "Unable to update metadata", "Unable to bootstrap")


class _QuietConnectionNoise(logging.Filter):
    """Drops aiokafka's per-attempt connection errors while a command runs that says itself, in one line, that the
    broker cannot be reached (:func:`broker_command`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not (_quiet.get() and record.getMessage().startswith(_CONNECTION_NOISE)):
            return True
        reasons = _reasons.get()
        if reasons is not None and isinstance(record.args, tuple) and len(record.args) == 3:
            err = record.args[2]  # 'Unable connect to "%s:%s": %s': a refused TLS handshake or SASL login says why
            reasons.append(f"{type(err).__name__}: {err}" if isinstance(err, BaseException) else str(err))
        return False


_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("clearance_kafka_quiet", default=False)
_reasons: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("clearance_kafka_reasons", default=None)


def broker_unreachable(command: str, bootstrap: str) -> str:
    """The one line a command prints when no broker answers (with the last reason a connection gave, such as a
    certificate that is not trusted or credentials the broker refused: never a password)."""
    reasons = _reasons.get() or []
    why = f" (last error: {reasons[-1][:300]})" if reasons else ""
    return (
        f"clearance {command}: no Kafka broker answers at {bootstrap}{why}; start the local one with "
        "`clearance broker start`, or point CLEARANCE_KAFKA_BOOTSTRAP (and CLEARANCE_KAFKA_SECURITY_PROTOCOL, "
        "_SSL_CAFILE, _SASL_*) at your cluster"
    )


def broker_command(command: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Decorate a Kafka-facing command's ``run_cli``: a broker that cannot be reached (or a Kafka failure) is one
    clear line on stderr and exit status 1, never a traceback. The handler's own messages are unchanged."""

    def wrap(run_cli: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(run_cli)
        def run(*args: Any, **kwargs: Any) -> int:
            for name in ("aiokafka", "aiokafka.client", "aiokafka.conn", "aiokafka.consumer.group_coordinator"):
                log = logging.getLogger(name)
                if not any(isinstance(f, _QuietConnectionNoise) for f in log.filters):
                    log.addFilter(_QuietConnectionNoise())
            token = _quiet.set(True)
            reasons_token = _reasons.set([])
            try:
                return run_cli(*args, **kwargs)
            except (KafkaConnectionError, ConnectionError, TimeoutError):
                print(broker_unreachable(command, Settings().bootstrap), file=sys.stderr)
            except KafkaError as exc:
                print(f"clearance {command}: Kafka at {Settings().bootstrap} failed: {exc}", file=sys.stderr)
            finally:
                _reasons.reset(reasons_token)
                _quiet.reset(token)
            return 1

        return run

    return wrap


__all__ = [
    "CONSUMER_DEFAULTS",
    "PRODUCER_DEFAULTS",
    "admin",
    "broker_answers",
    "broker_command",
    "broker_unreachable",
    "consumer",
    "producer",
    "started_admin",
    "wait_for_broker",
]
