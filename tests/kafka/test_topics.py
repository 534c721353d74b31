"""The project's topics (creation, configuration, listing) and Kafka's key → partition mapping."""

from __future__ import annotations

import argparse
import random
import subprocess
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from streams.kafka import jars
from streams.kafka.clients import producer, started_admin
from streams.kafka.partitioner import murmur2, partition_for_key
from streams.kafka.topics import TOPIC_SPECS, create_topics, describe_topics, run_cli
from streams.settings import CANDIDATES, DEAD_LETTERS, DETERMINATIONS, RECORD_CHANGES, Settings

JAVA_PROBE = Path(__file__).parent / "java" / "PartitionProbe.java"


def java_murmur2(key: bytes) -> int:
    """Java's ``Utils.murmur2``: the same hash as a signed 32-bit int, to compare with Kafka's values."""
    unsigned = murmur2(key)
    return unsigned - (1 << 32) if unsigned & 0x80000000 else unsigned


def test_specs_cover_the_settings_topics_and_only_determinations_are_compacted() -> None:
    assert [s.base_name for s in TOPIC_SPECS] == [RECORD_CHANGES, DETERMINATIONS, CANDIDATES, DEAD_LETTERS]
    compacted = [s.base_name for s in TOPIC_SPECS if s.config.get("cleanup.policy") == "compact"]
    assert compacted == [DETERMINATIONS]


def test_murmur2_matches_javas_known_vector() -> None:
    # Java: Utils.murmur2("21".getBytes()) == -973932308
    assert java_murmur2(b"21") == -973932308
    assert partition_for_key(b"21", 3) == (-973932308 & 0x7FFFFFFF) % 3 == 0


@given(st.binary(max_size=64))
def test_murmur2_equals_aiokafkas_default_partitioner_hash(data: bytes) -> None:
    assert murmur2(data) == aiokafka_murmur2(data)


def test_string_keys_hash_as_utf8() -> None:
    for key in ("SUBJ-000123", "Zoë", ""):
        for partitions in (1, 4, 7):
            assert partition_for_key(key, partitions) == partition_for_key(key.encode("utf-8"), partitions)


def test_partition_count_must_be_positive() -> None:
    with pytest.raises(ValueError):
        partition_for_key(b"x", 0)


def test_cli_rejects_zero_partitions(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(argparse.Namespace(action="create", partitions=0)) == 1
    assert "--partitions must be at least 1" in capsys.readouterr().err


@pytest.mark.kafka
async def test_create_topics_is_idempotent_and_configures_compaction(kafka_settings: Settings) -> None:
    names = sorted(kafka_settings.topic(s.base_name) for s in TOPIC_SPECS)
    first = await create_topics(kafka_settings, partitions=3)
    assert list(first.created) == names
    assert dict(first.existing) == {}

    again = await create_topics(kafka_settings, partitions=5)
    assert again.created == ()
    assert dict(again.existing) == {name: 3 for name in names}  # left unchanged, not re-partitioned

    async with started_admin(kafka_settings) as admin:
        metadata = await admin.describe_topics(names)
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    assert {t["topic"]: len(t["partitions"]) for t in metadata} == {name: 3 for name in names}
    policies = {
        resource[3]: dict((entry[0], entry[1]) for entry in resource[4])["cleanup.policy"]
        for response in responses
        for resource in response.resources
    }
    assert policies == {
        name: "compact" if name == kafka_settings.topic(DETERMINATIONS) else "delete" for name in names
    }


@pytest.mark.kafka
async def test_describe_topics_lists_only_the_prefix(kafka_settings: Settings) -> None:
    assert await describe_topics(kafka_settings) == []
    await create_topics(kafka_settings, partitions=2)
    infos = await describe_topics(kafka_settings)
    assert {i.name: (i.partitions, i.cleanup_policy) for i in infos} == {
        kafka_settings.topic(RECORD_CHANGES): (2, "delete"),
        kafka_settings.topic(DETERMINATIONS): (2, "compact"),
        kafka_settings.topic(CANDIDATES): (2, "delete"),
        kafka_settings.topic(DEAD_LETTERS): (2, "delete"),
    }


@pytest.mark.kafka
def test_topics_cli(
    kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLEARANCE_KAFKA_BOOTSTRAP", kafka_settings.bootstrap)
    monkeypatch.setenv("CLEARANCE_TOPIC_PREFIX", kafka_settings.topic_prefix)
    determinations = kafka_settings.topic(DETERMINATIONS)

    assert run_cli(argparse.Namespace(action="list", partitions=4)) == 0
    assert f"{determinations}  MISSING" in capsys.readouterr().out
    assert run_cli(argparse.Namespace(action="create", partitions=2)) == 0
    assert f"created  {determinations}  partitions=2" in capsys.readouterr().out
    assert run_cli(argparse.Namespace(action="create", partitions=4)) == 0
    assert f"exists   {determinations}  partitions=2  (not 4: left unchanged)" in capsys.readouterr().out
    assert run_cli(argparse.Namespace(action="list", partitions=4)) == 0
    assert f"{determinations}  partitions=2  cleanup.policy=compact" in capsys.readouterr().out


def _probe_keys() -> list[bytes]:
    rng = random.Random(64)
    keys = [b"21", b"", b"\x00", b"\xff\xff\xff\xff", "Zoë".encode(), b"SUBJ-000123"]
    keys += [rng.randbytes(rng.randint(1, 33)) for _ in range(40)]
    return keys


@pytest.mark.kafka
async def test_partitions_match_kafkas_java_producer_and_aiokafkas(kafka_settings: Settings) -> None:
    """The Java producer (what any other Kafka client does), aiokafka's producer and our helper agree."""
    if not jars.jars_current():
        pytest.skip("the project's Kafka jars are not fetched (external cluster run)")
    topic, partitions = kafka_settings.topic("partitioning"), 7
    async with started_admin(kafka_settings) as admin:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    keys = _probe_keys()

    # Java's single-file source launcher compiles the probe on the fly against the broker's own jars.
    command = jars.java_argv(str(JAVA_PROBE), [kafka_settings.bootstrap, topic, *(k.hex() for k in keys)])
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    java: dict[bytes, tuple[int, int]] = {}
    for line in done.stdout.splitlines():
        hex_key, murmur, partition = line.split(" ")
        java[bytes.fromhex(hex_key)] = (int(murmur), int(partition))
    assert len(java) == len(keys)

    async with producer(kafka_settings) as sender:
        sent = {key: await (await sender.send(topic, b"", key=key)) for key in keys}
    for key in keys:
        java_hash, java_partition = java[key]
        assert java_murmur2(key) == java_hash, key
        assert partition_for_key(key, partitions) == java_partition, key
        assert sent[key].partition == java_partition, key
