"""The project's topics (creation, configuration, listing) and Kafka's key → partition mapping."""

from __future__ import annotations

import argparse
import random
import subprocess
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from streams.kafka import jars
from streams.kafka.clients import producer, started_admin
from streams.kafka.partitioner import murmur2, partition_for_key
from streams.kafka.topics import (
    CANDIDATES_MIN_COMPACTION_LAG_MS,
    ObservedTopic,
    check_topics,
    create_topics,
    describe_topics,
    run_cli,
    spec_problem,
    topic_specs,
)
from streams.settings import ACCEPTED_POLICIES, CANDIDATES, DEAD_LETTERS, DETERMINATIONS, RECORD_CHANGES, Settings

JAVA_PROBE = Path(__file__).parent / "java" / "PartitionProbe.java"


def java_murmur2(key: bytes) -> int:
    """Java's ``Utils.murmur2``: the same hash as a signed 32-bit int, to compare with Kafka's values."""
    unsigned = murmur2(key)
    return unsigned - (1 << 32) if unsigned & 0x80000000 else unsigned


DAY_MS = 86_400_000
SPECS = {spec.base_name: spec for spec in topic_specs(Settings(dlq_retention_ms=90 * DAY_MS))}


def test_specs_cover_the_settings_topics_and_the_outputs_are_compacted() -> None:
    assert list(SPECS) == [RECORD_CHANGES, DETERMINATIONS, CANDIDATES, DEAD_LETTERS, ACCEPTED_POLICIES]
    compacted = [name for name, spec in SPECS.items() if spec.config.get("cleanup.policy") == "compact"]
    assert compacted == [DETERMINATIONS, CANDIDATES, ACCEPTED_POLICIES]
    assert SPECS[CANDIDATES].config["min.compaction.lag.ms"] == str(7 * DAY_MS)
    assert SPECS[DEAD_LETTERS].config == {"cleanup.policy": "delete", "retention.ms": str(90 * DAY_MS),
                                          "retention.bytes": "-1"}
    assert topic_specs(Settings(dlq_retention_ms=-1))[3].config["retention.ms"] == "-1"


# What a broker with auto-creation would have made: delete policy, 7 days, one partition.
AUTO = ObservedTopic(1, {"cleanup.policy": "delete", "retention.ms": str(7 * DAY_MS), "retention.bytes": "-1"})
COMPACT = ObservedTopic(4, {"cleanup.policy": "compact", "retention.ms": str(7 * DAY_MS), "retention.bytes": "-1"})
DLQ_OK = ObservedTopic(4, {"cleanup.policy": "delete", "retention.ms": str(90 * DAY_MS), "retention.bytes": "-1"})


@pytest.mark.parametrize(
    ("base", "observed", "problem"),
    [
        (RECORD_CHANGES, AUTO, None),
        (RECORD_CHANGES, COMPACT, "cleanup.policy=compact (needs delete)"),
        (RECORD_CHANGES, None, "does not exist (run `clearance topics create`"),
        (DETERMINATIONS, COMPACT, None),
        (DETERMINATIONS, AUTO, "cleanup.policy=delete (needs compact)"),
        (DETERMINATIONS, ObservedTopic(4, {"cleanup.policy": "compact,delete"}), "cleanup.policy=compact,delete"),
        (CANDIDATES, COMPACT, None),
        (CANDIDATES, AUTO, "cleanup.policy=delete (needs compact)"),
        (DEAD_LETTERS, DLQ_OK, None),
        (DEAD_LETTERS, ObservedTopic(4, {**DLQ_OK.config, "retention.ms": "-1"}), None),  # longer is fine
        (DEAD_LETTERS, AUTO, "retention.ms=604800000 (7 days; CLEARANCE_DLQ_RETENTION_DAYS asks for 90 days)"),
        (DEAD_LETTERS, ObservedTopic(4, {**DLQ_OK.config, "retention.bytes": "1000000"}),
         "retention.bytes=1000000 (needs -1)"),
        (DEAD_LETTERS, COMPACT, "cleanup.policy=compact (needs delete)"),
        (ACCEPTED_POLICIES, AUTO, "cleanup.policy=delete (needs compact)"),
        (ACCEPTED_POLICIES, ObservedTopic(0, {"cleanup.policy": "compact"}), "has no partitions"),
    ],
)
def test_what_makes_a_topic_unfit(base: str, observed: ObservedTopic | None, problem: str | None) -> None:
    found = spec_problem(f"p.{base}", SPECS[base], observed)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found and f"topic p.{base} " in found
        assert "\n" not in found


def test_a_dead_letter_topic_kept_90_days_is_too_short_when_forever_is_asked_for() -> None:
    forever = topic_specs(Settings(dlq_retention_ms=-1))[3]
    assert "asks for forever" in (spec_problem("dlq", forever, DLQ_OK) or "")


def test_the_input_must_have_the_partitions_the_worker_is_built_for() -> None:
    assert spec_problem("in", SPECS[RECORD_CHANGES], AUTO, partitions=1) is None
    assert "has 1 partitions, not the 4" in (spec_problem("in", SPECS[RECORD_CHANGES], AUTO, partitions=4) or "")


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
    names = sorted(kafka_settings.topic(s.base_name) for s in topic_specs(kafka_settings))
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
    configs = {
        resource[3]: dict((entry[0], entry[1]) for entry in resource[4])
        for response in responses
        for resource in response.resources
    }
    compacted = {kafka_settings.topic(name) for name in (DETERMINATIONS, CANDIDATES, ACCEPTED_POLICIES)}
    assert {name: config["cleanup.policy"] for name, config in configs.items()} == {
        name: "compact" if name in compacted else "delete" for name in names
    }
    candidates = configs[kafka_settings.topic(CANDIDATES)]
    assert candidates["min.compaction.lag.ms"] == str(CANDIDATES_MIN_COMPACTION_LAG_MS)
    dead_letters = configs[kafka_settings.topic(DEAD_LETTERS)]
    assert (dead_letters["retention.ms"], dead_letters["retention.bytes"]) == (
        str(kafka_settings.dlq_retention_ms), "-1")
    assert kafka_settings.dlq_retention_ms == 90 * DAY_MS  # the default
    assert await check_topics(kafka_settings) == []
    assert await check_topics(kafka_settings, input_partitions=3) == []
    assert len(await check_topics(kafka_settings, input_partitions=4)) == 1


@pytest.mark.kafka
async def test_the_broker_never_auto_creates_a_topic_a_client_asks_for(kafka_settings: Settings) -> None:
    """Failure 6 of issue 10: a producer sending to a missing output used to get a 1-partition, 7-day topic."""
    missing = kafka_settings.topic(DETERMINATIONS)
    async with producer(kafka_settings, request_timeout_ms=3000) as sender:
        with pytest.raises((KafkaTimeoutError, UnknownTopicOrPartitionError)):  # not created on the way
            await sender.send_and_wait(missing, b"{}", key=b"S1:1")
    async with started_admin(kafka_settings) as admin:
        assert missing not in await admin.list_topics()
    problems = await check_topics(kafka_settings)
    assert len(problems) == len(topic_specs(kafka_settings))
    assert all("does not exist" in problem for problem in problems)


@pytest.mark.kafka
async def test_create_fix_repairs_the_topics_an_older_version_created(kafka_settings: Settings) -> None:
    """Before issue 10 the candidates topic was delete-policy and the dead letters kept the broker's 7 days."""
    candidates, dlq = kafka_settings.topic(CANDIDATES), kafka_settings.topic(DEAD_LETTERS)
    async with started_admin(kafka_settings) as admin:
        await admin.create_topics([NewTopic(candidates, 2, 1, topic_configs={"max.message.bytes": "2000000"}),
                                   NewTopic(dlq, 2, 1, topic_configs={"retention.ms": str(7 * DAY_MS)})])
    report = await create_topics(kafka_settings, partitions=2)
    assert set(report.problems) == {candidates, dlq}
    assert "cleanup.policy=delete (needs compact)" in report.problems[candidates]
    assert len(await check_topics(kafka_settings)) == 2
    fixed = await create_topics(kafka_settings, partitions=2, fix=True)
    assert (dict(fixed.problems), set(fixed.fixed)) == ({}, {candidates, dlq})
    assert await check_topics(kafka_settings) == []
    async with started_admin(kafka_settings) as admin:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, candidates)])
    config = {entry[0]: entry[1] for resource in response.resources for entry in resource[4]}
    assert config["max.message.bytes"] == "2000000"  # the topic's own setting survived the fix


@pytest.mark.kafka
async def test_describe_topics_lists_only_the_prefix(kafka_settings: Settings) -> None:
    assert await describe_topics(kafka_settings) == []
    await create_topics(kafka_settings, partitions=2)
    infos = await describe_topics(kafka_settings)
    assert {i.name: (i.partitions, i.cleanup_policy) for i in infos} == {
        kafka_settings.topic(RECORD_CHANGES): (2, "delete"),
        kafka_settings.topic(DETERMINATIONS): (2, "compact"),
        kafka_settings.topic(CANDIDATES): (2, "compact"),
        kafka_settings.topic(DEAD_LETTERS): (2, "delete"),
        kafka_settings.topic(ACCEPTED_POLICIES): (2, "compact"),
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
