"""Bytes to events and back on the hot path: orjson for every encode/decode, the hand validator for input.

Error precedence of :func:`decode_record_change` (first that applies): ``oversized`` (size checked before any
parsing), ``not_json`` (invalid UTF-8, invalid JSON, a tombstone, or a top level that is not an object),
``unknown_type`` (a ``schema`` or ``type`` string this worker does not know), ``schema`` (anything else the
contract forbids; the message starts with the JSON path). The builders and ids are re-exported here so the
worker and replay import one module.
"""

from __future__ import annotations

import orjson

from streams.errors import EventError
from streams.events.model import MAX_EVENT_BYTES, NOT_JSON, OVERSIZED, RecordChangeEvent
from streams.events.validation import parse_record_change


def decode_record_change(raw: bytes | None, *, max_bytes: int = MAX_EVENT_BYTES) -> RecordChangeEvent:
    """Decode and validate one ``court.record-changes`` message value; raises :class:`EventError`.

    ``raw`` None (a tombstone) is ``not_json``: record changes are never deleted by tombstones.
    """
    if raw is None:
        raise EventError(NOT_JSON, "$: the message has no value (tombstone), expected a JSON object")
    if len(raw) > max_bytes:
        raise EventError(OVERSIZED, f"the event is {len(raw)} bytes, the limit is {max_bytes}")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # orjson's messages give a position, never the input's text
        raise EventError(NOT_JSON, f"not a UTF-8 JSON document: {exc}") from exc
    return parse_record_change(obj)


def _to_json_obj(obj: object) -> object:
    to_json_obj = getattr(obj, "to_json_obj", None)
    if to_json_obj is None:
        raise TypeError(f"cannot encode {type(obj).__name__} as JSON")
    return to_json_obj()


def encode(obj: object) -> bytes:
    """Compact UTF-8 JSON of a builder's dict or of a decoded event (``RecordChangeEvent`` encodes to its
    contract form, so ``decode_record_change(encode(event)) == event``)."""
    return orjson.dumps(obj, default=_to_json_obj, option=orjson.OPT_PASSTHROUGH_DATACLASS)
