"""Refreshed extracts through the real broker: replay v1, v2, v3 as source snapshots with a live change from another
source in between; the worker ends where `clearance classify` on v3 is, and the candidates topic agrees."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from extracts import flatten, next_extract, people, write_rows
from fixtures_worker import classify_reference, exported, latest_active, read_all, send, statewide_policies

from streams.doj.generate import generate
from streams.settings import CANDIDATES, RECORD_CHANGES, Settings
from streams.tools.replay import replay

pytestmark = pytest.mark.kafka
COUNTIES = ["SACRAMENTO", "LOS ANGELES", "KERN", "ALAMEDA"]


def _live(subject: str, event_id: str, change: dict[str, object]) -> tuple[bytes, bytes]:
    event = {"schema": "record-change.v1", "event_id": event_id, "type": "record.changed",
             "source_agency": "SACRAMENTO-SUPERIOR-COURT", "emitted_at": datetime.now(UTC).isoformat(),
             "subject_id": subject, "changes": [change]}
    return subject.encode(), json.dumps(event).encode()


def test_extract_sequence_ends_as_classify_on_the_last_extract(
    worker_factory, kafka_settings: Settings, tmp_path: Path
) -> None:
    population = people(generate(1500, 21, COUNTIES))
    subjects = list(population)
    v1 = {s: population[s] for s in subjects[:1200]}
    v2 = next_extract(v1, {s: population[s] for s in subjects[1200:1350]}, seed=4)
    v3 = next_extract(v2, {s: population[s] for s in subjects[1350:]}, seed=5)
    files = [write_rows(tmp_path / f"v{i}.csv", flatten(v)) for i, v in enumerate((v1, v2, v3), 1)]
    policies = statewide_policies()
    worker = worker_factory(policies)
    worker.start()
    topic = kafka_settings.topic(RECORD_CHANGES)
    sent = 0
    _, events = asyncio.run(replay(kafka_settings, files[0], progress=False, max_records=4))
    sent += events
    record = {"SUBJECT_ID": subjects[0], "STP_TYPE_DESCR": "COURT ACTION", "STP_ORI_CNTY_NAME": "SACRAMENTO",
              "CNT_ORDER": "900001001000", "OFFENSE_DESCR": "187 PC-MURDER", "DISP_DESCR": "CONVICTED-PRISON",
              "CONV_STAT_DESCR": "FELONY", "STP_EVENT_DATE": "20230101"}
    sent += send(kafka_settings, topic, [_live(subjects[0], "court-1", {
        "op": "upserted", "record_key": "court-case-1", "sequence": 99, "record": record})])
    for path in files[1:]:
        _, events = asyncio.run(replay(kafka_settings, path, progress=False))
        sent += events
    sent += send(kafka_settings, topic, [_live(subjects[0], "court-2", {"op": "retracted",
                                                                        "record_key": "court-case-1"})])
    worker.wait_consumed(sent, timeout=180)
    (tmp_path / "classify").mkdir()
    expected = classify_reference(files[-1], policies, tmp_path / "classify")
    assert len(expected) > 300
    assert exported(kafka_settings) == expected
    # the candidates topic's final state: each conviction's latest change
    latest: dict[str, dict] = {}
    for cand in read_all(kafka_settings, kafka_settings.topic(CANDIDATES)):
        if cand["revision"] >= latest.get(cand["conviction_id"], {"revision": 0})["revision"]:
            latest[cand["conviction_id"]] = cand
    current = {cid for cid, cand in latest.items() if cand["change"] != "withdrawn"}
    relief = {d["conviction_id"] for d in latest_active(kafka_settings)
              if d["determination"] in ("Eligible for Dismissal", "Eligible for Reduction")}
    assert current == relief
    m = worker.metrics()
    assert m["clearance_reevaluated_subjects_total{cause=extract,result=changed}"] > 0  # people left the extract
