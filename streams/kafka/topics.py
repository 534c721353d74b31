"""The project's topics and their configuration (how keys map to partitions: :mod:`streams.kafka.partitioner`).

Topic names come from ``streams.settings`` and always carry ``Settings.topic_prefix``. Creation is idempotent:
topics that already exist are reported (with their partition count) and left unchanged, because changing the
partition count of a keyed topic would move subjects between partitions and split their history; ``--fix`` sets
the configs a worker needs on an existing topic (never its partitions).

A worker refuses to start (:func:`check_topics`) unless every project topic exists and is fit for its use, because
a topic a broker auto-creates (delete policy, the cluster's retention, one partition) silently loses answers:

- input (record changes, keyed by subject): ``cleanup.policy=delete``: events are deltas, compaction would keep only
  a person's last one. Its retention is the cluster's (README, Topics): the worker's durable state is its changelog.
- determinations and candidates (keyed by conviction id): ``cleanup.policy=compact`` exactly, so the latest answer
  and the latest candidate state of every conviction are kept forever (``compact,delete`` would expire them).
- dead letters: ``cleanup.policy=delete``, ``retention.bytes=-1`` and ``retention.ms`` at least
  ``CLEARANCE_DLQ_RETENTION_DAYS`` (compaction would keep one letter per key, a size limit would drop them early).
- accepted policies (keyed by app id): compacted.

The output topics' partition counts are free (they are keyed tables), the input's is what the worker's table is
co-partitioned with.
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

from streams.kafka.clients import broker_command, broker_unreachable, started_admin
from streams.kafka.errors import KafkaSetupError
from streams.settings import (
    ACCEPTED_POLICIES,
    CANDIDATES,
    DEAD_LETTERS,
    DETERMINATIONS,
    RECORD_CHANGES,
    Settings,
)

_TOPIC_ALREADY_EXISTS = 36
_CREATE_TIMEOUT_MS = 30_000
_MAX_REPLICATION = 3
_DAY_MS = 86_400_000
# Every candidate change is kept at least this long before compaction may drop it for a later change of the same
# conviction: a DA consumer up to a week behind sees every change, one further behind the latest state of each.
CANDIDATES_MIN_COMPACTION_LAG_MS = 7 * _DAY_MS


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A project topic: base name (without prefix), why it exists, the config it is created with, and what a
    worker insists on finding (``required``: exact values, each with the reason a different one is wrong).

    ``min_retention_ms`` (the dead letters): the topic must keep messages at least that long (-1: forever)."""

    base_name: str
    purpose: str
    config: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    required: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    min_retention_ms: int | None = None


_COMPACT_ONLY = ("compact", "compaction keeps the latest message of every key forever; "
                            "delete (or compact,delete) would drop current answers after the retention time")


def topic_specs(settings: Settings) -> tuple[TopicSpec, ...]:
    """The project's topics as ``settings`` configure them (the dead letters' retention is a setting)."""
    compacted = MappingProxyType({"cleanup.policy": _COMPACT_ONLY[0]})
    return (
        TopicSpec(
            RECORD_CHANGES,
            "input: court record-change events, keyed by subject id; retention is the cluster's (README: Topics)",
            # compaction would keep only a person's last event and drop the changes before it
            required=MappingProxyType({"cleanup.policy": "delete"}),
        ),
        TopicSpec(
            DETERMINATIONS,
            "latest determination per conviction; compacted so it is a table of current answers",
            compacted,
            compacted,
        ),
        TopicSpec(
            CANDIDATES,
            "dismissal-candidate changes keyed by conviction id; compacted: the latest state of every conviction "
            "kept forever, every change kept at least 7 days",
            MappingProxyType({"cleanup.policy": "compact",
                              "min.compaction.lag.ms": str(CANDIDATES_MIN_COMPACTION_LAG_MS)}),
            compacted,
        ),
        TopicSpec(
            DEAD_LETTERS,
            "record-change events that could not be accepted, with the reason; kept CLEARANCE_DLQ_RETENTION_DAYS",
            MappingProxyType({"cleanup.policy": "delete", "retention.ms": str(settings.dlq_retention_ms),
                              "retention.bytes": "-1"}),
            # compaction would keep one dead letter per key; a size limit would delete them early
            MappingProxyType({"cleanup.policy": "delete", "retention.bytes": "-1"}),
            min_retention_ms=settings.dlq_retention_ms,
        ),
        TopicSpec(
            ACCEPTED_POLICIES,
            "the last policy set each worker app accepted (keyed by app id, compacted): what a new file withdraws",
            compacted,
            compacted,
        ),
    )


@dataclass(frozen=True, slots=True)
class ObservedTopic:
    """What the cluster says about one topic: partition count and effective config (defaults included)."""

    partitions: int
    config: Mapping[str, str]


def _days(ms: int) -> str:
    return "forever" if ms < 0 else f"{ms / _DAY_MS:g} days"


def spec_problem(name: str, spec: TopicSpec, observed: ObservedTopic | None,
                 partitions: int | None = None) -> str | None:
    """Why topic ``name`` cannot serve as ``spec`` (one clause), or None when it can. Pure, so it is tested on
    every combination without a broker. ``partitions``: the count the topic must have (None: any)."""
    if observed is None:
        return f"topic {name} does not exist (run `clearance topics create`; the broker must not auto-create it)"
    if observed.partitions < 1:
        return f"topic {name} has no partitions"
    if partitions is not None and observed.partitions != partitions:
        return f"topic {name} has {observed.partitions} partitions, not the {partitions} this worker is built for"
    wrong = [f"{key}={observed.config.get(key, '?')} (needs {value})"
             for key, value in spec.required.items() if observed.config.get(key) != value]
    if spec.min_retention_ms is not None:
        try:
            kept = int(observed.config.get("retention.ms", "?"))
        except ValueError:
            kept = 0
        wanted = spec.min_retention_ms
        if (kept >= 0 and wanted < 0) or (0 <= kept < wanted):
            wrong.append(f"retention.ms={kept} ({_days(kept)}; CLEARANCE_DLQ_RETENTION_DAYS asks for {_days(wanted)})")
    if not wrong:
        return None
    fix = " ".join(f"{key}={value}" for key, value in spec.required.items())
    return (f"topic {name} is misconfigured: {', '.join(wrong)}; fix it with `clearance topics create --fix` "
            f"(or kafka-configs --alter --add-config {fix})")


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    partitions: int
    cleanup_policy: str


@dataclass(frozen=True, slots=True)
class CreateReport:
    """What :func:`create_topics` did: full names created, those that existed (with partitions), and why an
    existing one cannot serve (topic → problem; after ``fix``, only what could not be fixed)."""

    created: tuple[str, ...]
    existing: Mapping[str, int]
    problems: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    fixed: tuple[str, ...] = ()


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


_DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs v1+ config_source: set on the topic itself


async def _configs(client: AIOKafkaAdminClient, names: list[str]) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """topic → (effective config, the part set on the topic itself) for existing topics ``names``."""
    out: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    if not names:
        return out
    for response in await client.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    ):
        versioned = response.API_VERSION >= 1
        for code, message, _type, name, entries in response.resources:
            if code != 0:
                raise KafkaSetupError(f"cannot read the config of topic {name}: {for_code(code).__name__} {message}")
            effective = {entry[0]: entry[1] for entry in entries if entry[1] is not None}
            own = {entry[0]: entry[1] for entry in entries
                   if entry[1] is not None and versioned and entry[3] == _DYNAMIC_TOPIC_CONFIG}
            out[name] = (effective, own)
    return out


async def observe_topics(client: AIOKafkaAdminClient, names: list[str]) -> dict[str, ObservedTopic | None]:
    """Partition count and effective config of each of ``names`` (None: the topic does not exist)."""
    listed = set(await client.list_topics())
    present = [name for name in names if name in listed]
    partitions = {t["topic"]: len(t["partitions"]) for t in await client.describe_topics(present)} if present else {}
    configs = await _configs(client, present)
    return {
        name: ObservedTopic(partitions.get(name, 0), MappingProxyType(configs[name][0])) if name in configs else None
        for name in names
    }


async def check_topics(settings: Settings, input_partitions: int | None = None) -> list[str]:
    """Why the project's topics cannot serve a worker (one clause per topic; empty when they can). The input
    must have ``input_partitions`` partitions when given (a ``faust -A`` worker is built for CLEARANCE_PARTITIONS)."""
    specs = topic_specs(settings)
    names = [settings.topic(spec.base_name) for spec in specs]
    async with started_admin(settings) as client:
        observed = await observe_topics(client, names)
    problems = []
    for spec, name in zip(specs, names, strict=True):
        wanted = input_partitions if spec.base_name == RECORD_CHANGES else None
        problem = spec_problem(name, spec, observed[name], wanted)
        if problem is not None:
            problems.append(problem)
    return problems


def _repair(spec: TopicSpec, effective: Mapping[str, str], own: Mapping[str, str]) -> dict[str, str]:
    """The full set of topic-level configs that makes an existing topic serve as ``spec``: its own settings kept
    (AlterConfigs replaces them all), the required values and a long-enough retention imposed."""
    repaired = {**spec.config, **own, **spec.required}
    if spec.min_retention_ms is not None:
        try:
            kept = int(effective.get("retention.ms", "0"))
        except ValueError:
            kept = 0
        wanted = spec.min_retention_ms
        if (kept >= 0 and wanted < 0) or (0 <= kept < wanted):
            repaired["retention.ms"] = str(wanted)
    return repaired


async def create_topics(settings: Settings, partitions: int, fix: bool = False) -> CreateReport:
    """Create the missing project topics with ``partitions`` partitions each, leaving existing ones as they
    are (``fix``: set the configs a worker needs on existing ones, never their partition count), and return
    once every project topic is served (has leaders).

    Replication is 1 on a single-broker cluster and up to 3 on a larger one.
    """
    if partitions < 1:
        raise KafkaSetupError("--partitions must be at least 1")
    specs = topic_specs(settings)
    async with started_admin(settings) as client:
        cluster = await client.describe_cluster()
        replication = max(1, min(_MAX_REPLICATION, len(cluster.get("brokers", ()))))
        wanted = [
            NewTopic(settings.topic(spec.base_name), partitions, replication, topic_configs=dict(spec.config))
            for spec in specs
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
        problems, fixed = await _existing_problems(client, settings, specs, existed, fix)
    existing = {name: served[name] for name in sorted(existed)}
    return CreateReport(created=tuple(sorted(created)), existing=MappingProxyType(existing),
                        problems=MappingProxyType(problems), fixed=tuple(fixed))


async def _existing_problems(
    client: AIOKafkaAdminClient, settings: Settings, specs: tuple[TopicSpec, ...], existed: list[str], fix: bool
) -> tuple[dict[str, str], list[str]]:
    by_name = {settings.topic(spec.base_name): spec for spec in specs}
    configs = await _configs(client, existed)
    problems: dict[str, str] = {}
    for name in existed:
        effective, _own = configs[name]
        problem = spec_problem(name, by_name[name], ObservedTopic(1, effective))
        if problem is not None:
            problems[name] = problem
    if not fix or not problems:
        return problems, []
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, _repair(by_name[name], *configs[name]))
                 for name in sorted(problems)]
    for response in await client.alter_configs(resources):
        for code, message, _type, name in response.resources:
            if code != 0:
                raise KafkaSetupError(f"cannot fix the config of topic {name}: {for_code(code).__name__} {message}")
    # The broker applies an altered config once it has read it back from the metadata log: ask until it shows.
    deadline = time.monotonic() + _CREATE_TIMEOUT_MS / 1000
    while True:
        after = await _configs(client, sorted(problems))
        left = {}
        for name in sorted(problems):
            problem = spec_problem(name, by_name[name], ObservedTopic(1, after[name][0]))
            if problem is not None:
                left[name] = problem
        if not left or time.monotonic() > deadline:
            return left, sorted(set(problems) - set(left))
        await asyncio.sleep(0.2)


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
    specs = topic_specs(settings)
    project = {settings.topic(spec.base_name) for spec in specs}
    for spec in specs:
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
    """``clearance topics create [--partitions N] [--fix]`` and ``clearance topics list``; ``create`` exits 1 when
    an existing topic stays misconfigured (so a deployment's topics job fails visibly)."""
    settings = Settings()
    try:
        if args.action == "create":
            report = asyncio.run(create_topics(settings, args.partitions, fix=getattr(args, "fix", False)))
            for name in report.created:
                print(f"created  {name}  partitions={args.partitions}")
            for name, count in report.existing.items():
                note = "" if count == args.partitions else f"  (not {args.partitions}: left unchanged)"
                note += "  (config fixed)" if name in report.fixed else ""
                print(f"exists   {name}  partitions={count}{note}")
            for problem in report.problems.values():
                print(f"error: {problem}", file=sys.stderr)
            return 1 if report.problems else 0
        return _print_list(settings, asyncio.run(describe_topics(settings)))
    except KafkaSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KafkaConnectionError:
        print(broker_unreachable("topics", settings.bootstrap), file=sys.stderr)
    except KafkaError as exc:
        print(f"error: Kafka at {settings.bootstrap} failed: {exc}", file=sys.stderr)
    return 1


__all__ = [
    "CANDIDATES_MIN_COMPACTION_LAG_MS",
    "CreateReport",
    "ObservedTopic",
    "TopicInfo",
    "TopicSpec",
    "check_topics",
    "create_topics",
    "describe_topics",
    "observe_topics",
    "run_cli",
    "spec_problem",
    "topic_specs",
]
