"""Every builder's output is valid for its schema, and carries what the worker and the DA office rely on."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime
from typing import Any

import pytest
from factories import fields

from streams import RULESET_VERSION
from streams.doj.columns import COLUMNS
from streams.doj.record import derive, fields_from_rule_values, rule_values
from streams.errors import EventError
from streams.events.builders import (
    candidate_change,
    candidate_event,
    dead_letter_event,
    dead_letter_key,
    determination_event,
    record_change_event,
    retracted_determination,
)
from streams.events.codec import decode_record_change, encode
from streams.events.model import DETERMINATIONS, ERROR_KINDS, MAX_CHANGES, Upsert
from streams.events.schemas import validate

DIGEST = hashlib.sha256(b"a DOJ research file").hexdigest()
FACTS: dict[str, Any] = {
    "case_number": "15F01234",
    "number_of_convictions_on_record": 2,
    "possible_other_p64_charges": "",
    "occurred_after_prop64": False,
    "superstrike_code_sections": ["187 PC"],
    "pc290_code_sections": [],
    "pc290_registration": False,
    "date_of_conviction": None,
    "years_since_this_conviction": None,
    "years_since_any_conviction": 3.5,
    "prop64_convictions": 1,
    "hs_11357_convictions": 0,
    "hs_11358_convictions": 0,
    "hs_11359_convictions": 1,
    "hs_11360_convictions": 0,
    "deceased": False,
    "index": 4,  # additional facts are allowed
}
SUBJECT = {"felony_convictions": 1, "convictions": 2, "convictions_last_7_years": 1}


ROWS = [
    (
        7,
        fields(
            fill="",
            SUBJECT_ID="100200300",
            PRI_NAME="SKYWALKER,LUKE",
            PRI_DOB="19700101",
            STP_EVENT_DATE="20150612",
            STP_TYPE_DESCR="COURT ACTION",
            STP_ORI_CNTY_NAME="SACRAMENTO",
            CNT_ORDER="001001001000",
            OFN="15F01234",
            OFFENSE_DESCR="11359 HS-POSSESS MARIJUANA FOR SALE",
            DISP_DESCR="CONVICTED-PROBATION",
            CONV_STAT_DESCR="FELONY",
            SENT_LENGTH="3",
            SENT_TIME_CODE="Y",
            END_OF_REC=" ",
        ),
    ),
    (
        8,
        fields(
            fill="",
            SUBJECT_ID="100200300",
            STP_EVENT_DATE="20150612",
            CNT_ORDER="001001001000",
            OFFENSE_DESCR="",
            COMMENT_TEXT="4149 BP - X",
            DISP_DESCR="CONVICTED-JAIL",
            SENT_LENGTH="30",
            SENT_TIME_CODE="D",
        ),
    ),
]


def _determination(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "subject_id": "100200300",
        "count_order": "001001001000",
        "county": "SACRAMENTO",
        "code_section": "11359 HS",
        "is_felony": True,
        "flow": "configurable",
        "policy_id": "cfg-3f9a2c71d0e4",
        "policy_version": "2024-04-01",
        "compute_at": datetime(2024, 5, 1),
        "determination": "Eligible for Reduction",
        "reason": "Reduce all HS 11359 convictions",
        "rule": "reduce 11359",
        "facts": FACTS,
        "subject": SUBJECT,
        "in_last_7_years": False,
        "revision": 1,
        "source_event_id": "evt-1",
    }
    return determination_event(**(arguments | overrides))


# -------------------------------------------------------------------------------------- record changes


def test_replayed_rows_make_a_valid_upsert_event() -> None:
    event = record_change_event(
        subject_id="100200300",
        rows=ROWS,
        file_digest=DIGEST,
        source_agency="CA-DOJ-BULK",
        emitted_at=datetime(2024, 5, 1, 16, 30, 5, tzinfo=UTC),
    )
    validate("record-change.v1", event)
    assert event["event_id"] == f"replay:{DIGEST}:7"
    assert event["emitted_at"] == "2024-05-01T16:30:05.000Z"
    assert [c["record_key"] for c in event["changes"]] == [f"{DIGEST[:16]}:7", f"{DIGEST[:16]}:8"]
    assert [c["sequence"] for c in event["changes"]] == [7, 8]


def test_replayed_records_leave_out_empty_fields_without_changing_the_derived_record() -> None:
    event = record_change_event(
        subject_id="100200300",
        rows=ROWS,
        file_digest=DIGEST,
        source_agency="CA-DOJ-BULK",
        emitted_at="2024-05-01T16:30:05Z",
    )
    decoded = decode_record_change(encode(event))
    for (index, row), change in zip(ROWS, decoded.changes, strict=True):
        assert isinstance(change, Upsert)
        assert "" not in change.record.values()
        assert list(change.record) == [name for name, value in zip(COLUMNS, row, strict=True) if value]
        assert derive(fields_from_rule_values(rule_values(change.record)), index) == derive(row, index)


def test_replay_is_deterministic() -> None:
    def build() -> bytes:
        return encode(
            record_change_event(
                subject_id="100200300",
                rows=ROWS,
                file_digest=DIGEST,
                source_agency="X",
                emitted_at="2024-05-01T00:00:00Z",
            )
        )

    assert build() == build()


@pytest.mark.parametrize("subject_id", ["", "1" * 65])
def test_replay_rejects_subject_ids_the_contract_cannot_carry(subject_id: str) -> None:
    with pytest.raises(EventError) as caught:
        record_change_event(
            subject_id=subject_id,
            rows=ROWS,
            file_digest=DIGEST,
            source_agency="X",
            emitted_at="2024-05-01T00:00:00Z",
        )
    assert caught.value.kind == "schema"


def test_replay_rejects_bad_row_counts_and_shapes() -> None:
    arguments: dict[str, Any] = {
        "subject_id": "1",
        "file_digest": DIGEST,
        "source_agency": "X",
        "emitted_at": "2024-05-01T00:00:00Z",
    }
    with pytest.raises(ValueError, match="1 to 5000"):
        record_change_event(rows=[], **arguments)
    with pytest.raises(ValueError, match="1 to 5000"):
        record_change_event(rows=[(i, ROWS[1][1]) for i in range(MAX_CHANGES + 1)], **arguments)
    with pytest.raises(ValueError, match="94 fields"):
        record_change_event(rows=[(0, ROWS[0][1][:-1])], **arguments)
    assert (
        len(record_change_event(rows=[(i, ROWS[1][1]) for i in range(MAX_CHANGES)], **arguments)["changes"])
        == 5000
    )


# -------------------------------------------------------------------------------------- determinations


@pytest.mark.parametrize("determination", DETERMINATIONS)
def test_every_determination_text_makes_a_valid_event(determination: str) -> None:
    event = _determination(determination=determination)
    validate("determination.v1", event)
    assert (event["status"], event["determination"]) == ("active", determination)


def test_determination_identity_and_normalised_fields() -> None:
    event = _determination(policy_version=3, compute_at=date(2019, 11, 11))
    validate("determination.v1", event)
    assert event["conviction_id"] == "100200300:001001001000"
    assert event["policy_version"] == "3"
    assert event["compute_at"] == "2019-11-11"
    assert event["ruleset"] == RULESET_VERSION
    assert event["facts"] == FACTS and event["facts"] is not FACTS


@pytest.mark.parametrize(
    "overrides", [{"determination": "Eligible"}, {"revision": 0}], ids=["unknown-text", "revision-0"]
)
def test_determination_rejects_impossible_values(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _determination(**overrides)


def test_retraction_keeps_the_conviction_and_clears_the_outcome() -> None:
    previous = _determination()
    retracted = retracted_determination(previous, revision=2, source_event_id="evt-2")
    validate("determination.v1", retracted)
    outcome = (retracted["status"], retracted["determination"], retracted["reason"], retracted["rule"])
    assert outcome == ("retracted", None, None, None)
    assert (retracted["revision"], retracted["source_event_id"]) == (2, "evt-2")
    assert {
        k: v
        for k, v in retracted.items()
        if k not in ("status", "determination", "reason", "rule", "revision", "source_event_id")
    } == {
        k: v
        for k, v in previous.items()
        if k not in ("status", "determination", "reason", "rule", "revision", "source_event_id")
    }
    assert previous["status"] == "active"


# ------------------------------------------------------------------------------------------ candidates

DISMISS = ("Eligible for Dismissal", "Dismiss all HS 11359 convictions")
REDUCE = ("Eligible for Reduction", "Reduce all HS 11359 convictions")
REDUCE_OTHER_REASON = ("Eligible for Reduction", "Reduce all HS 11359 convictions (age)")
NOT_ELIGIBLE = ("Not eligible", "Occurred in another county")
EMPTY = ("", "")


def _det(outcome: tuple[str, str] | None, revision: int) -> dict[str, Any]:
    if outcome is None:
        return retracted_determination(_determination(), revision=revision, source_event_id=f"evt-{revision}")
    return _determination(
        determination=outcome[0], reason=outcome[1], revision=revision, source_event_id=f"evt-{revision}"
    )


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        ("none", DISMISS, "added"),
        (NOT_ELIGIBLE, REDUCE, "added"),
        (None, DISMISS, "added"),  # re-appeared after a retraction
        (REDUCE, DISMISS, "changed"),
        (REDUCE, REDUCE_OTHER_REASON, "changed"),
        (DISMISS, NOT_ELIGIBLE, "withdrawn"),
        (DISMISS, EMPTY, "withdrawn"),
        (REDUCE, None, "withdrawn"),
        (REDUCE, REDUCE, None),
        ("none", NOT_ELIGIBLE, None),
        (NOT_ELIGIBLE, EMPTY, None),
        (NOT_ELIGIBLE, None, None),
    ],
)
def test_candidate_change(before: Any, after: tuple[str, str] | None, change: str | None) -> None:
    previous = None if before == "none" else _det(before, 1)
    current = _det(after, 2)
    event = candidate_change(previous, current)
    if change is None:
        assert event is None
        return
    assert event is not None
    validate("dismissal-candidate.v1", event)
    assert (event["change"], event["candidate_id"], event["revision"]) == (
        change,
        "100200300:001001001000#2",
        2,
    )
    assert (event["determination"], event["reason"]) == (current["determination"], current["reason"])
    expected_previous = (None, None) if change == "added" else (previous["determination"], previous["reason"])
    assert (event["previous_determination"], event["previous_reason"]) == expected_previous
    assert event["source_event_id"] == "evt-2"


def test_a_new_policy_alone_does_not_change_a_candidate() -> None:
    assert candidate_change(_det(DISMISS, 1), {**_det(DISMISS, 2), "policy_id": "cfg-other"}) is None


def test_candidate_event_builds_the_deterministic_id() -> None:
    event = candidate_event(
        change="added",
        conviction_id="s:001",
        subject_id="s",
        count_order="001",
        county="C",
        code_section="11357",
        flow="los_angeles",
        policy_id="p",
        determination="Eligible for Dismissal",
        reason="r",
        previous_determination=None,
        previous_reason=None,
        revision=4,
        source_event_id=None,
    )
    validate("dismissal-candidate.v1", event)
    assert event["candidate_id"] == "s:001#4"


# ---------------------------------------------------------------------------------------- dead letters


@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_dead_letter_for_every_kind_is_valid(kind: str) -> None:
    letter = dead_letter_event(
        kind,
        "$.changes[0].op: bad",
        "court.record-changes",
        3,
        1207,
        b"100200300",
        b'{"x": 1}',
        datetime(2024, 5, 1, 16, 30, 5, tzinfo=UTC),
    )
    validate("dead-letter.v1", letter)
    assert letter["source"] == {"topic": "court.record-changes", "partition": 3, "offset": 1207}
    assert base64.b64decode(letter["original_base64"]) == b'{"x": 1}'
    assert letter["failed_at"] == "2024-05-01T16:30:05.000Z"


def test_dead_letter_key_is_decoded_with_replacement_and_kept_exactly() -> None:
    letter = dead_letter_event("not_json", "m", "t", 0, 0, b"\xffabc", b"\xff", "2024-05-01T16:30:05Z")
    validate("dead-letter.v1", letter)
    assert letter["key"] == "\ufffdabc"
    assert base64.b64decode(letter["key_base64"]) == b"\xffabc"


def test_dead_letter_without_key_or_value() -> None:
    letter = dead_letter_event("not_json", "m", "t", 0, 0, None, None, "2024-05-01T16:30:05Z")
    validate("dead-letter.v1", letter)
    assert (letter["key"], letter["key_base64"], letter["original_base64"], letter["original_size"]) == (
        None,
        None,
        "",
        0,
    )


def test_dead_letter_truncates_large_originals_and_long_messages() -> None:
    value = bytes(range(256)) * 5000
    letter = dead_letter_event(
        "oversized", "x" * 5000, "t", 0, 0, b"k", value, "2024-05-01T16:30:05Z", max_original_bytes=1000
    )
    validate("dead-letter.v1", letter)
    assert base64.b64decode(letter["original_base64"]) == value[:1000]
    assert (letter["original_truncated"], letter["original_size"]) == (True, len(value))
    assert letter["original_sha256"] == hashlib.sha256(value).hexdigest()
    assert len(letter["error_message"]) == 2000


def test_dead_letter_of_a_maximal_event_fits_kafkas_default_message_size() -> None:
    letter = dead_letter_event(
        "oversized",
        "m" * 3000,
        "court.record-changes",
        0,
        2**62,
        b"k" * 64,
        b"v" * 5_000_000,
        "2024-05-01T16:30:05.123Z",
    )
    assert letter["original_truncated"] is True
    assert len(encode(letter)) < 1_048_576


def test_a_dead_letter_of_a_huge_key_and_value_stays_under_its_bound() -> None:
    """Issue #10 (1): a 300 KB key made a dead letter over 1 MB, which could not be sent and wedged the worker."""
    key = b"\xff" + b"k" * 300_000  # also not UTF-8: the decoded key grows (replacement characters)
    value = bytes(range(256)) * 4000
    letter = dead_letter_event("not_json", "m" * 3000, "court.record-changes", 3, 2**62, key, value,
                               "2024-05-01T16:30:05.123Z", max_bytes=200_000)
    validate("dead-letter.v1", letter)
    size = len(encode(letter))
    assert 200_000 - 8 < size <= 200_000  # what fits of the value is kept: whole base64 groups
    assert base64.b64decode(letter["key_base64"]) == key[:1024] == dead_letter_key(key)
    assert (letter["key_size"], letter["key_truncated"]) == (len(key), True)
    assert letter["key_sha256"] == hashlib.sha256(key).hexdigest()
    kept = base64.b64decode(letter["original_base64"])
    assert value.startswith(kept) and 0 < len(kept) < len(value)
    assert (letter["original_truncated"], letter["original_size"]) == (True, len(value))
    assert letter["source"] == {"topic": "court.record-changes", "partition": 3, "offset": 2**62}


@pytest.mark.parametrize("size", [0, 1, 2, 3, 100_000, 147_000])
def test_a_dead_letter_that_fits_keeps_everything(size: int) -> None:
    value = b"v" * size
    letter = dead_letter_event("processing", "m", "t", 0, 0, b"S1", value, "2024-05-01T16:30:05Z",
                               max_bytes=200_000)
    validate("dead-letter.v1", letter)
    assert base64.b64decode(letter["original_base64"]) == value
    assert (letter["original_truncated"], letter["key_truncated"], letter["key_size"]) == (False, False, 2)
    assert len(encode(letter)) <= 200_000


def test_a_dead_letter_bound_too_small_for_its_frame_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="needs at least"):
        dead_letter_event("schema", "m", "t", 0, 0, b"S1", b"v", "2024-05-01T16:30:05Z", max_bytes=100)


def test_dead_letter_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError):
        dead_letter_event("timeout", "m", "t", 0, 0, None, b"", "2024-05-01T16:30:05Z")
