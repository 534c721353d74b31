"""Time as a schedule: the next day a conviction's determination or reason changes if no record changes.

A flow's answer depends on compute-at only through the rules that read it, and each of those declares when its
predicate can change (``Rule.flips``, :mod:`streams.rules.flips`); every other rule is ``timeless``. So the
answer for one conviction is constant between those days, and :func:`next_change` evaluates ``flow.decide``
only there, never day by day:

* at compute-at the deciding rule is the ``k``-th (the default: after the last rule). Until a rule among the
  first ``k`` changes value, rules ``0..k-1`` stay false and rule ``k`` stays true, so the answer stays: only
  their flip days can change it (a conviction decided by a timeless rule with only timeless rules before it,
  e.g. a misdemeanour, is settled without computing a date);
* on the earliest of those days the flow is evaluated; an answer with another determination or reason is the
  next change, else the same step repeats from that day with its own deciding rule.

Pure and exact: tests compare it with a day-by-day evaluation of the flows (``tests/rules/test_schedule.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from streams.gocompat.dates import add_years
from streams.rules.engine import subject_for
from streams.rules.flips import midnight_on_or_after, years_after_reached
from streams.rules.flows.base import DEFAULT_RULE, FlipDates, Flow, Rule
from streams.rules.outcome import Decision
from streams.rules.subject import Conviction, Subject


@dataclass(frozen=True, slots=True)
class NextChange:
    """On ``on`` (a naive UTC midnight) the conviction's answer becomes ``decision``."""

    on: datetime
    decision: Decision


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the schedule needs of a flow's table, read once per flow."""

    timed: tuple[tuple[int, FlipDates], ...]  # (position, flips) of the rules that read compute-at, in order
    position: Mapping[str, int]  # rule name → its last position (the default: after the last rule)


_PLANS: dict[int, tuple[Flow, _Plan]] = {}
_MAX_PLANS = 256


def _plan(flow: Flow) -> _Plan:
    entry = _PLANS.get(id(flow))
    if entry is not None and entry[0] is flow:
        return entry[1]
    rules: tuple[Rule, ...] = flow.rules
    position = {rule.name: index for index, rule in enumerate(rules)}
    position[DEFAULT_RULE] = len(rules)  # a rule named "default" still counts everything as before it
    timed = tuple((index, rule.flips) for index, rule in enumerate(rules) if rule.flips is not None)
    plan = _Plan(timed, position)
    if len(_PLANS) >= _MAX_PLANS:  # policies are few; a worker reloading them many times starts over
        _PLANS.clear()
    _PLANS[id(flow)] = (flow, plan)  # the entry keeps the flow alive, so its id is not reused meanwhile
    return plan


def next_change(
    subject: Subject, flow: Flow, conviction: Conviction, compute_at: datetime, *, horizon_years: int = 100
) -> NextChange | None:
    """The first midnight ``D > compute_at`` on which ``flow.decide(subject, conviction, D)`` has another
    determination or reason than at ``compute_at``, with what it becomes; ``None`` when nothing changes up to
    ``compute_at`` + ``horizon_years`` (Go's ``AddDate``) inclusive.

    ``subject`` is the subject as the flow sees it (:func:`streams.rules.engine.subject_for`) and
    ``conviction`` one of its convictions, as for ``flow.decide``; ``compute_at`` a naive UTC midnight.
    """
    plan = _plan(flow)
    timed = plan.timed
    position = plan.position
    rules = len(flow.rules)
    current = flow.decide(subject, conviction, compute_at)
    deciding = position.get(current.rule, rules)
    if not timed or timed[0][0] > deciding:
        return None
    limit = add_years(compute_at, horizon_years)
    days: dict[int, list[datetime]] = {}  # position → its flip days within the horizon, ascending
    now = compute_at
    while True:
        first: datetime | None = None
        for index, flips in timed:
            if index > deciding:
                break
            mine = days.get(index)
            if mine is None:
                mine = days[index] = _days(flips(subject, conviction), compute_at, limit)
            for day in mine:
                if day > now:
                    if first is None or day < first:
                        first = day
                    break
        if first is None:
            return None
        decision = flow.decide(subject, conviction, first)
        if decision != current:
            return NextChange(first, decision)
        now = first
        deciding = position.get(decision.rule, rules)


def _days(flips: Iterable[datetime], compute_at: datetime, limit: datetime) -> list[datetime]:
    """Flip instants as the midnights on or after them, after ``compute_at`` and up to ``limit``, ascending."""
    found = []
    for instant in flips:
        day = midnight_on_or_after(instant)
        if day is not None and compute_at < day <= limit:
            found.append(day)
    if len(found) > 1:
        found.sort()
    return found


def next_changes(
    subject: Subject, flow: Flow, compute_at: datetime, *, horizon_years: int = 100
) -> dict[int, NextChange | None]:
    """Row index → :func:`next_change` of each conviction ``flow`` evaluates (the subject seen as the flow sees
    it, like :func:`streams.rules.engine.classify_subject`)."""
    view = subject_for(subject, flow)
    return {
        conviction.index: next_change(view, flow, conviction, compute_at, horizon_years=horizon_years)
        for conviction in view.convictions
        if flow.evaluates(view, conviction)
    }


def next_window_change(conviction: Conviction, compute_at: datetime) -> datetime | None:
    """The first midnight after ``compute_at`` on which ``conviction.occurred_in_last_7_years`` differs from its
    value at ``compute_at``: the day the conviction leaves the 7-year window (it never enters it later), else
    ``None`` (outside it already, or leaving after year 9999)."""
    if not conviction.occurred_in_last_7_years(compute_at):
        return None
    # in the window while disposition > t.AddDate(-7, 0, 0); out from the first t with disposition <= it
    leaves = years_after_reached(conviction.disposition_date, 7)
    return leaves[0] if leaves else None
