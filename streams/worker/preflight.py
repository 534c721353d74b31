"""What a worker checks before Faust starts, so a wrong cluster or a dangerous policies file is one line and a
non-zero exit instead of a worker that silently loses or withdraws answers.

1. The project's topics exist and are fit for their use (:func:`streams.kafka.topics.check_topics`): a topic a
   broker would auto-create has the wrong cleanup policy, retention and partition count.
2. The new policy set does not withdraw candidates by accident (issue 10, failure 7: an emptied file withdrew every
   candidate on restart). The previous set is the last one accepted for this app id, kept in the compacted
   accepted-policies topic, because a record there is shared by every replica and survives a new pod or a lost
   state volume (a file in the state directory would not, and the state holds only the whole set's fingerprint).
   When the fingerprint is unchanged nothing else is read. Otherwise the current candidates per county are counted
   from the candidates topic (compacted by conviction id: its latest message per conviction is that conviction's
   candidate state), the change is assessed (:func:`streams.worker.policies.assess_change`) and logged per county,
   and a set that removes a county or puts more than ``CLEARANCE_WITHDRAWAL_THRESHOLD`` of the candidates at risk
   is refused unless ``--allow-withdrawals`` / ``CLEARANCE_ALLOW_WITHDRAWALS=1``. An accepted set is recorded, so
   the next start with the same file needs no flag.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sys
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from streams.errors import ClearanceError
from streams.events.model import CANDIDATE_WITHDRAWN
from streams.kafka.clients import consumer, producer, started_admin
from streams.kafka.topics import check_topics, partition_count
from streams.settings import ACCEPTED_POLICIES, CANDIDATES, RECORD_CHANGES, Settings
from streams.worker.policies import AcceptedPolicies, Policies, PolicyChange, assess_change

log = logging.getLogger(__name__)

_READ_TIMEOUT_S = 120.0


class PreflightError(ClearanceError):
    """The worker must not start; the message is the one line that says why and what to do."""


async def _read_to_end(settings: Settings, topic: str) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every message of ``topic`` up to its end as of now (no consumer group, nothing committed)."""
    async with started_admin(settings) as admin:
        [described] = await admin.describe_topics([topic])
    partitions = [TopicPartition(topic, p["partition"]) for p in sorted(described["partitions"],
                                                                        key=lambda p: int(p["partition"]))]
    if not partitions:
        return
    client = consumer(settings, group_id=None, enable_auto_commit=False)
    await client.start()
    try:
        client.assign(partitions)
        ends = await client.end_offsets(partitions)
        await client.seek_to_beginning(*partitions)
        left = {tp for tp in partitions if ends[tp] > 0}
        async with asyncio.timeout(_READ_TIMEOUT_S):
            while left:
                for tp, records in (await client.getmany(*left, timeout_ms=500)).items():
                    for record in records:
                        if record.offset < ends[tp]:
                            yield record
                    if await client.position(tp) >= ends[tp]:
                        left.discard(tp)
    finally:
        await client.stop()


async def read_accepted(settings: Settings) -> AcceptedPolicies | None:
    """The last policy set accepted for this app id, or None."""
    key = settings.topic(settings.app_id).encode()
    latest: bytes | None = None
    async for record in _read_to_end(settings, settings.topic(ACCEPTED_POLICIES)):
        if record.key == key and record.value is not None:
            latest = record.value
    return AcceptedPolicies.from_json(latest) if latest is not None else None


async def current_candidates(settings: Settings) -> dict[str, int]:
    """County → convictions whose latest candidate message is not a withdrawal (every worker's, cluster-wide)."""
    latest: dict[bytes, tuple[str, bool]] = {}
    async for record in _read_to_end(settings, settings.topic(CANDIDATES)):
        if record.key is None or record.value is None:
            continue
        try:
            doc = orjson.loads(record.value)
            latest[record.key] = (str(doc["county"]), doc["change"] != CANDIDATE_WITHDRAWN)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue  # not ours to judge here; the candidates topic has one producer, the worker
    counts: dict[str, int] = {}
    for county, active in latest.values():
        if active:
            counts[county] = counts.get(county, 0) + 1
    return counts


async def record_accepted(settings: Settings, policies: Policies, withdrawals_allowed: bool) -> None:
    value = AcceptedPolicies.of(policies).to_json(datetime.now(UTC).isoformat(), withdrawals_allowed)
    client = producer(settings)
    await client.start()
    try:
        key = settings.topic(settings.app_id).encode()
        await client.send_and_wait(settings.topic(ACCEPTED_POLICIES), value, key=key)
    finally:
        await client.stop()


async def guard_policies(settings: Settings, policies: Policies) -> PolicyChange | None:
    """Refuse (PreflightError) or accept and record ``policies``; the assessed change, None when unchanged."""
    previous = await read_accepted(settings)
    if previous is not None and previous.fingerprint == policies.fingerprint:
        return None
    change = assess_change(previous, policies, await current_candidates(settings))
    if change.needs_permission(settings.withdrawal_threshold) and not settings.allow_withdrawals:
        count = len(change.removed)
        removed = f"removes {count} {'county' if count == 1 else 'counties'}, " if count else ""
        raise PreflightError(
            f"policies file {settings.policies_path} {removed}{change.describe()}; start once with "
            f"--allow-withdrawals (CLEARANCE_ALLOW_WITHDRAWALS=1) to accept it")
    if change.removed or change.changed:  # what the re-classification after start-up may withdraw
        log.warning("policies %s accepted: %s", policies.fingerprint, change.describe())
    await record_accepted(settings, policies, settings.allow_withdrawals)
    return change


async def preflight(settings: Settings, policies: Policies, input_partitions: int | None = None) -> int:
    """Check the topics and the policy change; the input topic's partition count (the worker's table's)."""
    problems = await check_topics(settings, input_partitions)
    if problems:
        raise PreflightError("; ".join(problems))
    partitions = await partition_count(settings, settings.topic(RECORD_CHANGES))
    if partitions is None:  # deleted between the two questions
        raise PreflightError(f"topic {settings.topic(RECORD_CHANGES)} does not exist; run `clearance topics create`")
    await guard_policies(settings, policies)
    return partitions


def _in_fresh_loop(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` on a loop of its own in another thread: the caller's thread (faust's CLI) keeps its loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def preflight_or_exit(settings: Settings, policies: Policies, input_partitions: int | None = None) -> int:
    """:func:`preflight` for the ``faust -A`` path: a refusal is one line on stderr and exit status 2."""
    try:
        return int(_in_fresh_loop(asyncio.wait_for(preflight(settings, policies, input_partitions), 180)))
    except PreflightError as exc:
        message = str(exc)
    except Exception as exc:  # broker down or unreachable: say so plainly
        message = f"cannot reach Kafka at {settings.bootstrap}: {type(exc).__name__} {exc}".rstrip()
    print(f"clearance worker: {message}", file=sys.stderr)
    raise SystemExit(2)


__all__ = [
    "PreflightError",
    "current_candidates",
    "guard_policies",
    "preflight",
    "preflight_or_exit",
    "read_accepted",
    "record_accepted",
]
