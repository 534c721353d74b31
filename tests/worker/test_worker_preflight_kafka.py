"""``clearance worker`` (and ``faust -A streams.worker.app``) on the real broker refuse, with one line and a non-zero
exit, to start on missing or misconfigured topics (issue 10, failure 6) or with a policies file that would withdraw
candidates by accident (failure 7: an emptied file withdrew every candidate on restart); faust still creates its own
topics with the broker's auto-creation off."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from factories import LA, conviction
from fixtures_worker import ROOT, STATEWIDE, WorkerProcess, exported, read_all, send

from streams.kafka.clients import started_admin
from streams.kafka.topics import check_topics
from streams.settings import ACCEPTED_POLICIES, CANDIDATES, DEAD_LETTERS, DETERMINATIONS, RECORD_CHANGES, Settings

pytestmark = pytest.mark.kafka
LA_FIXED = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}}
ELIGIBLE = ("Eligible for Dismissal", "Only has 11357-60 charges and completed sentence")


def run_to_exit(worker: WorkerProcess, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``clearance worker`` expecting it to stop by itself (a refusal)."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "streams", "worker", "--policies", str(worker.policies), *extra],
            env=worker.env(), capture_output=True, text=True, timeout=120, cwd=ROOT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:  # it started instead of refusing (and was killed)
        raise AssertionError(f"the worker started instead of refusing:\n{exc.stderr!r}") from None


async def _topics(settings: Settings) -> set[str]:
    async with started_admin(settings) as admin:
        return set(await admin.list_topics())


async def _delete(settings: Settings, name: str) -> None:
    async with started_admin(settings) as admin:
        await admin.delete_topics([name])
        for _ in range(300):  # KRaft deletes asynchronously: until the broker no longer lists it
            if name not in await admin.list_topics():
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{name} still listed")


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("clearance worker: "), stderr
    return lines[0]


@pytest.mark.parametrize("missing", [DETERMINATIONS, CANDIDATES, DEAD_LETTERS, RECORD_CHANGES])
def test_a_missing_topic_stops_the_worker_with_one_line(worker_factory, kafka_settings: Settings,
                                                        missing: str) -> None:
    worker = worker_factory(LA_FIXED)  # creates every topic
    name = kafka_settings.topic(missing)
    asyncio.run(_delete(kafka_settings, name))
    done = run_to_exit(worker)
    assert done.returncode == 2
    line = _one_line(done.stderr)
    assert f"topic {name} does not exist" in line and "clearance topics create" in line
    assert name not in asyncio.run(_topics(kafka_settings))  # nobody created it on the way


def test_a_candidates_topic_as_older_versions_made_it_stops_the_worker(worker_factory,
                                                                      kafka_settings: Settings) -> None:
    worker = worker_factory(LA_FIXED)
    name = kafka_settings.topic(CANDIDATES)

    async def as_before() -> None:
        async with started_admin(kafka_settings) as admin:
            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, {"cleanup.policy": "delete"})])

    asyncio.run(as_before())
    for _ in range(300):  # the broker applies an altered config once it has read it back from the metadata log
        if asyncio.run(check_topics(kafka_settings)):
            break
        time.sleep(0.1)
    done = run_to_exit(worker)
    assert done.returncode == 2
    line = _one_line(done.stderr)
    assert f"topic {name} is misconfigured: cleanup.policy=delete (needs compact)" in line


def test_faust_cli_refuses_a_missing_topic_with_one_line(worker_factory, kafka_settings: Settings,
                                                         tmp_path: Path) -> None:
    worker_factory(LA_FIXED)
    name = kafka_settings.topic(DETERMINATIONS)
    asyncio.run(_delete(kafka_settings, name))
    env = {**os.environ, "CLEARANCE_KAFKA_BOOTSTRAP": kafka_settings.bootstrap,
           "CLEARANCE_TOPIC_PREFIX": kafka_settings.topic_prefix, "CLEARANCE_DATA_DIR": str(tmp_path),
           "CLEARANCE_METRICS_PORT": str(kafka_settings.metrics_port), "CLEARANCE_POLICIES": str(STATEWIDE)}
    faust_bin = Path(sys.executable).with_name("faust")
    done = subprocess.run([str(faust_bin), "-A", "streams.worker.app", "worker", "-l", "info"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert f"clearance worker: topic {name} does not exist" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert name not in asyncio.run(_topics(kafka_settings))


def _event(event_id: str, subject: str, record: dict) -> tuple[bytes, bytes]:  # type: ignore[type-arg]
    event = {"schema": "record-change.v1", "event_id": event_id, "type": "record.upserted",
             "source_agency": "TEST-COURT", "emitted_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
             "subject_id": subject, "changes": [{"op": "upserted", "record_key": f"{subject}-r1", "sequence": 1,
                                                 "record": record}]}
    return subject.encode(), json.dumps(event).encode()


def test_an_emptied_policies_file_is_refused_until_allowed(worker_factory, kafka_settings: Settings) -> None:
    """Failure 7: restarting on ``{"counties": {}}`` used to withdraw every candidate."""
    worker = worker_factory(LA_FIXED)
    worker.start()
    send(kafka_settings, kafka_settings.topic(RECORD_CHANGES), [
        _event(f"e{i}", f"S{i}", conviction("001001001000", "11359 HS", "20100101", subject=f"S{i}"))
        for i in range(3)])
    worker.wait_consumed(3)
    worker.wait_for(lambda m: m.get("clearance_candidate_changes_total{change=added}", 0) == 3, 60, "3 candidates")
    before = exported(kafka_settings)
    assert set(before.values()) == {ELIGIBLE} and len(before) == 3
    # faust made its own topics although the broker auto-creates none
    app_id = kafka_settings.topic("clearance-streams")
    assert {f"{app_id}-subjects-changelog", f"{app_id}-__assignor-__leader"} <= asyncio.run(_topics(kafka_settings))
    worker.stop()

    worker.policies.write_text(json.dumps({"counties": {}}))
    refused = run_to_exit(worker)
    assert refused.returncode == 2
    line = _one_line(refused.stderr)
    assert f"removes 1 county, up to 3 of 3 current candidates at risk ('{LA}' removed: 3 withdrawn)" in line
    assert "--allow-withdrawals" in line
    assert "S0" not in refused.stderr and "S1" not in refused.stderr  # counts per county, never people
    assert exported(kafka_settings) == before  # nothing was withdrawn
    assert not [c for c in read_all(kafka_settings, kafka_settings.topic(CANDIDATES)) if c["change"] == "withdrawn"]

    worker.extra_env["CLEARANCE_ALLOW_WITHDRAWALS"] = "1"
    worker.start()  # an explicit yes: the file is accepted and recorded
    worker.wait_for(lambda m: m.get("clearance_candidate_changes_total{change=withdrawn}", 0) == 3, 60,
                    "the 3 withdrawals")
    worker.stop()
    assert "accepted: up to 3 of 3 current candidates at risk ('LOS ANGELES' removed: 3 withdrawn)" in (
        worker.log.read_text())  # logged: what the start-up re-classification withdraws
    assert exported(kafka_settings) == {}
    del worker.extra_env["CLEARANCE_ALLOW_WITHDRAWALS"]
    worker.start()  # the same file again: recorded as accepted, no flag needed
    worker.stop()
    records = read_all(kafka_settings, kafka_settings.topic(ACCEPTED_POLICIES))
    assert [r["withdrawals_allowed"] for r in records] == [False, True]
    assert records[-1]["counties"] == {}


def test_a_restart_with_the_same_or_a_harmless_file_needs_no_flag(worker_factory, kafka_settings: Settings) -> None:
    worker = worker_factory(LA_FIXED)
    worker.start()
    send(kafka_settings, kafka_settings.topic(RECORD_CHANGES), [
        _event("e1", "S1", conviction("001001001000", "11359 HS", "20100101", subject="S1"))])
    worker.wait_consumed(1)
    worker.stop()
    worker.start()
    worker.stop()
    widened = {"counties": {**LA_FIXED["counties"], "ALAMEDA": {"flow": "configurable", "eligibility_options": {}}}}
    worker.policies.write_text(json.dumps(widened))
    worker.start()
    worker.stop()
    assert len(read_all(kafka_settings, kafka_settings.topic(ACCEPTED_POLICIES))) == 2  # first and widened sets
