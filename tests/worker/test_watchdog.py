"""The watchdog's decisions (pure): when a worker must exit for a restart, and when it is ready for traffic."""

from __future__ import annotations

import pytest

from streams.worker.watchdog import READY_STALL_S, Limits, Observation, Watchdog, readiness, verdict

LIMITS = Limits(stall_s=300, rejoin_s=120)


def obs(at: float, *, assigned: int = 2, lag: int = 0, consumed: float = 0, in_group: bool = True,
        recovering: bool = False, committed: int = 0, uncommitted: int = 0) -> Observation:
    return Observation(at=at, assigned=assigned, lag=lag, consumed=consumed, in_group=in_group, recovering=recovering,
                       committed=committed, uncommitted=uncommitted)


def test_verdict_is_ok_for_a_healthy_or_idle_worker() -> None:
    assert verdict(assigned=4, lag=0, without_progress_s=10_000, without_group_s=0, limits=LIMITS) is None
    assert verdict(assigned=0, lag=50, without_progress_s=10_000, without_group_s=0, limits=LIMITS) is None
    assert verdict(assigned=4, lag=50, without_progress_s=299, without_group_s=119, limits=LIMITS) is None


def test_verdict_exits_a_worker_that_holds_lag_and_consumes_nothing() -> None:
    reason = verdict(assigned=4, lag=50, without_progress_s=300, without_group_s=0, limits=LIMITS)
    assert reason is not None and "4 partitions" in reason and "50 messages of lag" in reason


def test_verdict_exits_a_worker_outside_its_group() -> None:
    reason = verdict(assigned=0, lag=0, without_progress_s=0, without_group_s=120, limits=LIMITS)
    assert reason is not None and "not been in its group for 120 s" in reason


def test_a_zero_limit_turns_its_check_off() -> None:
    off = Limits(stall_s=0, rejoin_s=0)
    assert verdict(assigned=4, lag=50, without_progress_s=1e9, without_group_s=1e9, limits=off) is None


def test_the_stall_clock_runs_only_while_lag_waits_and_nothing_is_handled() -> None:
    dog = Watchdog(LIMITS, started_at=0)
    assert dog.observe(obs(0, lag=10, consumed=5)).exit_reason is None
    assert dog.observe(obs(200, lag=10, consumed=9)).without_progress_s == 0  # handled four: progress
    assert dog.observe(obs(400, lag=10, consumed=9)).without_progress_s == 200
    status = dog.observe(obs(500, lag=10, consumed=9))
    assert status.without_progress_s == 300 and status.exit_reason is not None


@pytest.mark.parametrize("idle", [{"lag": 0}, {"assigned": 0, "lag": 10}, {"lag": 10, "recovering": True}])
def test_no_lag_no_partition_or_a_recovery_restarts_the_stall_clock(idle: dict[str, object]) -> None:
    dog = Watchdog(LIMITS, started_at=0)
    dog.observe(obs(0, lag=10, consumed=1))
    dog.observe(obs(250, consumed=1, **idle))  # type: ignore[arg-type]
    assert dog.observe(obs(500, lag=10, consumed=1)).exit_reason is None  # 250 s without progress, not 500
    assert dog.observe(obs(550, lag=10, consumed=1)).exit_reason is not None


def test_the_group_clock_counts_from_start_up_and_from_the_last_membership() -> None:
    dog = Watchdog(LIMITS, started_at=100)
    assert dog.observe(obs(200, in_group=False)).exit_reason is None
    assert dog.observe(obs(220, in_group=False)).exit_reason is not None  # never joined within 120 s
    dog = Watchdog(LIMITS, started_at=0)
    dog.observe(obs(10))
    assert dog.observe(obs(129, in_group=False)).without_group_s == 119
    assert dog.observe(obs(130, in_group=True)).exit_reason is None  # rejoined in time
    assert dog.observe(obs(249, in_group=False)).exit_reason is None
    assert dog.observe(obs(250, in_group=False)).exit_reason is not None


def test_readiness_says_why_not() -> None:
    dog = Watchdog(LIMITS, started_at=0)
    assert readiness(None, started=True) == (False, "starting")
    assert readiness(dog.observe(obs(1)), started=False) == (False, "starting")
    assert readiness(dog.observe(obs(2)), started=True) == (True, "ready")
    assert readiness(dog.observe(obs(3, in_group=False)), started=True)[1] == "not in a consumer group"
    assert readiness(dog.observe(obs(4, assigned=0)), started=True)[1] == "no input partition assigned"
    assert readiness(dog.observe(obs(5, recovering=True)), started=True)[0] is False
    dog.observe(obs(10, lag=5, consumed=1))
    assert readiness(dog.observe(obs(10 + READY_STALL_S - 1, lag=5, consumed=1)), started=True)[0] is True
    ready, why = readiness(dog.observe(obs(10 + READY_STALL_S, lag=5, consumed=1)), started=True)
    assert not ready and "nothing consumed" in why
    ready, why = readiness(dog.observe(obs(1000, lag=5, consumed=1)), started=True)
    assert not ready and why.startswith("exiting:")


def test_messages_handed_over_and_never_committed_end_the_worker_even_while_it_consumes() -> None:
    """faust commits every second up to the first unacknowledged message: when commits stop while later messages
    are handled (and the lag gauge reads 0), one was dropped before the handler, and only a restart reads it."""
    dog = Watchdog(LIMITS, started_at=0)
    assert dog.observe(obs(0, committed=8, uncommitted=40, consumed=1)).exit_reason is None
    assert dog.observe(obs(200, committed=8, uncommitted=900, consumed=500)).without_commit_s == 200
    status = dog.observe(obs(300, committed=8, uncommitted=1500, consumed=900))
    assert status.without_progress_s == 0 and status.without_commit_s == 300
    assert status.exit_reason is not None and "1500 records beyond the committed offsets" in status.exit_reason


@pytest.mark.parametrize("moving", [{"committed": 9, "uncommitted": 40}, {"committed": 8, "uncommitted": 0},
                                    {"committed": 8, "uncommitted": 40, "recovering": True}])
def test_a_commit_nothing_waiting_or_a_recovery_restarts_the_commit_clock(moving: dict[str, object]) -> None:
    dog = Watchdog(LIMITS, started_at=0)
    dog.observe(obs(0, committed=8, uncommitted=40))
    dog.observe(obs(250, **moving))  # type: ignore[arg-type]
    assert dog.observe(obs(500, committed=9 if moving["committed"] == 9 else 8, uncommitted=40)).exit_reason is None
    assert dog.observe(obs(550, committed=9 if moving["committed"] == 9 else 8, uncommitted=40)).exit_reason
