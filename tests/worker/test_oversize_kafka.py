"""Issue #10, failures 1 and 2, against the real broker and a real worker process (RocksDB, changelog).

1. A valid event whose determination is over 1 MB, and a bad message whose dead letter was over 1 MB (a 300 KB key),
   wedged the worker: the send failed outside the error handling, faust restarted the agent, and it consumed
   nothing more. Now both are dead-lettered (bounded) and the next event is answered.
2. A person whose state was over 1 MB (1,500 convictions, or one 300 KB value) never reached the changelog; after a
   restore, a retraction of 1,000 records left them eligible. Now the state fits (stored compact), and after a
   restore from the changelog alone the answers equal ``clearance classify``.
"""

from __future__ import annotations

import json
import random
import shutil
import string
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from extracts import write_rows
from factories import LA, conviction, laid_out
from fixtures_worker import classify_reference, exported, read_all, send

from streams.events.schemas import validate
from streams.settings import DEAD_LETTERS, RECORD_CHANGES, Settings

pytestmark = pytest.mark.kafka

POLICIES = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}}


def _event(subject: str, event_id: str, upserts: Sequence[tuple[str, int, dict[str, Any]]] = (),
           retracts: Sequence[str] = ()) -> tuple[bytes, bytes]:
    changes: list[dict[str, Any]] = [{"op": "upserted", "record_key": k, "sequence": s, "record": r}
                                     for k, s, r in upserts]
    changes += [{"op": "retracted", "record_key": k} for k in retracts]
    kind = "record.upserted" if not retracts else "record.retracted" if not upserts else "record.changed"
    doc = {"schema": "record-change.v1", "event_id": event_id, "type": kind, "source_agency": "TEST-COURT",
           "emitted_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "subject_id": subject,
           "changes": changes}
    validate("record-change.v1", doc)
    return subject.encode(), json.dumps(doc).encode()


def _count_order(i: int) -> str:
    return f"{i // 100 + 1:03d}{i % 100 + 1:03d}001000"


def _letters(n: int, seed: int) -> str:
    return "".join(random.Random(seed).choices(string.ascii_letters, k=n))


def test_oversized_outputs_and_dead_letters_do_not_wedge_the_worker(worker_factory, kafka_settings: Settings) -> None:
    worker = worker_factory(POLICIES)
    worker.start()
    huge = conviction("001001001000", "11357 HS", "20100101", offense="11357 HS" + "A" * 550_000)
    good = conviction("001001001000", "11359 HS", "20100101", subject="S9")
    messages = [
        _event("S1", "huge-output", [("r1", 1, huge)]),  # a 1.1 MB determination
        (b"K" * 300_000, b"{not json"),  # a dead letter over 1 MB with the whole key
        _event("S9", "good", [("r1", 1, good)]),
    ]
    sent = send(kafka_settings, kafka_settings.topic(RECORD_CHANGES), messages)
    worker.wait_consumed(sent)
    worker.wait_for(lambda m: m.get("clearance_invalid_events_total", 0) == 2, 60, "two dead letters")
    letters = read_all(kafka_settings, kafka_settings.topic(DEAD_LETTERS))
    for letter in letters:
        validate("dead-letter.v1", letter)
        assert len(json.dumps(letter)) < 1_000_000
    by_kind = {letter["error_kind"]: letter for letter in letters}
    assert sorted(by_kind) == ["not_json", "processing"]
    assert "over the message limit" in by_kind["processing"]["error_message"]
    assert by_kind["processing"]["source"]["topic"] == kafka_settings.topic(RECORD_CHANGES)
    assert (by_kind["not_json"]["key_size"], by_kind["not_json"]["key_truncated"]) == (300_000, True)
    assert exported(kafka_settings) == {
        "S9:001001001000": ("Eligible for Dismissal", "Only has 11357-60 charges and completed sentence")}
    metrics = worker.metrics()
    assert metrics["clearance_held_events_total{cause=output_size}"] == 1
    assert metrics["clearance_invalid_events_total{kind=processing}"] == 1


def test_large_people_reach_the_changelog_and_a_restore_gives_classifys_answers(
    worker_factory, kafka_settings: Settings, tmp_path: Path
) -> None:
    worker = worker_factory(POLICIES)
    worker.start()
    s1 = [(f"r{i}", i, conviction(_count_order(i), "11357 HS", "20100101", toc="M", conv_stat="MISDEMEANOR"))
          for i in range(1500)]
    s2 = [("r0", 0, conviction("001001001000", "11357 HS", "20100101", subject="S2",
                               offense="11357 HS" + _letters(300_000, 2))),
          *[(f"r{i}", i, conviction(_count_order(i), "11360 HS", "20120101", subject="S2")) for i in (1, 2)]]
    events = [_event("S1", f"s1-{part}", s1[part * 500:(part + 1) * 500]) for part in range(3)]
    events.append(_event("S2", "s2", s2))
    assert len(events[-1][1]) > 300_000
    sent = send(kafka_settings, kafka_settings.topic(RECORD_CHANGES), events)
    worker.wait_consumed(sent, timeout=240)
    worker.wait_lag_zero(timeout=240)
    worker.kill()  # kill -9, then lose the local state: the restart restores from the changelog alone
    shutil.rmtree(kafka_settings.data_dir / "worker")
    worker.start()
    worker.wait_lag_zero(timeout=240)
    after = [_event("S1", "s1-retract", retracts=[f"r{i}" for i in range(1000)]),
             _event("S2", "s2-retract", retracts=["r1"])]
    sent = send(kafka_settings, kafka_settings.topic(RECORD_CHANGES), after)
    worker.wait_consumed(sent, timeout=240)
    worker.wait_lag_zero(timeout=240)
    assert worker.metrics().get("clearance_invalid_events_total", 0) == 0

    rows = [laid_out(record) for _, _, record in s1[1000:]] + [laid_out(s2[0][2]), laid_out(s2[2][2])]
    doj = write_rows(tmp_path / "remaining.csv", rows)
    expected = classify_reference(doj, POLICIES, tmp_path / "classify")
    assert len([cid for cid in expected if cid.startswith("S1:")]) == 500
    assert exported(kafka_settings) == expected
