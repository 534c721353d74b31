"""Deterministic ids: fixed formats that consumers and replays rely on."""

from __future__ import annotations

import hashlib

import pytest

from streams.events.ids import candidate_id, conviction_id, replay_event_id, replay_record_key

DIGEST = hashlib.sha256(b"file").hexdigest()


def test_conviction_id_joins_subject_and_count_order() -> None:
    assert conviction_id("100200300", "001001001000") == "100200300:001001001000"
    assert conviction_id("100200300", "") == "100200300:"


def test_candidate_id_appends_the_revision() -> None:
    assert candidate_id("100200300:001001001000", 3) == "100200300:001001001000#3"
    with pytest.raises(ValueError):
        candidate_id("100200300:001001001000", 0)


def test_replay_ids_depend_only_on_the_file_and_row() -> None:
    assert replay_event_id(DIGEST, 12) == f"replay:{DIGEST}:12"
    assert replay_record_key(DIGEST, 12) == f"{DIGEST[:16]}:12"
    assert replay_record_key(DIGEST[:16], 12) == replay_record_key(DIGEST, 12)
    assert replay_record_key(DIGEST, 12) != replay_record_key(hashlib.sha256(b"other").hexdigest(), 12)


@pytest.mark.parametrize("digest", ["", "f" * 192])
def test_replay_event_id_refuses_digests_that_make_bad_ids(digest: str) -> None:
    with pytest.raises(ValueError):
        replay_event_id(digest, 0)


def test_replay_record_key_needs_a_digest() -> None:
    with pytest.raises(ValueError):
        replay_record_key("", 0)
