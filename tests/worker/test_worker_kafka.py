"""The streaming pipeline on the real broker: replay → worker → export equals ``clearance classify``, whatever the
order of subjects, across kill -9s of the worker and of the broker and rebalances, and with bad input around;
incremental changes produce the right candidates."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import LA, conviction, deceased
from fixtures_kafka import BROKER_START_TIMEOUT_S, wait_until
from fixtures_worker import (
    WorkerProcess,
    classify_reference,
    classify_summaries,
    exported,
    group_behind,
    latest_active,
    read_all,
    send,
    statewide_policies,
)

from streams.cli import main as cli_main
from streams.doj.reader import iter_rows
from streams.events.builders import record_change_event
from streams.events.codec import encode
from streams.events.schemas import validate
from streams.kafka.broker import LocalBroker
from streams.kafka.errors import KafkaSetupError
from streams.settings import CANDIDATES, DEAD_LETTERS, DETERMINATIONS, RECORD_CHANGES, Settings
from streams.tools.replay import file_digest, replay, subject_runs
from streams.tools.report import build_report
from streams.worker.lease import FENCED_EXIT_CODE

pytestmark = pytest.mark.kafka
REPORT_KEYS = (
    "subjectsWithProp64ConvictionCountInCounty", "prop64ConvictionsCountInCountyByCodeSection",
    "prop64FelonyConvictionsCountInCounty", "prop64NonFelonyConvictionsCountInCounty", "subjectsWithSomeReliefCount",
    "reliefWithCurrentEligibilityChoices", "reliefWithDismissAllProp64",
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated multi-county DOJ file of about 20,000 rows."""
    path = tmp_path_factory.mktemp("doj") / "sample.csv"
    assert cli_main(["generate-doj", "--people", "2400", "--seed", "7", "--output", str(path)]) == 0
    rows = sum(1 for _ in iter_rows(str(path)))
    assert 15_000 <= rows <= 25_000
    return path


@pytest.fixture(scope="module")
def classified(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("classify")


@pytest.fixture(scope="module")
def reference(sample: Path, classified: Path) -> dict[str, tuple[str, str]]:
    expected = classify_reference(sample, statewide_policies(), classified)
    assert len(expected) > 500
    assert len(classify_summaries(classified)) > 1
    return expected


def _events(path: Path, max_records: int) -> list[tuple[str, bytes]]:
    digest = file_digest(path)
    return [
        (sid, encode(record_change_event(subject_id=sid, rows=run, file_digest=digest, source_agency="TEST",
                                         emitted_at=datetime.now(UTC))))
        for sid, run in subject_runs(iter_rows(str(path)), max_records)
    ]


def test_replay_then_export_equals_classify(
    worker_factory, kafka_settings: Settings, sample, reference, classified
) -> None:
    worker = worker_factory(statewide_policies())
    worker.start()
    rows, events = asyncio.run(replay(kafka_settings, sample, progress=False))
    worker.wait_consumed(events)
    assert exported(kafka_settings) == reference
    # `clearance report` gives gogen's summary figures per county from the topic: the same as classify's
    report = build_report(latest_active(kafka_settings))
    summaries = classify_summaries(classified)
    assert report.keys() == {c for c, s in summaries.items() if s["subjectsWithProp64ConvictionCountInCounty"]}
    for county, row in report.items():
        for key in REPORT_KEYS:
            assert row[key] == summaries[county][key], (county, key)
    m = worker.metrics()
    assert m["clearance_records_applied_total{op=upserted}"] == rows
    assert m["clearance_determinations_emitted_total"] == len(reference)
    assert "event loop uvloop." in worker.log.read_text()  # CLEARANCE_EVENT_LOOP's default


def test_shuffled_subject_order_gives_the_same_answers(worker_factory, kafka_settings, sample, reference) -> None:
    """Subjects' events interleave at random (each subject's own events keep their order)."""
    per_subject: dict[str, list[bytes]] = defaultdict(list)
    for sid, value in _events(sample, max_records=3):
        per_subject[sid].append(value)
    rng = random.Random(11)
    queues = [(sid, list(values)) for sid, values in per_subject.items()]
    messages: list[tuple[bytes, bytes]] = []
    while queues:
        i = rng.randrange(len(queues))
        sid, values = queues[i]
        messages.append((sid.encode(), values.pop(0)))
        if not values:
            queues[i] = queues[-1]
            queues.pop()
    worker = worker_factory(statewide_policies())
    worker.start()
    sent = send(kafka_settings, kafka_settings.topic(RECORD_CHANGES), messages)
    worker.wait_consumed(sent)
    assert exported(kafka_settings) == reference


@pytest.fixture(scope="module")
def big_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bigger generated DOJ file (about 35,000 rows) for the faults test."""
    path = tmp_path_factory.mktemp("doj-big") / "big.csv"
    assert cli_main(["generate-doj", "--people", "4000", "--seed", "17", "--output", str(path)]) == 0
    assert sum(1 for _ in iter_rows(str(path))) >= 25_000
    return path


@pytest.fixture(scope="module")
def big_reference(big_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    expected = classify_reference(big_sample, statewide_policies(), tmp_path_factory.mktemp("classify-big"))
    assert len(expected) > 1000
    return expected


def _progress(worker: WorkerProcess, events: int) -> None:
    """Until this run of the worker has consumed ``events`` (so a kill lands mid-backfill, not before it)."""
    worker.wait_for(lambda m: m.get("clearance_events_consumed_total", 0) >= events, 180, f"{events} events")


def _restart_if_fenced(worker: WorkerProcess) -> int:
    """A worker whose group dropped it during the broker's absence exits with the fence's code; its supervisor
    restarts it (any other exit is a failure). 1 when it was restarted."""
    if not worker.exited():
        return 0
    assert worker.proc is not None and worker.proc.returncode == FENCED_EXIT_CODE, worker.tail()
    worker.start()
    return 1


def _kill_9_broker(broker: LocalBroker) -> None:
    """SIGKILL the session's broker (no controlled shutdown) and start it again on the same port and data."""
    pid = broker.status().pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not broker.is_running(), 30, "the broker to die")
    # The workers keep reconnecting meanwhile, and a loopback connect to a port nobody listens on can get that very
    # port as its source (a TCP self-connect): the port is then busy until the client drops that socket.
    deadline = time.monotonic() + 90
    while True:
        try:
            broker.start(timeout=BROKER_START_TIMEOUT_S)
            return
        except KafkaSetupError as exc:
            if "already in use" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_kill_9s_a_broker_kill_9_and_rebalances_mid_backfill_still_equal_classify(
    worker_factory, kafka_settings: Settings, kafka_broker: LocalBroker | None, big_sample, big_reference
) -> None:
    """Three kill -9s of a worker, a second worker joining (rebalance) and leaving (rebalance) and a kill -9 of the
    broker, all while a 35,000-row backfill streams in: the export still equals classify, and a candidate id
    never comes back with other content."""
    if kafka_broker is None:
        pytest.skip("restarts the session's own broker; an external cluster is not ours to kill")
    events = _events(big_sample, max_records=2)
    topic = kafka_settings.topic(RECORD_CHANGES)
    fifth = len(events) // 5
    chunks = [events[i * fifth:(i + 1) * fifth] for i in range(4)] + [events[4 * fifth:]]

    def send_chunk(number: int) -> None:
        send(kafka_settings, topic, ((sid.encode(), v) for sid, v in chunks[number]))

    a = worker_factory(statewide_policies(), name="a")
    b = worker_factory(statewide_policies(), name="b")
    a.start()
    send_chunk(0)
    _progress(a, fifth // 3)
    a.kill()  # kill -9 #1: no commit, no flush, no goodbye
    send_chunk(1)
    a.start()
    _progress(a, fifth // 2)
    a.kill()  # kill -9 #2, with the input still ahead of the worker
    a.start()
    send_chunk(2)
    b.start()  # rebalance: B takes half of the partitions (and their state, from the changelog)
    _progress(b, fifth // 4)
    _kill_9_broker(kafka_broker)
    restarts = _restart_if_fenced(a) + _restart_if_fenced(b)
    send_chunk(3)
    _progress(a, 1)
    restarts += _restart_if_fenced(b)
    a.kill()  # kill -9 #3, while B holds the other half
    a.start()
    send_chunk(4)
    b.stop()  # rebalance: A takes everything back
    wait_until(lambda: group_behind(kafka_settings, topic) == 0, 300, "the group to commit the whole backfill")
    a.wait_lag_zero(180)
    got = exported(kafka_settings)
    missing = big_reference.keys() - got.keys()
    differing = [cid for cid in big_reference.keys() & got.keys() if got[cid] != big_reference[cid]]
    print(f"faults test: {len(events)} events, {len(big_reference)} convictions; {restarts} fenced restarts; "
          f"{len(missing)} missing, {len(differing)} differing, {len(got.keys() - big_reference.keys())} extra")
    assert got == big_reference
    seen: dict[str, dict] = {}
    for cand in read_all(kafka_settings, kafka_settings.topic(CANDIDATES)):
        assert seen.setdefault(cand["candidate_id"], cand) == cand, "a candidate id came back with other content"
    assert seen


def test_restart_with_changed_policies_reclassifies_held_state(worker_factory, kafka_settings: Settings) -> None:
    la_50 = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}}
    la_39 = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11", "individual_age": 39}}}
    worker = worker_factory(la_50)
    worker.start()
    send(kafka_settings, kafka_settings.topic(RECORD_CHANGES), [_event("e1", [
        ("r1", 1, conviction("001001001000", "11359 HS", "20100101", dob="19800101")),
        ("r2", 2, conviction("002001001000", "459 PC", "20150101", county="ALAMEDA")),
    ])])
    worker.wait_consumed(1)
    assert exported(kafka_settings) == {"S1:001001001000": ("Hand Review", "No applicable eligibility criteria")}
    worker.stop()
    worker.policies.write_text(json.dumps(la_39))
    worker.start()
    worker.wait_for(lambda m: m.get("clearance_candidate_changes_total{change=added}", 0) == 1, 60,
                    "the re-classification after the policy change")
    assert exported(kafka_settings) == {"S1:001001001000": ("Eligible for Dismissal", "39 years or older")}


def _event(event_id: str, upserts=(), retracts=(), subject: str = "S1") -> tuple[bytes, bytes]:
    changes = [{"op": "upserted", "record_key": k, "sequence": s, "record": r} for k, s, r in upserts]
    changes += [{"op": "retracted", "record_key": k} for k in retracts]
    kind = "record.changed" if upserts and retracts else "record.upserted" if upserts else "record.retracted"
    event = {"schema": "record-change.v1", "event_id": event_id, "type": kind, "source_agency": "TEST-COURT",
             "emitted_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "subject_id": subject,
             "changes": changes}
    validate("record-change.v1", event)
    return subject.encode(), json.dumps(event).encode()


def test_later_events_change_answers_and_candidates(worker_factory, kafka_settings: Settings) -> None:
    worker = worker_factory({"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}})
    worker.start()
    topic = kafka_settings.topic(RECORD_CHANGES)
    p64 = conviction("002001001000", "11359 HS", "20100101", dob="19800101")
    steps = [
        _event("1-hand-review", [("r2", 2, p64),
                                 ("r3", 3, conviction("003001001000", "459 PC", "20150101", county="ALAMEDA"))]),
        _event("2-dob-fix", [("r2", 2, {**p64, "PRI_DOB": "19600101"})]),  # now 59: dismissal, candidate added
        _event("3-superstrike", [("r1", 1, conviction("001001001000", "187 PC", "20050101", county="ALAMEDA"))]),
        _event("4-retract-strike", retracts=["r1"]),  # candidate is back
        _event("5-retract-p64", retracts=["r2"]),  # conviction gone: determination retracted, candidate withdrawn
        _event("6-other", [("r10", 10, conviction("010001001000", "11358 HS", "20120101", dob="19900101",
                                                  subject="S2")),
                           ("r11", 11, conviction("011001001000", "459 PC", "20150101", subject="S2"))],
               subject="S2"),
        _event("7-deceased", [("r12", 12, deceased("S2"))], subject="S2"),
    ]
    send(kafka_settings, topic, steps)
    worker.wait_consumed(len(steps))
    cands = read_all(kafka_settings, kafka_settings.topic(CANDIDATES))
    for cand in cands:
        validate("dismissal-candidate.v1", cand)
    got = [(c["source_event_id"], c["conviction_id"], c["change"], c["determination"]) for c in cands]
    assert sorted(got) == sorted([
        ("2-dob-fix", "S1:002001001000", "added", "Eligible for Dismissal"),
        ("3-superstrike", "S1:002001001000", "withdrawn", "Not eligible"),
        ("4-retract-strike", "S1:002001001000", "added", "Eligible for Dismissal"),
        ("5-retract-p64", "S1:002001001000", "withdrawn", None),
        ("7-deceased", "S2:010001001000", "added", "Eligible for Dismissal"),
    ])
    dets = read_all(kafka_settings, kafka_settings.topic(DETERMINATIONS))
    for det in dets:
        validate("determination.v1", det)
    s1 = [d for d in dets if d["conviction_id"] == "S1:002001001000"]
    assert [d["revision"] for d in s1] == [1, 2, 3, 4, 5]
    assert s1[-1]["status"] == "retracted"
    assert exported(kafka_settings) == {"S2:010001001000": ("Eligible for Dismissal", "Deceased")}


def test_bad_input_goes_to_the_dead_letter_topic(worker_factory, kafka_settings: Settings) -> None:
    worker = worker_factory({"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}})
    worker.extra_env["CLEARANCE_MAX_EVENT_BYTES"] = "100000"  # below Kafka's own 1 MiB message limit
    worker.start()
    good = _event("good-1", [("r1", 1, conviction("001001001000", "11359 HS", "20100101"))])
    good2 = _event("good-2", [("r1", 1, conviction("001001001000", "11360 HS", "20100101", subject="S9"))],
                   subject="S9")
    wrong_type = json.loads(good[1])
    wrong_type["type"] = "record.deleted"
    missing = json.loads(good[1])
    del missing["changes"]
    bad = [
        (b"S1", b"{not json"),
        (b"S1", json.dumps(missing).encode()),
        (b"S1", json.dumps(wrong_type).encode()),
        (b"S1", b'{"schema": "record-change.v1", "pad": "' + b"x" * 200_000 + b'"}'),
        (b"S1", b"\xff\xfe\x00"),
    ]
    sent = send(kafka_settings, kafka_settings.topic(RECORD_CHANGES), [bad[0], good, *bad[1:], good2])
    worker.wait_consumed(sent)
    letters = read_all(kafka_settings, kafka_settings.topic(DEAD_LETTERS))
    for letter in letters:
        validate("dead-letter.v1", letter)
    assert sorted(letter["error_kind"] for letter in letters) == sorted(
        ["not_json", "schema", "unknown_type", "oversized", "not_json"])
    assert all(letter["error_message"] for letter in letters)
    assert exported(kafka_settings) == {
        "S1:001001001000": ("Eligible for Dismissal", "Only has 11357-60 charges and completed sentence"),
        "S9:001001001000": ("Eligible for Dismissal", "Only has 11357-60 charges and completed sentence"),
    }
    assert worker.metrics()["clearance_invalid_events_total"] == 5
