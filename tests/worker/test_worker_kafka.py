"""The streaming pipeline on the real broker: replay → worker → export equals ``clearance classify``, whatever the
order of subjects, across a kill -9, and with bad input around; incremental changes produce the right candidates."""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import LA, conviction, deceased
from fixtures_worker import (
    classify_reference,
    classify_summaries,
    exported,
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
from streams.settings import CANDIDATES, DEAD_LETTERS, DETERMINATIONS, RECORD_CHANGES, Settings
from streams.tools.replay import file_digest, replay, subject_runs
from streams.tools.report import build_report

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


def test_kill_9_mid_replay_then_restart_still_equals_classify(
    worker_factory, kafka_settings: Settings, sample, reference
) -> None:
    worker = worker_factory(statewide_policies())
    worker.start()
    events = _events(sample, max_records=2)
    topic = kafka_settings.topic(RECORD_CHANGES)
    half = len(events) // 2
    send(kafka_settings, topic, ((sid.encode(), v) for sid, v in events[:half]))
    worker.wait_for(lambda m: m.get("clearance_events_consumed_total", 0) >= half // 3, 120, "some progress")
    worker.kill()  # SIGKILL: no commit, no flush, no goodbye
    send(kafka_settings, topic, ((sid.encode(), v) for sid, v in events[half:]))
    worker.start()
    worker.wait_lag_zero()
    assert exported(kafka_settings) == reference
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
