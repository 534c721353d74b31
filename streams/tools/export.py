"""``clearance export``: the latest determination of every conviction, read from the compacted topic.

Reads every partition from the beginning without a consumer group (nothing is committed, any number of readers can
run) until the consumer has been at the end of all partitions for ``--wait-idle`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import TopicPartition

from streams.errors import ClearanceError
from streams.events.model import ACTIVE
from streams.kafka.clients import broker_command, consumer
from streams.kafka.topics import partition_count
from streams.settings import DETERMINATIONS, Settings


async def read_latest(settings: Settings, topic: str, wait_idle: float) -> dict[bytes, Any]:
    """Key → latest decoded value of a topic (values that are not JSON objects are skipped)."""
    partitions = await partition_count(settings, topic)
    if partitions is None:
        raise ClearanceError(f"topic {topic} does not exist at {settings.bootstrap}; run `clearance topics create`")
    client = consumer(settings, enable_auto_commit=False, auto_offset_reset="earliest")
    await client.start()
    latest: dict[bytes, Any] = {}
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        client.assign(tps)
        await client.seek_to_beginning(*tps)
        idle_since = time.monotonic()
        while True:
            batch = await client.getmany(timeout_ms=200, max_records=10_000)
            if any(batch.values()):
                for records in batch.values():
                    for msg in records:
                        if msg.key is None or msg.value is None:
                            latest.pop(msg.key, None)
                            continue
                        try:
                            latest[msg.key] = orjson.loads(msg.value)
                        except orjson.JSONDecodeError:
                            continue
                idle_since = time.monotonic()
                continue
            ends = await client.end_offsets(tps)
            positions = [await client.position(tp) for tp in tps]
            at_end = all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True))
            if not at_end:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= wait_idle:
                return latest
    finally:
        await client.stop()


def active_determinations(latest: dict[bytes, Any]) -> list[dict[str, Any]]:
    """Current determinations (retracted convictions have none), in conviction-id order."""
    dets = [v for v in latest.values() if isinstance(v, dict) and v.get("status") == ACTIVE]
    return sorted(dets, key=lambda d: d["conviction_id"])


def current_determinations(command: str, wait_idle: float) -> list[dict[str, Any]] | None:
    """The active determinations on the topic, or None after saying on stderr why they cannot be read."""
    settings = Settings()
    try:
        latest = asyncio.run(read_latest(settings, settings.topic(DETERMINATIONS), wait_idle))
    except ClearanceError as exc:
        print(f"clearance {command}: {exc}", file=sys.stderr)
        return None
    return active_determinations(latest)


@broker_command("export")
def run_cli(args: argparse.Namespace) -> int:
    dets = current_determinations("export", args.wait_idle)
    if dets is None:
        return 1
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        for det in dets:
            fh.write(orjson.dumps(det, option=orjson.OPT_SORT_KEYS))
            fh.write(b"\n")
    print(f"wrote {len(dets)} determinations to {out}", file=sys.stderr)
    return 0
