"""decode_record_change: error kinds and their precedence, typed results, and encode round trips."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from streams.errors import EventError
from streams.events.codec import decode_record_change, encode
from streams.events.model import MAX_CHANGES, RecordChangeEvent, Retract, Upsert

PERSONAL = "SKYWALKER,LUKE"  # must never appear in an error message


def _event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "schema": "record-change.v1",
        "event_id": "evt-1",
        "type": "record.changed",
        "source_agency": "CA0340000",
        "emitted_at": "2024-05-01T16:30:05Z",
        "subject_id": "100200300",
        "changes": [
            {
                "op": "upserted",
                "record_key": "r1",
                "sequence": 0,
                "record": {
                    "PRI_NAME": PERSONAL,
                    "PRI_DOB": "19700101",
                    "SENT_LENGTH": 3,
                    "COMMENT_TEXT": None,
                },
            },
            {"op": "retracted", "record_key": "r0"},
        ],
    }
    event.update(overrides)
    return event


def _raw(event: object) -> bytes:
    return orjson.dumps(event)


def _reject(raw: bytes | None, **kwargs: Any) -> EventError:
    with pytest.raises(EventError) as caught:
        decode_record_change(raw, **kwargs)
    assert PERSONAL not in str(caught.value)
    return caught.value


def test_decodes_typed_changes_in_order() -> None:
    event = decode_record_change(_raw(_event()))
    assert event == RecordChangeEvent(
        event_id="evt-1",
        type="record.changed",
        source_agency="CA0340000",
        emitted_at=datetime(2024, 5, 1, 16, 30, 5, tzinfo=UTC),
        subject_id="100200300",
        changes=(
            Upsert(
                "r1", 0, {"PRI_NAME": PERSONAL, "PRI_DOB": "19700101", "SENT_LENGTH": 3, "COMMENT_TEXT": None}
            ),
            Retract("r0", None),
        ),
    )
    assert event.emitted_at.timestamp() == 1714581005.0


def test_unknown_properties_are_allowed_top_level_dropped_record_keys_kept() -> None:
    event = _event(trace_id="abc")
    event["changes"][0]["record"]["X_LOCAL_DOCKET"] = "34-2015"
    event["changes"][0]["note"] = "ignored"
    decoded = decode_record_change(_raw(event))
    assert isinstance(decoded.changes[0], Upsert)
    assert decoded.changes[0].record["X_LOCAL_DOCKET"] == "34-2015"
    assert "trace_id" not in decoded.to_json_obj()


def test_integral_float_sequence_is_an_integer() -> None:
    event = _event()
    event["changes"][0]["sequence"] = 7.0
    event["changes"][1]["sequence"] = 2.0
    decoded = decode_record_change(_raw(event))
    assert [(c.sequence, type(c.sequence)) for c in decoded.changes] == [(7, int), (2, int)]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"schema": "record-change.v1", ', "not a UTF-8 JSON document"),
        (b"", "not a UTF-8 JSON document"),
        (b'{"schema": "record-change.v1", "x": "\xff\xfe"}', "UTF-8"),
        (b"\xef\xbb\xbf{}", "not a UTF-8 JSON document"),
        (b"[1, 2]", "the top level is an array"),
        (b'"record-change.v1"', "the top level is a string"),
        (b"null", "the top level is null"),
    ],
    ids=["malformed", "empty", "invalid-utf8", "bom", "array", "string", "null"],
)
def test_not_json(raw: bytes, fragment: str) -> None:
    error = _reject(raw)
    assert error.kind == "not_json"
    assert fragment in str(error)


def test_tombstone_is_not_json() -> None:
    assert _reject(None).kind == "not_json"


def test_oversized_is_checked_before_parsing() -> None:
    raw = b"[" * 2000  # not JSON either: size wins
    error = _reject(raw, max_bytes=1999)
    assert error.kind == "oversized"
    assert "2000 bytes" in str(error) and "1999" in str(error)
    assert _reject(raw, max_bytes=2000).kind == "not_json"


def test_default_size_limit_is_one_mebibyte() -> None:
    event = _event()
    event["changes"][0]["record"]["COMMENT_TEXT"] = "x" * (1_048_576 - len(_raw(event)) + 4)
    assert len(_raw(event)) == 1_048_576 + 2
    assert _reject(_raw(event)).kind == "oversized"


@pytest.mark.parametrize(
    ("mutate", "kind", "path"),
    [
        (lambda e: e.pop("subject_id"), "schema", "$:"),
        (lambda e: e.pop("schema"), "schema", "$:"),
        (lambda e: e.pop("type"), "schema", "$:"),
        (lambda e: e.update(subject_id=100200300), "schema", "$.subject_id:"),
        (lambda e: e.update(schema=1), "schema", "$.schema:"),
        (lambda e: e.update(changes={"op": "upserted"}), "schema", "$.changes:"),
        (lambda e: e["changes"][0].update(sequence="0"), "schema", "$.changes[0].sequence:"),
        (lambda e: e["changes"][0].update(sequence=True), "schema", "$.changes[0].sequence:"),
        (lambda e: e["changes"][0].update(sequence=1.5), "schema", "$.changes[0].sequence:"),
        (lambda e: e["changes"][0].update(sequence=-1), "schema", "$.changes[0].sequence:"),
        (
            lambda e: e["changes"][0]["record"].update(PRI_NAME=[PERSONAL]),
            "schema",
            "$.changes[0].record.PRI_NAME:",
        ),
        (lambda e: e["changes"][0]["record"].update({"A B": True}), "schema", "$.changes[0].record['A B']:"),
        (lambda e: e["changes"][0].update(record=[]), "schema", "$.changes[0].record:"),
        (lambda e: e["changes"][1].update(record_key=""), "schema", "$.changes[1].record_key:"),
        (lambda e: e["changes"][1].update(op="deleted"), "schema", "$.changes[1].op:"),
        (lambda e: e["changes"].append(5), "schema", "$.changes[2]:"),
        (lambda e: e.update(emitted_at="2024-05-01T16:30:05"), "schema", "$.emitted_at:"),
        (lambda e: e.update(type="record.deleted"), "unknown_type", "$.type:"),
        (lambda e: e.update(schema="record-change.v2"), "unknown_type", "$.schema:"),
        # An unknown kind wins over any other problem: its shape is not judged.
        (lambda e: e.update(type="record.merged", changes=None, subject_id=""), "unknown_type", "$.type:"),
    ],
    ids=[
        "missing-field",
        "missing-schema",
        "missing-type",
        "wrong-type",
        "schema-not-a-string",
        "changes-not-an-array",
        "sequence-string",
        "sequence-bool",
        "sequence-fraction",
        "sequence-negative",
        "value-array",
        "value-bool-odd-key",
        "record-not-an-object",
        "empty-record-key",
        "unknown-op",
        "change-not-an-object",
        "no-offset",
        "unknown-type",
        "unknown-schema",
        "unknown-type-precedence",
    ],
)
def test_schema_and_unknown_type_errors_name_the_path(mutate: Any, kind: str, path: str) -> None:
    event = _event()
    mutate(event)
    error = _reject(_raw(event))
    assert error.kind == kind
    assert str(error).startswith(f"{path} ")


def test_mixed_ops_under_record_upserted() -> None:
    error = _reject(_raw(_event(type="record.upserted")))
    assert error.kind == "schema"
    assert str(error) == "$.changes[1].op: must be 'upserted' in a record.upserted event"


def test_upsert_under_record_retracted() -> None:
    error = _reject(_raw(_event(type="record.retracted")))
    assert str(error).startswith("$.changes[0].op: must be 'retracted'")


def test_change_count_limits() -> None:
    change = {"op": "retracted", "record_key": "k"}
    assert len(decode_record_change(_raw(_event(changes=[change] * MAX_CHANGES))).changes) == MAX_CHANGES
    assert str(_reject(_raw(_event(changes=[change] * (MAX_CHANGES + 1))))).startswith("$.changes:")
    assert str(_reject(_raw(_event(changes=[])))).startswith("$.changes:")


def test_string_length_limits_count_characters() -> None:
    assert decode_record_change(_raw(_event(subject_id="é" * 64))).subject_id == "é" * 64
    assert str(_reject(_raw(_event(subject_id="é" * 65)))).startswith("$.subject_id:")
    assert decode_record_change(_raw(_event(event_id="e" * 200))).event_id == "e" * 200
    assert str(_reject(_raw(_event(event_id="e" * 201)))).startswith("$.event_id:")


def test_encode_round_trips_a_decoded_event() -> None:
    decoded = decode_record_change(_raw(_event()))
    assert decode_record_change(encode(decoded)) == decoded
    assert orjson.loads(encode(decoded)) == _event(emitted_at="2024-05-01T16:30:05.000000Z")


def test_emitted_at_keeps_microseconds_through_a_round_trip() -> None:
    decoded = decode_record_change(_raw(_event(emitted_at="2024-05-01T09:30:05.123456-07:00")))
    assert decoded.emitted_at == datetime(2024, 5, 1, 16, 30, 5, 123456, tzinfo=UTC)
    assert decode_record_change(encode(decoded)) == decoded


def test_encode_writes_compact_json_of_plain_objects() -> None:
    assert encode({"a": [1, None, "é"]}) == '{"a":[1,null,"é"]}'.encode()


def test_encode_rejects_unknown_objects() -> None:
    with pytest.raises(TypeError):
        encode({"a": object()})
