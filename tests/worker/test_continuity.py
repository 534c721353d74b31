"""Input partitions are handled in offset order without holes (pure bookkeeping)."""

from __future__ import annotations

from streams.worker.continuity import InputContinuity


def test_a_record_past_the_next_offset_is_a_skip_and_an_earlier_one_a_redelivery() -> None:
    c = InputContinuity()
    assert not c.knows(1)
    c.start(1, 14)
    assert c.skipped(1, 14) is None
    c.handled(1, 14)
    assert c.skipped(1, 15) is None
    assert c.skipped(1, 95) == (15, 94)  # faust dropped 15–94: 95 must not be applied before them
    assert c.skipped(1, 3) is None  # faust sought back: a re-delivery
    c.handled(1, 3)
    assert c.skipped(1, 16) == (15, 15)  # a re-delivery never moves the next offset back


def test_partitions_are_independent_and_forgotten_when_revoked() -> None:
    c = InputContinuity()
    c.start(0, 0)
    c.start(2, 100)
    c.handled(0, 0)
    assert c.skipped(2, 100) is None and c.skipped(0, 1) is None
    c.forget([2, 7])
    assert not c.knows(2) and c.knows(0)
    assert c.skipped(2, 500) is None  # unknown again: the next owner's start says where it begins
