"""The code's vocabulary is exactly the contract's: every constant equals its schema's enum or const."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.events import model
from streams.events.schemas import load_schema


def test_schema_names_are_the_schemas_consts() -> None:
    for name in (
        model.RECORD_CHANGE_V1,
        model.DETERMINATION_V1,
        model.DISMISSAL_CANDIDATE_V1,
        model.DEAD_LETTER_V1,
    ):
        assert load_schema(name)["properties"]["schema"]["const"] == name


def test_record_change_vocabulary() -> None:
    schema = load_schema(model.RECORD_CHANGE_V1)
    assert tuple(schema["properties"]["type"]["enum"]) == model.EVENT_TYPES
    assert schema["properties"]["changes"]["maxItems"] == model.MAX_CHANGES
    ops = [model.Upsert.op, model.Retract.op, model.Correct.op]
    assert schema["$defs"]["change"]["properties"]["op"]["enum"] == ops
    assert tuple(schema["$defs"]["correct"]["properties"]["attributes"]["propertyNames"]["enum"]) == model.CORRECTABLE


def test_determination_vocabulary() -> None:
    schema = load_schema(model.DETERMINATION_V1)
    assert schema["properties"]["determination"]["enum"] == [*model.DETERMINATIONS, None]
    assert schema["properties"]["status"]["enum"] == [model.ACTIVE, model.RETRACTED]


def test_candidate_vocabulary() -> None:
    schema = load_schema(model.DISMISSAL_CANDIDATE_V1)
    assert schema["properties"]["determination"]["enum"] == [*model.DETERMINATIONS, None]
    assert set(schema["properties"]["previous_determination"]["enum"]) == {
        *model.CANDIDATE_DETERMINATIONS,
        None,
    }


def test_dead_letter_kinds() -> None:
    schema = load_schema(model.DEAD_LETTER_V1)
    assert tuple(schema["properties"]["error_kind"]["enum"]) == model.ERROR_KINDS


def test_events_serialise_to_their_contract_form() -> None:
    event = model.RecordChangeEvent(
        "e",
        model.RECORD_CHANGED,
        "a",
        datetime(2024, 5, 1, tzinfo=UTC),
        "s",
        (model.Upsert("k1", 2, {"OFN": "1"}), model.Retract("k0"), model.Retract("k2", 5)),
    )
    assert event.to_json_obj() == {
        "schema": "record-change.v1",
        "event_id": "e",
        "type": "record.changed",
        "source_agency": "a",
        "emitted_at": "2024-05-01T00:00:00.000000Z",
        "subject_id": "s",
        "changes": [
            {"op": "upserted", "record_key": "k1", "sequence": 2, "record": {"OFN": "1"}},
            {"op": "retracted", "record_key": "k0"},
            {"op": "retracted", "record_key": "k2", "sequence": 5},
        ],
    }
