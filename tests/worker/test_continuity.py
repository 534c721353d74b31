"""Input partitions are handled in offset order without holes (pure bookkeeping)."""

from __future__ import annotations

from streams.worker.continuity import InputContinuity, Verdict

HANDLE, PASS_OVER, REWIND, RESTART = Verdict.HANDLE, Verdict.PASS_OVER, Verdict.REWIND, Verdict.RESTART


def test_a_record_past_the_next_offset_is_rewound_to_and_an_earlier_one_is_a_redelivery() -> None:
    c = InputContinuity()
    assert not c.knows(1)
    c.start(1, 14)
    assert c.check(1, 14, now=0.0) is HANDLE
    c.handled(1, 14)
    assert c.check(1, 15, now=0.0) is HANDLE
    assert c.check(1, 95, now=0.0) is REWIND  # faust dropped 15–94: 95 must not be applied before them
    assert c.next_offset(1) == 15  # where the partition is read again from
    assert c.check(1, 3, now=0.1) is HANDLE  # faust sought back: a re-delivery
    c.handled(1, 3)
    assert c.next_offset(1) == 15  # a re-delivery never moves the next offset back
    assert c.hole(1) is not None  # ... nor fills the hole


def test_later_records_are_passed_over_while_the_rewind_runs_and_the_hole_closes_when_its_record_comes() -> None:
    c = InputContinuity(rewind_every_s=5.0)
    c.start(0, 100)
    assert c.check(0, 101, now=10.0) is REWIND
    assert [c.check(0, offset, now=10.5) for offset in (102, 103)] == [PASS_OVER, PASS_OVER]  # buffered
    assert c.check(0, 100, now=11.0) is HANDLE
    c.handled(0, 100)
    assert c.hole(0) is None
    assert c.check(0, 101, now=11.0) is HANDLE  # read again, in order
    c.handled(0, 101)
    assert c.next_offset(0) == 102


def test_a_hole_that_outlives_its_rewinds_restarts_the_worker() -> None:
    c = InputContinuity(rewind_every_s=5.0, max_rewinds=3)
    c.start(2, 7)
    verdicts = [c.check(2, 9, now=t) for t in (0.0, 1.0, 5.0, 6.0, 10.0, 15.0)]
    assert verdicts == [REWIND, PASS_OVER, REWIND, PASS_OVER, REWIND, RESTART]
    hole = c.hole(2)
    assert hole is not None and (hole.since, hole.rewinds) == (0.0, 3)


def test_a_hole_no_record_arrives_for_is_retried_by_the_clock() -> None:
    c = InputContinuity(rewind_every_s=5.0, max_rewinds=2)
    c.start(0, 0)
    c.start(1, 50)
    assert c.check(0, 4, now=0.0) is REWIND
    assert c.overdue(now=4.9) == {}
    assert c.overdue(now=5.0) == {0: REWIND}
    assert c.overdue(now=7.0) == {}
    assert c.overdue(now=10.0) == {0: RESTART}


def test_partitions_are_independent_and_forgotten_when_revoked() -> None:
    c = InputContinuity()
    c.start(0, 0)
    c.start(2, 100)
    c.handled(0, 0)
    assert c.check(2, 100, now=0.0) is HANDLE and c.check(0, 1, now=0.0) is HANDLE
    assert c.check(2, 140, now=0.0) is REWIND
    c.forget([2, 7])
    assert not c.knows(2) and c.knows(0)
    assert c.hole(2) is None and c.overdue(now=100.0) == {}
    assert c.check(2, 500, now=0.0) is HANDLE  # unknown again: the next owner's start says where it begins
    c.start(2, 500)
    assert c.check(2, 500, now=0.0) is HANDLE
