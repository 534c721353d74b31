"""Four measured fixes to faust-streaming 0.15 defaults that faust offers no setting for.

Each one is a small, idempotent patch applied by ``create_app``; ``tests/test_faust_tuning.py`` pins what each
must keep doing, and BENCHMARKS.md has the figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any


def _replace(cls: type, name: str, wrap: Callable[[Any], Any]) -> None:
    """Set ``cls.name`` to ``wrap(original)``; the original is kept on the class, so applying a patch again (each
    ``create_app``) wraps faust's own method, never the previous wrapper."""
    saved = f"_clearance_original_{name}"
    original = getattr(cls, saved, getattr(cls, name))
    setattr(cls, saved, original)
    setattr(cls, name, wrap(original))


def shorten_fetch_wait(max_wait_ms: int) -> None:
    """Make faust's consumers use ``max_wait_ms`` as ``fetch_max_wait_ms``.

    faust hard-codes 1,500 ms, and because aiokafka keeps one fetch in flight per broker, a fetch that only covers
    idle partitions (faust's assignor topic, table changelogs) blocked the input partitions for up to 1.5 s
    several times a second: measured, it cut bulk throughput by 4x. A short wait costs only a few more empty
    fetch round trips while idle.
    """
    from faust.transport.drivers import aiokafka as faust_aiokafka

    def wrap(original: Any) -> Any:
        def create_worker_consumer(self: Any, transport: Any) -> Any:
            consumer = original(self, transport)
            consumer._fetch_max_wait_ms = max_wait_ms  # read when the consumer starts its fetcher
            return consumer

        return create_worker_consumer

    _replace(faust_aiokafka.AIOKafkaConsumerThread, "_create_worker_consumer", wrap)


def rocksdb_without_wal() -> None:
    """Open faust's RocksDB partitions with the write-ahead log off.

    The table's changelog topic is the durable copy, as in Kafka Streams (which turns RocksDB's WAL off for the
    same reason): after a crash RocksDB reopens at its last flushed memtable, whose persisted changelog offset
    is written in the same memtable as the values, and faust replays the changelog from there. The WAL only
    doubled every write (measured: 7.4 µs → 1.2 µs per 5 KB put).
    """
    from faust.stores import rocksdb as faust_rocksdb

    if not faust_rocksdb.USE_ROCKSDICT:
        return

    def wrap(original: Any) -> Any:
        def open_without_wal(self: Any, path: Any, *, read_only: bool = False) -> Any:
            db = original(self, path, read_only=read_only)
            if not self.use_rocksdict:
                return db
            write_options = faust_rocksdb.rocksdict.WriteOptions()
            write_options.disable_wal = True
            db.set_write_options(write_options)
            return db

        return open_without_wal

    _replace(faust_rocksdb.RocksDBOptions, "open", wrap)


class _Started:
    """Await a coroutine that already ran up to its first suspension, which handed out ``pending``."""

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Any, pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, pending = self._coro, self._pending
        while True:
            try:
                value = yield pending
            except BaseException as exc:  # a cancellation (or any throw) goes to the coroutine, as with await
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                pending = coro.send(value)
            except StopIteration as stop:
                return stop.value


def deliver_without_tasks() -> None:
    """Hand each fetched message to the streams without four asyncio tasks when delivery does not block.

    faust's fetch loop awaits ``wait_first(callback(message), suspend_flow.wait())`` for every message, and
    ``wait_first`` wraps each coroutine, plus the service's stopped and crashed events, in a task and
    ``asyncio.wait``s on them: ~10 % of the worker's CPU. Delivery blocks only when a stream's buffer is full or
    flow is suspended for a rebalance; otherwise the callback finishes at its first step. So the callback is
    run one step inline: if it finished, that is the result (the suspend-flow waiter is discarded unstarted);
    if it would block, it continues as a task raced against the other waiters exactly as faust does.
    """
    from faust.transport.consumer import Consumer
    from mode.services import WaitResults

    def wrap(original: Any) -> Any:
        async def wait_first(self: Any, *coros: Any, timeout: Any = None) -> Any:
            if (timeout is not None or len(coros) != 2 or not asyncio.iscoroutine(coros[0])
                    or self._stopped.is_set() or self._crashed.is_set()):
                return await original(self, *coros, timeout=timeout)
            first, other = coros
            try:
                pending = first.send(None)
            except BaseException as exc:  # finished (StopIteration) or failed, either way at its first step
                if asyncio.iscoroutine(other):
                    other.close()  # never started: closing it avoids "coroutine was never awaited"
                if isinstance(exc, StopIteration):
                    return WaitResults([first], [exc.value], False)
                raise
            return await original(self, asyncio.ensure_future(_Started(first, pending)), other)

        return wait_first

    _replace(Consumer, "wait_first", wrap)


def publish_without_yield() -> None:
    """Let faust's producer buffer publish a started producer's messages without a loop turn per message.

    Table writes (the changelog) queue in faust's producer buffer, whose task publishes them through
    ``Topic._get_producer`` → ``app.maybe_start_producer``, wrapped in mode's ``stampede``, which always
    ``await asyncio.sleep(0)``: one changelog message per event-loop turn. An agent that no longer spends
    several turns per event (``deliver_without_tasks``) then outruns the buffer, which throttles the stream with
    a "producer buffer full" warning. Once the producer runs there is nothing to start, so it is returned as is.
    """
    from faust.topics import Topic

    def wrap(original: Any) -> Any:
        async def get_producer(self: Any) -> Any:
            app = self.app
            if not app.in_transaction:
                producer = app.producer
                if producer.started and not producer.should_stop:
                    return producer
            return await original(self)

        return get_producer

    _replace(Topic, "_get_producer", wrap)
