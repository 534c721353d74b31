"""The Sacramento pilot flow of 2019 (spec §8.4; PRE:data/sacramento_eligibility_flow.go).

Subjects are built with the pilot code-section rule (see :func:`streams.rules.subject.pilot_code_section`).
"Years since most recent conviction" is gogen's float figure, -1.0 when the subject has no dated conviction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from streams.gocompat.dates import ZERO_TIME, years_since
from streams.rules.flips import NEVER, Flips, years_since_exceeds
from streams.rules.flows.base import (
    FlowSpec,
    Rule,
    RuleFlow,
    has_several_convictions,
    is_misdemeanor,
    not_before_effective_date,
    require_county,
    require_no_options,
    sentence_completed,
    sentence_completed_flips,
)
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import Conviction, Subject

NAME = "sacramento"
COUNTY = "SACRAMENTO"
D = Determination


def years_since_most_recent(subject: Subject, t: datetime) -> float:
    """gogen's ``YearsSinceMostRecentConviction``: -1.0 without a dated conviction."""
    latest = subject.facts.most_recent_conviction_date
    return -1.0 if latest == ZERO_TIME else years_since(t, latest)


def years_since_most_recent_exceeds(subject: Subject, years: int) -> Flips:
    """When :func:`years_since_most_recent` first exceeds ``years`` (never without a dated conviction)."""
    latest = subject.facts.most_recent_conviction_date
    return NEVER if latest == ZERO_TIME else years_since_exceeds(latest, years)


def _is_11357b(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return conviction.code_section.startswith("11357(b)")  # lower-case, as the pilot wrote it


def _several_and_crime_free_10(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return has_several_convictions(subject, conviction, t) and years_since_most_recent(subject, t) > 10


def _several_and_crime_free_10_flips(subject: Subject, conviction: Conviction) -> Flips:
    return years_since_most_recent_exceeds(subject, 10) if len(subject.convictions) > 1 else NEVER


def sacramento_flow(county: str = COUNTY, options: Mapping[str, Any] | None = None) -> RuleFlow:
    """The Sacramento flow (no options)."""
    require_county(NAME, COUNTY, county)
    require_no_options(NAME, options)
    rules = (
        Rule(
            "on or after 11/9/2016",
            not_before_effective_date,
            Decision(D.NOT_ELIGIBLE, "Occurred after 11/09/2016"),
            timeless=True,
        ),
        Rule(
            "misdemeanor or infraction",
            is_misdemeanor,
            Decision(D.DISMISSAL, "Misdemeanor or Infraction"),
            timeless=True,
        ),
        Rule("11357(b)", _is_11357b, Decision(D.DISMISSAL, "HS 11357(b)"), timeless=True),
        Rule(
            "several convictions, none in 10 years",
            _several_and_crime_free_10,
            Decision(D.DISMISSAL, "No convictions in past 10 years"),
            flips=_several_and_crime_free_10_flips,
        ),
        Rule(
            "several convictions",
            has_several_convictions,
            Decision(D.REDUCTION, "Has convictions in past 10 years"),
            timeless=True,
        ),
        Rule(
            "sentence completed",
            sentence_completed,
            Decision(D.DISMISSAL, "Sentence Completed"),
            flips=sentence_completed_flips,
        ),
    )
    return RuleFlow(
        name=NAME,
        county=COUNTY,
        rules=rules,
        default=Decision(D.REDUCTION, "Sentence not Completed"),
        pilot_code_sections=True,
    )


FLOW = FlowSpec(NAME, "Sacramento pilot (2019)", sacramento_flow)
