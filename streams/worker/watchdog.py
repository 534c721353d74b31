"""The worker's watchdog and health verdicts: pure decisions over what the housekeeping timer observes.

Why: a worker can stay up, serve /metrics and consume nothing — after a broker kill -9 its consumer sometimes never
rejoins its group (aiokafka parks its coordination on an error that faust never collects), and an agent that
crash-loops holds its partitions without reading them. No probe on /metrics sees that, and only a restart helps, so
the worker asks for one itself: it exits non-zero and its supervisor (Kubernetes, compose, systemd) starts it again.

Everything here is a function of the observations the shell passes in (no clock, no I/O, no faust):
:func:`verdict` says whether the worker must exit, :func:`readiness` whether it should get traffic, and
:class:`Watchdog` turns a series of observations into the durations both need. The shell is
:class:`streams.worker.service.WorkerService`.
"""

from __future__ import annotations

from dataclasses import dataclass

# A worker with lag that has handled nothing for this long is not "consuming" (readiness), well before the
# watchdog's own limit ends it: one event never takes seconds.
READY_STALL_S = 30.0


@dataclass(frozen=True, slots=True)
class Limits:
    """``stall_s``: exit after holding partitions with lag and consuming nothing this long, or with records
    beyond the committed offsets and no commit for this long; ``rejoin_s``: exit after being outside a consumer
    group this long. 0 turns a check off."""

    stall_s: float
    rejoin_s: float


@dataclass(frozen=True, slots=True)
class Observation:
    """One look at the worker. ``at``: a monotonic time in seconds; ``assigned``: input partitions assigned;
    ``lag``: messages behind on them; ``consumed``: a count that grows with every message handled; ``in_group``: a
    member of a group generation with a known coordinator; ``recovering``: rebalancing or restoring tables;
    ``committed``: a figure that moves with every offset commit on them (the sum of the committed offsets);
    ``uncommitted``: records in the input beyond the committed offsets."""

    at: float
    assigned: int
    lag: int
    consumed: float
    in_group: bool
    recovering: bool
    committed: int = 0
    uncommitted: int = 0


@dataclass(frozen=True, slots=True)
class Status:
    """What the watchdog concluded from the latest observation: the durations, and ``exit_reason`` (None: carry
    on)."""

    observation: Observation
    without_progress_s: float
    without_group_s: float
    exit_reason: str | None
    without_commit_s: float = 0.0


def verdict(*, assigned: int, lag: int, without_progress_s: float, without_group_s: float,
            limits: Limits, uncommitted: int = 0, without_commit_s: float = 0.0) -> str | None:
    """None when the worker may run on; else why it must exit (one line, no personal data).

    ``without_progress_s``: how long it has held partitions with lag and handled nothing; ``without_group_s``: how
    long it has been outside a consumer group (since start-up, for one that never joined); ``without_commit_s``:
    how long ``uncommitted`` records beyond the committed offsets have waited for a commit. faust commits every
    second up to the first message not acknowledged, so commits that stop while records wait beyond them mean one
    of them was dropped on the way to the agent (never handled, never acknowledged) or that commits fail: a
    restart reads from the last commit.
    """
    if limits.rejoin_s > 0 and without_group_s >= limits.rejoin_s:
        return f"the consumer has not been in its group for {without_group_s:.0f} s (limit {limits.rejoin_s:g} s)"
    if limits.stall_s > 0 and assigned > 0 and lag > 0 and without_progress_s >= limits.stall_s:
        return (f"{assigned} partitions held with {lag} messages of lag and nothing consumed for "
                f"{without_progress_s:.0f} s (limit {limits.stall_s:g} s)")
    if limits.stall_s > 0 and assigned > 0 and uncommitted > 0 and without_commit_s >= limits.stall_s:
        return (f"{uncommitted} records beyond the committed offsets and no offset commit for "
                f"{without_commit_s:.0f} s (limit {limits.stall_s:g} s): one of them never reached the handler, "
                "or commits are failing")
    return None


def readiness(status: Status | None, *, started: bool) -> tuple[bool, str]:
    """(ready, why): ready once the worker has started, is in its group, holds input partitions, is not recovering
    and is consuming whatever lag it has."""
    if not started or status is None:
        return False, "starting"
    obs = status.observation
    if status.exit_reason is not None:
        return False, f"exiting: {status.exit_reason}"
    if not obs.in_group:
        return False, "not in a consumer group"
    if obs.assigned == 0:
        return False, "no input partition assigned"
    if obs.recovering:
        return False, "recovering (rebalance or table restore)"
    if obs.lag > 0 and status.without_progress_s >= READY_STALL_S:
        return False, f"{obs.lag} messages of lag and nothing consumed for {status.without_progress_s:.0f} s"
    return True, "ready"


class Watchdog:
    """Remembers when the worker last made progress and when it was last in a group; :meth:`observe` gives the
    :class:`Status` of each new observation. Progress is any message handled, or nothing to do (no lag, no
    partition); a recovery counts as progress too (restoring a changelog reads no input, and may take minutes).
    Likewise it remembers when the committed offsets last moved (or nothing was waiting for a commit)."""

    def __init__(self, limits: Limits, started_at: float) -> None:
        self.limits = limits
        self._consumed: float | None = None
        self._progress_at = started_at
        self._in_group_at = started_at
        self._committed: int | None = None
        self._commit_at = started_at

    def observe(self, obs: Observation) -> Status:
        if obs.consumed != self._consumed or obs.lag == 0 or obs.assigned == 0 or obs.recovering:
            self._progress_at = obs.at
        self._consumed = obs.consumed
        if obs.committed != self._committed or obs.uncommitted == 0 or obs.assigned == 0 or obs.recovering:
            self._commit_at = obs.at
        self._committed = obs.committed
        if obs.in_group:
            self._in_group_at = obs.at
        without_progress = max(0.0, obs.at - self._progress_at)
        without_group = max(0.0, obs.at - self._in_group_at)
        without_commit = max(0.0, obs.at - self._commit_at)
        reason = verdict(assigned=obs.assigned, lag=obs.lag, without_progress_s=without_progress,
                         without_group_s=without_group, limits=self.limits, uncommitted=obs.uncommitted,
                         without_commit_s=without_commit)
        return Status(obs, without_progress, without_group, reason, without_commit)
