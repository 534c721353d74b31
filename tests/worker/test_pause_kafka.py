"""Zombie workers on the real broker: a worker frozen (SIGSTOP: a GC pause, a VM freeze) past the group's session
timeout while a second worker takes its partitions over, then thawed (SIGCONT), must lose nothing and write nothing
stale. After the dust settles the export equals ``clearance classify``, every conviction's last message in the
determinations topic is its highest revision, and every person's last state in the changelog holds exactly the
answers the topic ends with (a stale state there would come back on the next restore).

A revision lower than one already published may still appear in the topic *before* the newest again: a re-delivery
after the takeover re-sends the answers of the state restored from the changelog, which can trail the outputs the
frozen worker had already published (as after any kill -9). Those are counted and printed; an older answer left
standing at the end, or in the changelog, fails the test.

What makes it hold: the workers run with ``CLEARANCE_PROCESSING_GUARANTEE=exactly_once`` (opt-in), so every
write of an input partition goes through that partition's transactional producer; the worker taking the partition
over starts a producer with the same transactional id, the broker aborts the frozen worker's open transaction and
refuses its later writes (``ProducerFenced``), and the lease fence makes the thawed worker exit. Without
transactions (``at_least_once``) 1 of 23 runs left a stale answer: a write checked against the lease before the
freeze and sent after it.

The freeze is timed by what the workers report (no fixed sleeps), so where in the backfill it lands varies from run
to run: the test repeats (``CLEARANCE_PAUSE_REPEATS``, 2 by default in CI: ~1 min each) to catch an intermittent
failure; run it with more repeats after touching the worker's faust or aiokafka glue.
"""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fixtures_kafka import wait_until
from fixtures_worker import (
    WorkerProcess,
    classify_reference,
    exported,
    group_behind,
    read_records,
    send,
    statewide_policies,
)

from streams.cli import main as cli_main
from streams.doj.reader import iter_rows
from streams.events.builders import record_change_event
from streams.events.codec import encode
from streams.settings import DETERMINATIONS, RECORD_CHANGES, Settings
from streams.tools.replay import file_digest, subject_runs
from streams.worker.app import SESSION_TIMEOUT_S
from streams.worker.lease import FENCED_EXIT_CODE

pytestmark = pytest.mark.kafka
REPEATS = int(os.environ.get("CLEARANCE_PAUSE_REPEATS", "2"))
# The fence by the broker (see the module's docstring); at_least_once, the default, has the lease fence only.
EXACTLY_ONCE = {"CLEARANCE_PROCESSING_GUARANTEE": "exactly_once"}
TABLE_CHANGELOG = "clearance-streams-subjects-changelog"  # faust's name for the app's "subjects" table changelog


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[bytes, bytes]]]:
    """A generated DOJ file and its events, one record per event (many events per person, so a stale answer
    written late over a newer one shows)."""
    path = tmp_path_factory.mktemp("doj") / "pause.csv"
    assert cli_main(["generate-doj", "--people", "1000", "--seed", "23", "--output", str(path)]) == 0
    digest = file_digest(path)
    events = [
        (sid.encode(), encode(record_change_event(subject_id=sid, rows=run, file_digest=digest,
                                                  source_agency="TEST", emitted_at=datetime.now(UTC))))
        for sid, run in subject_runs(iter_rows(str(path)), 1)
    ]
    assert len(events) > 5_000
    return path, events


@pytest.fixture(scope="module")
def reference(backfill: tuple[Path, list[Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    expected = classify_reference(backfill[0], statewide_policies(), tmp_path_factory.mktemp("classify"))
    assert len(expected) > 200
    return expected


def _metric(worker: WorkerProcess, name: str) -> float:
    try:
        return worker.metrics().get(name, 0.0)
    except OSError:  # not serving /metrics right now (frozen, starting, gone)
        return 0.0


def _consumed(worker: WorkerProcess) -> float:
    return _metric(worker, "clearance_events_consumed_total")


def _settled(worker: WorkerProcess) -> bool:
    """Running, in the group with its partitions restored (or exited: the supervisor's turn)."""
    if worker.exited():
        return True
    try:
        m = worker.metrics()
    except OSError:
        return False
    return m.get("clearance_worker_recovering", 1) == 0 and any(k.startswith("clearance_consumer_lag{") for k in m)


def _revisions(records: list[Any]) -> tuple[list[str], list[str]]:
    """(convictions whose revision went down somewhere in the determinations topic ``records``, those whose last
    message is not their highest revision: an older answer left standing over a newer one)."""
    last: dict[str, int] = {}
    highest: dict[str, int] = {}
    backwards: set[str] = set()
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):  # a conviction lives in one partition
        det = json.loads(record.value)
        cid, revision = det["conviction_id"], int(det["revision"])
        if revision < highest.get(cid, 0):
            backwards.add(cid)
        last[cid] = revision
        highest[cid] = max(revision, highest.get(cid, 0))
    return sorted(backwards), sorted(cid for cid, revision in last.items() if revision < highest[cid])


def _stale_states(settings: Settings, determinations: list[Any]) -> tuple[int, list[str]]:
    """(people in the changelog, convictions whose answer in the person's last changelog state is not the last one
    in the determinations topic)."""
    latest_det: dict[str, Any] = {}
    for record in sorted(determinations, key=lambda r: (r.partition, r.offset)):
        latest_det[record.key.decode()] = json.loads(record.value)
    states: dict[bytes, Any] = {}
    for record in read_records(settings, settings.topic(TABLE_CHANGELOG)):
        if record.value is None:
            states.pop(record.key, None)
        else:
            states[record.key] = json.loads(record.value)
    stale = [cid for state in states.values() for cid, (det, _candidate) in state["e"].items()
             if latest_det.get(cid) != det]
    return len(states), sorted(stale)


@pytest.mark.parametrize("run", range(REPEATS))
def test_a_worker_frozen_past_the_session_timeout_loses_nothing_and_writes_nothing_stale(
    worker_factory, kafka_settings: Settings, backfill, reference, run: int
) -> None:
    _, events = backfill
    a = worker_factory(statewide_policies(), name="a", extra_env=EXACTLY_ONCE)
    b = worker_factory(statewide_policies(), name="b", extra_env=EXACTLY_ONCE)
    a.start()
    b.start()
    wait_until(lambda: _settled(a) and _settled(b), 120, "both workers in the group")
    topic = kafka_settings.topic(RECORD_CHANGES)
    send(kafka_settings, topic, events)
    # freeze A in the middle of its share, the later the more of it is in flight (prefetched, buffered, unsent)
    share = len(events) // 2
    target = share * (0.2 + 0.15 * (run % 4))
    wait_until(lambda: _consumed(a) >= target or a.exited(), 180, "worker A to be busy with the backfill")
    rebalances = _metric(a, "clearance_rebalances_total")
    a.signal(signal.SIGSTOP)
    frozen_at = time.monotonic()
    try:
        # B's session outlives A's: the group rebalances without A, and B works through everything
        wait_until(lambda: group_behind(kafka_settings, topic) == 0, 240,
                   "worker B to take over and commit the whole input")
    finally:
        a.signal(signal.SIGCONT)
    frozen = time.monotonic() - frozen_at
    assert frozen > SESSION_TIMEOUT_S  # B could only take A's partitions once A's session had expired
    # A thaws believing it still owns its partitions: it either fences itself (exits) or rejoins the group
    fenced = 0

    def back_in_group() -> bool:
        nonlocal fenced
        if a.exited() and not fenced:
            assert a.proc is not None and a.proc.returncode == FENCED_EXIT_CODE, a.tail()
            assert "fenced" in a.log.read_text()
            fenced += 1
            a.start()  # the supervisor's restart
        return _settled(a) and _settled(b) and not a.exited() and not b.exited() and (
            fenced > 0 or _metric(a, "clearance_rebalances_total") > rebalances)

    wait_until(back_in_group, 240, "worker A to learn it was out of the group and both back in it")
    wait_until(lambda: group_behind(kafka_settings, topic) == 0, 120, "the group to commit the whole input")

    got = exported(kafka_settings)
    missing = reference.keys() - got.keys()
    differing = [cid for cid in reference.keys() & got.keys() if got[cid] != reference[cid]]
    determinations = read_records(kafka_settings, kafka_settings.topic(DETERMINATIONS))
    backwards, reverted = _revisions(determinations)
    people, stale = _stale_states(kafka_settings, determinations)
    print(f"pause run {run}: A frozen {frozen:.0f} s after {target:.0f} of its events; "
          f"{len(determinations)} determinations read; "
          f"{len(missing)} missing, {len(differing)} differing, {len(got.keys() - reference.keys())} extra, "
          f"{len(backwards)} convictions with a revision re-sent after a newer one, {len(reverted)} left reverted, "
          f"{len(stale)} stale of {people} people in the changelog; A fenced {fenced}")
    assert (len(missing), len(differing), reverted[:5], stale[:5]) == (0, 0, [], [])
    assert got == reference
    assert people >= len({cid.split(":")[0] for cid in got})
