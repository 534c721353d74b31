"""The San Joaquin and Contra Costa pilot flows of 2019 (spec §8.5), which differ only in county.

Sources: PRE:data/san_joaquin_eligibility_flow.go and contra_costa_eligibility_flow.go.

They also evaluate related charges (§5.2): a related conviction is dismissed, with its own code section as the
reason, when its cycle has a Prop 64 charge on any row. ``4060 BP`` is compared as the exact raw string (quirk
14). Subjects are built with the pilot code-section rule (see
:func:`streams.rules.subject.pilot_code_section`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from streams.rules.flips import NEVER, Flips
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
from streams.rules.flows.sacramento import years_since_most_recent, years_since_most_recent_exceeds
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import Conviction, Subject

SAN_JOAQUIN = "san_joaquin"
CONTRA_COSTA = "contra_costa"
COUNTIES = {SAN_JOAQUIN: "SAN JOAQUIN", CONTRA_COSTA: "CONTRA COSTA"}
D = Determination


def _related(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return conviction.code.related_section is not None


def _related_in_prop64_cycle(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return _related(subject, conviction, t) and conviction.has_prop64_charge_in_cycle


def _related_4060_in_prop64_cycle(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return _related_in_prop64_cycle(subject, conviction, t) and conviction.code_section == "4060 BP"


def _dismiss_quoting_section(conviction: Conviction) -> Decision:
    return Decision(D.DISMISSAL, conviction.code_section)


def _starts_11357(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return conviction.code_section.startswith("11357")


def _several_and_crime_free_5(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return has_several_convictions(subject, conviction, t) and years_since_most_recent(subject, t) > 5


def _several_and_crime_free_5_flips(subject: Subject, conviction: Conviction) -> Flips:
    return years_since_most_recent_exceeds(subject, 5) if len(subject.convictions) > 1 else NEVER


RULES: tuple[Rule, ...] = (
    Rule(
        "on or after 11/9/2016",
        not_before_effective_date,
        Decision(D.NOT_ELIGIBLE, "Occurred after 11/09/2016"),
        timeless=True,
    ),
    Rule(
        "related 4060 BP with Prop 64 in cycle",
        _related_4060_in_prop64_cycle,
        Decision(D.MAYBE, "4060 BP"),
        timeless=True,
    ),
    Rule("related with Prop 64 in cycle", _related_in_prop64_cycle, _dismiss_quoting_section, timeless=True),
    Rule(
        "related without Prop 64 in cycle",
        _related,
        Decision(D.MAYBE, "No Related Prop64 Charges"),
        timeless=True,
    ),
    Rule(
        "misdemeanor or infraction",
        is_misdemeanor,
        Decision(D.DISMISSAL, "Misdemeanor or Infraction"),
        timeless=True,
    ),
    Rule("11357", _starts_11357, Decision(D.DISMISSAL, "11357 HS"), timeless=True),
    Rule(
        "several convictions, none in 5 years",
        _several_and_crime_free_5,
        Decision(D.DISMISSAL, "No convictions in past 5 years"),
        flips=_several_and_crime_free_5_flips,
    ),
    Rule(
        "several convictions",
        has_several_convictions,
        Decision(D.MAYBE, "Has convictions in past 5 years"),
        timeless=True,
    ),
    Rule(
        "sentence completed",
        sentence_completed,
        Decision(D.DISMISSAL, "Sentence Completed"),
        flips=sentence_completed_flips,
    ),
)


def pilot_flow(name: str, county: str, options: Mapping[str, Any] | None = None) -> RuleFlow:
    """The San Joaquin (``name="san_joaquin"``) or Contra Costa (``"contra_costa"``) flow (no options)."""
    expected = COUNTIES[name]
    require_county(name, expected, county)
    require_no_options(name, options)
    return RuleFlow(
        name=name,
        county=expected,
        rules=RULES,
        default=Decision(D.MAYBE, "Sentence not Completed"),
        related=True,
        pilot_code_sections=True,
    )


def san_joaquin_flow(county: str = COUNTIES[SAN_JOAQUIN], options: Mapping[str, Any] | None = None) -> RuleFlow:
    return pilot_flow(SAN_JOAQUIN, county, options)


def contra_costa_flow(county: str = COUNTIES[CONTRA_COSTA], options: Mapping[str, Any] | None = None) -> RuleFlow:
    return pilot_flow(CONTRA_COSTA, county, options)


SAN_JOAQUIN_FLOW = FlowSpec(SAN_JOAQUIN, "San Joaquin pilot (2019)", san_joaquin_flow)
CONTRA_COSTA_FLOW = FlowSpec(CONTRA_COSTA, "Contra Costa pilot (2019)", contra_costa_flow)
