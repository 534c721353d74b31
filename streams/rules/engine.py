"""Classify one subject under one flow: the pure function the offline classifier and streaming worker share.

Subject-wide columns are computed once per call and shared by every evaluated conviction, so a subject with
many Prop 64 convictions costs little more than one with a single conviction.
"""

from __future__ import annotations

from datetime import datetime

from streams.gocompat.dates import ZERO_TIME
from streams.rules.flows.base import Flow
from streams.rules.info import PROP64_EFFECTIVE_DATE, EligibilityInfo, years_or_none
from streams.rules.subject import Subject


def subject_for(subject: Subject, flow: Flow) -> Subject:
    """The subject as ``flow`` sees it: rebuilt under the flow's code-section rule if that changes a row."""
    if flow.pilot_code_sections != subject.pilot_code_sections and subject.differs_under_pilot_rule():
        return subject.rebuilt(pilot_code_sections=flow.pilot_code_sections)
    return subject


def classify_subject(subject: Subject, flow: Flow, compute_at: datetime) -> dict[int, EligibilityInfo]:
    """Row index → info for each conviction ``flow`` evaluates, in conviction order.

    ``compute_at`` is a naive UTC datetime (midnight); it is the only notion of "now" the rules use.
    """
    if compute_at.tzinfo is not None:
        raise ValueError("compute_at must be a naive UTC datetime")
    subject = subject_for(subject, flow)
    infos: dict[int, EligibilityInfo] = {}
    evaluated = [conviction for conviction in subject.convictions if flow.evaluates(subject, conviction)]
    if not evaluated:
        return infos
    facts = subject.facts
    superstrikes = (
        facts.la_superstrike_code_sections if flow.gang_combinations else facts.superstrike_code_sections
    )
    counts = facts.prop64_counts
    years_since_any = years_or_none(compute_at, facts.most_recent_conviction_date)
    for conviction in evaluated:
        decision = flow.decide(subject, conviction, compute_at)
        date = conviction.disposition_date
        infos[conviction.index] = EligibilityInfo(
            index=conviction.index,
            code_section=conviction.code_section,
            case_number=subject.case_number(conviction),
            number_of_convictions_on_record=len(subject.convictions),
            occurred_after_effective_date=date > PROP64_EFFECTIVE_DATE,
            superstrike_code_sections=superstrikes,
            pc290_code_sections=facts.pc290_code_sections,
            pc290_registration=subject.pc290_registration,
            date_of_conviction=None if date == ZERO_TIME else date,
            years_since_this_conviction=years_or_none(compute_at, date),
            years_since_any_conviction=years_since_any,
            prop64_convictions=facts.prop64_total,
            hs_11357_convictions=counts["11357"],
            hs_11358_convictions=counts["11358"],
            hs_11359_convictions=counts["11359"],
            hs_11360_convictions=counts["11360"],
            deceased=subject.is_deceased,
            determination=decision.determination,
            reason=decision.reason,
            rule=decision.rule,
        )
    return infos
