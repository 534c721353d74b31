"""The project's topics and their configuration (how keys map to partitions: :mod:`streams.kafka.partitioner`).

Topic names come from ``streams.settings`` and always carry ``Settings.topic_prefix``. Creation is idempotent:
topics that already exist are reported (with their partition count) and left unchanged, because changing the
partition count of a keyed topic would move subjects between partitions and split their history.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, KafkaError, for_code

from streams.kafka.clients import broker_command, started_admin
from streams.kafka.errors import KafkaSetupError
from streams.settings import CANDIDATES, DEAD_LETTERS, DETERMINATIONS, RECORD_CHANGES, Settings

_TOPIC_ALREADY_EXISTS = 36
_CREATE_TIMEOUT_MS = 30_000
_MAX_REPLICATION = 3


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A project topic: base name (without prefix), why it exists, and its non-default config."""

    base_name: str
    purpose: str
    config: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


TOPIC_SPECS: tuple[TopicSpec, ...] = (
    TopicSpec(RECORD_CHANGES, "input: court record-change events, keyed by subject id"),
    TopicSpec(
        DETERMINATIONS,
        "latest determination per conviction; compacted so it is a table of current answers",
        MappingProxyType({"cleanup.policy": "compact"}),
    ),
    TopicSpec(CANDIDATES, "convictions that became eligible for dismissal"),
    TopicSpec(DEAD_LETTERS, "record-change events that could not be accepted, with the reason"),
)


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    partitions: int
    cleanup_policy: str


@dataclass(frozen=True, slots=True)
class CreateReport:
    """What :func:`create_topics` did: full names created, and those that existed (with partitions)."""

    created: tuple[str, ...]
    existing: Mapping[str, int]


async def _wait_until_served(client: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partition counts of ``names`` once the broker serves every partition with a leader.

    KRaft brokers learn about a new topic asynchronously from the controller, so a topic can exist for a
    moment before metadata requests show its partitions; producers and Faust starting right after ``create``
    would then see a topic without partitions.
    """
    deadline = time.monotonic() + _CREATE_TIMEOUT_MS / 1000
    while True:
        served = {
            topic["topic"]: len(topic["partitions"])
            for topic in await client.describe_topics(names)
            if topic["error_code"] == 0
            and topic["partitions"]
            and all(p["leader"] >= 0 for p in topic["partitions"])
        }
        if len(served) == len(names):
            return served
        if time.monotonic() > deadline:
            missing = sorted(set(names) - set(served))
            raise KafkaSetupError(
                f"topics created but not served within {_CREATE_TIMEOUT_MS // 1000} s: {missing}"
            )
        await asyncio.sleep(0.1)


async def create_topics(settings: Settings, partitions: int) -> CreateReport:
    """Create the missing project topics with ``partitions`` partitions each, leaving existing ones as they
    are, and return once every project topic is served (has leaders).

    Replication is 1 on a single-broker cluster and up to 3 on a larger one.
    """
    if partitions < 1:
        raise KafkaSetupError("--partitions must be at least 1")
    async with started_admin(settings) as client:
        cluster = await client.describe_cluster()
        replication = max(1, min(_MAX_REPLICATION, len(cluster.get("brokers", ()))))
        wanted = [
            NewTopic(settings.topic(spec.base_name), partitions, replication, topic_configs=dict(spec.config))
            for spec in TOPIC_SPECS
        ]
        response = await client.create_topics(wanted, timeout_ms=_CREATE_TIMEOUT_MS)
        created: list[str] = []
        existed: list[str] = []
        for name, code, *rest in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code == _TOPIC_ALREADY_EXISTS:
                existed.append(name)
            else:
                message = rest[0] if rest and rest[0] else ""
                raise KafkaSetupError(
                    f"cannot create topic {name}: {for_code(code).__name__} {message}".rstrip()
                )
        served = await _wait_until_served(client, [topic.name for topic in wanted])
    existing = {name: served[name] for name in sorted(existed)}
    return CreateReport(created=tuple(sorted(created)), existing=MappingProxyType(existing))


async def describe_topics(settings: Settings) -> list[TopicInfo]:
    """Every non-internal topic under the settings' prefix, with partition count and cleanup policy."""
    async with started_admin(settings) as client:
        names = sorted(
            t
            for t in await client.list_topics()
            if t.startswith(settings.topic_prefix) and not t.startswith("__")
        )
        if not names:
            return []
        partitions = {t["topic"]: len(t["partitions"]) for t in await client.describe_topics(names)}
        responses = await client.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, {"cleanup.policy": None}) for name in names]
        )
    policies: dict[str, str] = {}
    for response in responses:
        for _code, _message, _type, name, entries in response.resources:
            for entry in entries:
                if entry[0] == "cleanup.policy":
                    policies[name] = entry[1]
    return [TopicInfo(name, partitions.get(name, 0), policies.get(name, "?")) for name in names]


async def partition_count(settings: Settings, name: str) -> int | None:
    """Partitions of topic ``name`` (a full name), or None when it does not exist; asks the cluster, not a cache."""
    async with started_admin(settings) as client:
        if name not in await client.list_topics():
            return None
        [info] = await client.describe_topics([name])
        return len(info["partitions"]) or None


def _print_list(settings: Settings, infos: list[TopicInfo]) -> int:
    present = {info.name: info for info in infos}
    project = {settings.topic(spec.base_name) for spec in TOPIC_SPECS}
    for spec in TOPIC_SPECS:
        name = settings.topic(spec.base_name)
        info = present.get(name)
        detail = f"partitions={info.partitions}  cleanup.policy={info.cleanup_policy}" if info else "MISSING"
        print(f"{name}  {detail}")
    for info in infos:
        if info.name not in project:
            detail = f"partitions={info.partitions}  cleanup.policy={info.cleanup_policy}"
            print(f"{info.name}  {detail}  (not a project topic)")
    return 0


@broker_command("topics")
def run_cli(args: argparse.Namespace) -> int:
    """``clearance topics create [--partitions N]`` and ``clearance topics list``."""
    settings = Settings()
    try:
        if args.action == "create":
            report = asyncio.run(create_topics(settings, args.partitions))
            for name in report.created:
                print(f"created  {name}  partitions={args.partitions}")
            for name, count in report.existing.items():
                note = "" if count == args.partitions else f"  (not {args.partitions}: left unchanged)"
                print(f"exists   {name}  partitions={count}{note}")
            return 0
        return _print_list(settings, asyncio.run(describe_topics(settings)))
    except KafkaSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KafkaConnectionError:
        print(
            f"error: no Kafka broker answers at {settings.bootstrap} (local one: `clearance broker start`)",
            file=sys.stderr,
        )
    except KafkaError as exc:
        print(f"error: Kafka at {settings.bootstrap} failed: {exc}", file=sys.stderr)
    return 1


__all__ = [
    "TOPIC_SPECS",
    "CreateReport",
    "TopicInfo",
    "TopicSpec",
    "create_topics",
    "describe_topics",
    "run_cli",
]
