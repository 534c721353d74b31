"""``clearance replay`` through a broker outage (kill -9, then a restart mid-replay, on this module's own broker): one
line per failure and retry, no traceback, and the replay resumes where it was, so the worker's answers are complete
and equal ``clearance classify``; and the backoff between retries."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from fixtures_kafka import plaintext_settings, wait_until
from fixtures_worker import WorkerProcess, classify_reference, exported, statewide_policies
from own_broker import kill_9, own_broker_fixture, restart

from streams.cli import main as cli_main
from streams.kafka.broker import LocalBroker
from streams.kafka.clients import consumer
from streams.kafka.topics import create_topics, partition_count
from streams.settings import RECORD_CHANGES, Settings
from streams.tools.replay import BACKOFF_S, backoff

OUTAGE_S = 50.0  # shorter than the 60 s of the report, longer than the producer's 40 s delivery timeout
own_broker = own_broker_fixture("replay-outage-broker")


def test_backoff_doubles_up_to_its_ceiling() -> None:
    assert [backoff(n) for n in range(1, 9)] == [1, 2, 4, 8, 15, 30, 30, 30]
    assert max(BACKOFF_S) == 30


async def _messages(settings: Settings) -> int:
    """Messages in the input topic so far (the sum of its partitions' end offsets)."""
    topic = settings.topic(RECORD_CHANGES)
    count = await partition_count(settings, topic) or 0
    client = consumer(settings, group_id=None, enable_auto_commit=False)
    await client.start()
    try:
        ends = await client.end_offsets([TopicPartition(topic, p) for p in range(count)])
        return sum(ends.values())
    finally:
        await client.stop()


@pytest.mark.kafka
def test_replay_survives_a_broker_outage_and_the_answers_are_complete(own_broker: LocalBroker, tmp_path: Path) -> None:
    restart(own_broker)
    prefix = f"t-replay-outage-{os.urandom(4).hex()}."
    settings = plaintext_settings(own_broker.bootstrap, prefix, tmp_path)
    asyncio.run(create_topics(settings, 4))
    sample = tmp_path / "sample.csv"
    assert cli_main(["generate-doj", "--people", "600", "--seed", "23", "--output", str(sample)]) == 0
    rows = sum(1 for _ in sample.open()) - 1
    (tmp_path / "classify").mkdir()
    reference = classify_reference(sample, statewide_policies(), tmp_path / "classify")

    env = {**os.environ, "CLEARANCE_KAFKA_BOOTSTRAP": settings.bootstrap, "CLEARANCE_TOPIC_PREFIX": prefix,
           "CLEARANCE_APP_ID": "clearance-streams"}
    rate = max(50, rows // 40)  # about 40 s of replay: the outage falls in its middle
    stderr = tmp_path / "replay.err"
    with stderr.open("wb") as err:
        replay = subprocess.Popen(
            [sys.executable, "-m", "streams", "replay", "--input-doj", str(sample), "--rate", str(rate),
             "--max-records-per-event", "5", "--no-progress"],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: asyncio.run(_messages(settings)) > 0, 120, "the replay to send something", stderr)
        assert replay.poll() is None, stderr.read_text()
        kill_9(own_broker)
        time.sleep(OUTAGE_S)  # the outage itself (what is asserted below is polled)
        restart(own_broker)
        code = replay.wait(timeout=900)
    finally:
        if replay.poll() is None:
            replay.kill()
            replay.wait(30)
        restart(own_broker)
    text = stderr.read_text()
    assert code == 0, text
    assert "Traceback" not in text
    assert all(line.startswith(("clearance replay: ", "replayed ")) for line in text.splitlines()), text
    retries = [line for line in text.splitlines() if " retry " in line]
    assert retries, text
    assert all(line.startswith(f"clearance replay: Kafka at {settings.bootstrap} failed (") for line in retries)
    assert "replay resumed" in text
    assert f"replayed {rows} rows" in text.splitlines()[-1]

    policies = tmp_path / "policies.json"
    policies.write_text(json.dumps(statewide_policies()))
    worker = WorkerProcess(settings, policies, tmp_path / "worker.log")
    worker.start()
    try:
        worker.wait_lag_zero(300)
        assert exported(settings) == reference
    finally:
        worker.stop()
