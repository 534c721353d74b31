"""The faust patches keep faust's semantics: only the cost of the common case changes."""

from __future__ import annotations

import asyncio
import gc
import warnings
from types import SimpleNamespace
from typing import Any

import pytest
from faust.topics import Topic
from faust.transport.consumer import Consumer
from mode import Service

from streams.worker import faust_patches
from streams.worker.faust_patches import FaustVersionError, check_version


@pytest.fixture(autouse=True, scope="module")
def _patched() -> None:
    """The two patches these tests pin, applied as ``create_app`` applies them (not at import)."""
    faust_patches.deliver_without_tasks()
    faust_patches.publish_without_yield()


def test_the_installed_faust_is_in_the_tested_range_and_others_are_refused() -> None:
    assert check_version().startswith("0.15.")
    assert check_version("0.15.9") == "0.15.9"
    for version in ("0.14.2", "0.16.0", "1.0.0"):
        with pytest.raises(FaustVersionError, match=f"faust-streaming {version} is not supported"):
            check_version(version)


def test_removing_the_monitor_twice_is_harmless() -> None:
    monitor = object()
    app = SimpleNamespace(monitor=monitor, sensors={monitor, "other"})
    faust_patches.remove_monitor(app)
    faust_patches.remove_monitor(app)  # faust restarts a crashed agent, which runs the start-up again
    assert app.sensors == {"other"}


async def _wait_first(service: Service, *coros: Any) -> Any:
    return await Consumer.wait_first(service, *coros)  # type: ignore[arg-type]


async def test_a_callback_that_does_not_block_runs_inline_without_tasks() -> None:
    service, flow = Service(), asyncio.Event()
    delivered: list[str] = []

    async def callback(value: str) -> str:
        delivered.append(value)
        return value.upper()

    loop = asyncio.get_running_loop()
    created: list[Any] = []

    def count_tasks(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        created.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(count_tasks)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "coroutine ... was never awaited" would be a RuntimeWarning
            result = await _wait_first(service, callback("m1"), flow.wait())
            gc.collect()
    finally:
        loop.set_task_factory(None)
    assert delivered == ["m1"]
    assert result.results == ["M1"] and not result.stopped
    assert created == []  # faust's own wait_first makes four tasks here


async def test_a_blocked_callback_finishes_as_a_task_with_its_result() -> None:
    service, flow, room = Service(), asyncio.Event(), asyncio.Event()

    async def callback() -> str:
        await room.wait()  # a full stream buffer
        await asyncio.sleep(0)
        return "delivered"

    asyncio.get_running_loop().call_later(0.01, room.set)
    result = await _wait_first(service, callback(), flow.wait())
    assert result.results == ["delivered"] and not result.stopped


async def test_a_suspended_flow_still_interrupts_a_blocked_callback() -> None:
    """faust's rebalance sets suspend_flow; the blocked delivery must be abandoned (and cancelled) then."""
    service, flow, never = Service(), asyncio.Event(), asyncio.Event()
    cancelled = asyncio.Event()

    async def callback() -> None:
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    asyncio.get_running_loop().call_later(0.01, flow.set)
    result = await asyncio.wait_for(_wait_first(service, callback(), flow.wait()), 2)
    assert result.results == [True]  # the suspend-flow waiter won
    await asyncio.wait_for(cancelled.wait(), 2)


async def test_a_callback_error_propagates_as_before() -> None:
    async def callback() -> None:
        raise KeyError("boom")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyError):
            await _wait_first(Service(), callback(), asyncio.Event().wait())
        gc.collect()


async def test_a_running_producer_is_returned_without_a_loop_turn() -> None:
    producer = SimpleNamespace(started=True, should_stop=False)
    app = SimpleNamespace(in_transaction=False, producer=producer)
    coro = Topic._get_producer(SimpleNamespace(app=app))  # type: ignore[arg-type]
    with pytest.raises(StopIteration) as done:
        coro.send(None)  # completes at its first step: no sleep(0)
    assert done.value.value is producer


async def test_a_producer_not_yet_started_is_started_by_faust() -> None:
    producer = SimpleNamespace(started=False, should_stop=False)
    started: list[bool] = []

    async def maybe_start_producer() -> Any:
        started.append(True)
        return producer

    app = SimpleNamespace(in_transaction=False, producer=producer, maybe_start_producer=maybe_start_producer)
    assert await Topic._get_producer(SimpleNamespace(app=app)) is producer  # type: ignore[arg-type]
    assert started == [True]


async def test_faust_consumers_get_the_short_fetch_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiokafka import AIOKafkaConsumer
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    # the attribute the patch sets is the one aiokafka's fetcher is built from
    assert AIOKafkaConsumer(fetch_max_wait_ms=123)._fetch_max_wait_ms == 123
    built = SimpleNamespace(_fetch_max_wait_ms=1500)  # faust's hard-coded value
    monkeypatch.setattr(AIOKafkaConsumerThread, "_clearance_original__create_worker_consumer",
                        lambda self, transport: built, raising=False)
    monkeypatch.setattr(AIOKafkaConsumerThread, "_create_worker_consumer",
                        AIOKafkaConsumerThread._create_worker_consumer)
    faust_patches.shorten_fetch_wait(50)
    assert AIOKafkaConsumerThread._create_worker_consumer(None, None) is built  # type: ignore[arg-type]
    assert built._fetch_max_wait_ms == 50


def test_a_patch_applied_again_wraps_the_original_not_its_own_wrapper() -> None:
    class Target:
        def name(self) -> str:
            return "faust"

    def wrap(original: Any) -> Any:
        return lambda self: f"patched({original(self)})"

    faust_patches._replace(Target, "name", wrap)
    faust_patches._replace(Target, "name", wrap)  # every create_app applies the patches
    assert Target().name() == "patched(faust)"
