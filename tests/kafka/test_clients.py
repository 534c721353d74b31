"""The aiokafka client factories and the broker readiness probe."""

from __future__ import annotations

import logging
import time

import pytest
from aiokafka.admin import NewTopic
from fixtures_kafka import free_port

from streams.kafka.clients import (
    PRODUCER_DEFAULTS,
    broker_answers,
    consumer,
    producer,
    started_admin,
    wait_for_broker,
)
from streams.kafka.partitioner import partition_for_key
from streams.settings import Settings


def test_producer_defaults_favour_throughput() -> None:
    assert PRODUCER_DEFAULTS["linger_ms"] >= 5
    assert PRODUCER_DEFAULTS["max_batch_size"] >= 256 * 1024
    assert PRODUCER_DEFAULTS["acks"] in (1, "all")


async def test_wait_for_broker_times_out_quietly_on_a_closed_port(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(bootstrap=f"127.0.0.1:{free_port()}", security_protocol="PLAINTEXT")
    caplog.set_level(logging.DEBUG, logger="aiokafka")
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=f"no Kafka broker answered at {settings.bootstrap} within 1 s"):
        await wait_for_broker(settings, timeout=1.0)
    assert time.monotonic() - started < 5
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    # The probe's silence is scoped: aiokafka's own errors elsewhere still get through.
    logging.getLogger("aiokafka").error("outside a probe")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == ["outside a probe"]


@pytest.mark.kafka
async def test_wait_for_broker_returns_on_a_live_cluster(kafka_settings: Settings) -> None:
    assert await broker_answers(kafka_settings)
    await wait_for_broker(kafka_settings, timeout=10.0)


@pytest.mark.kafka
async def test_produce_consume_round_trip(kafka_settings: Settings) -> None:
    topic = kafka_settings.topic("round-trip")
    async with started_admin(kafka_settings) as admin:
        await admin.create_topics([NewTopic(topic, 3, 1)])
    sent = {f"SUBJ-{i:04d}".encode(): f'{{"n": {i}}}'.encode() for i in range(200)}

    async with producer(kafka_settings) as sender:
        acks = [await sender.send(topic, value, key=key) for key, value in sent.items()]
        await sender.flush()
        metadata = [await ack for ack in acks]
    assert [m.partition for m in metadata] == [partition_for_key(k, 3) for k in sent]

    received: dict[bytes, bytes] = {}
    offsets: dict[int, list[int]] = {}
    async with consumer(kafka_settings, topic, group_id=f"{kafka_settings.app_id}-test") as reader:
        deadline = time.monotonic() + 30
        while len(received) < len(sent) and time.monotonic() < deadline:
            batches = await reader.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    assert record.key is not None and record.value is not None
                    received[record.key] = record.value
                    offsets.setdefault(record.partition, []).append(record.offset)
        await reader.commit()
    assert received == sent
    for partition_offsets in offsets.values():
        assert partition_offsets == sorted(partition_offsets)
