"""The final Los Angeles pilot flow of 2019-10-31 (spec §8.3; LA:data/los_angeles_eligibility_flow.go).

Unlike the configurable flow it has disqualifiers: a superstrike or a PC 290 conviction/registration dated
before the conviction, and two earlier Prop 64 convictions with the same 5-character prefix. Quirks kept on
purpose:

* an only-combined gang superstrike, or a PC 290 registration that is not itself a conviction, has the zero
  date as "earliest" and so disqualifies every later conviction (quirk 10);
* "21 years or younger" is the person's age at compute-at, not at conviction;
* "two priors" compares the raw code section's first 5 characters (an attempt prefix ``664`` defeats it,
  quirk 11), taken as runes: a byte that is not UTF-8 becomes U+FFFD and never matches
  (``[]rune(codeSection)[0:5]``, LA:data/eligibility_info.go ``hasTwoPriors``; quirk 18);
* a setting of 0 is LA's default (go-flags leaves an absent flag 0 and gogen_pilots then takes 50 and 10,
  LA:gogen_pilots.go); a negative one is used as given (quirk 22).

"Earliest" is the earliest disposition date of the individually matching convictions that is not the zero date,
else the zero date: gogen_pilots treats the zero date as "not set yet" (``_compute_facts`` in
``streams/rules/subject.py``; quirk 17). The superstrike column lists the combinations too, de-duplicated in
first-seen order (Go used map order; spec §11).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from streams.errors import OptionsError
from streams.gocompat.dates import add_years, years_since
from streams.gocompat.gotext import go_rune_prefix
from streams.rules.flips import NEVER, Flips, reached, years_after_reached, years_since_exceeds
from streams.rules.flows.base import (
    FlipDates,
    FlowSpec,
    Predicate,
    Rule,
    RuleFlow,
    is_misdemeanor,
    not_before_effective_date,
    require_county,
)
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import Conviction, Subject

NAME = "los_angeles"
COUNTY = "LOS ANGELES"
# The flow's two settings and LA's defaults (the only place they are written).
SETTINGS: Mapping[str, int] = MappingProxyType({"individual_age": 50, "years_conviction_free": 10})
OPTION_KEYS = tuple(SETTINGS)

D = Determination


def _is_11357(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return conviction.code.prop64_section == "11357"


def _is_11357_a_or_b(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return _is_11357(subject, conviction, t) and conviction.code_section.startswith(("11357(A)", "11357(B)"))


def _earlier_superstrike(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    facts = subject.facts
    return (
        bool(facts.la_superstrike_code_sections)
        and facts.earliest_superstrike_date < conviction.disposition_date
    )


def _earlier_pc290(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    facts = subject.facts
    has_pc290 = bool(facts.pc290_code_sections) or subject.pc290_registration
    return has_pc290 and facts.earliest_pc290_date < conviction.disposition_date


def _two_priors(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    prefix = go_rune_prefix(conviction.code_section, 5)
    date = conviction.disposition_date
    priors = 0
    for code_section, prior_date in subject.facts.prop64_history:
        if prior_date < date and code_section.startswith(prefix):
            priors += 1
            if priors >= 2:
                return True
    return False


def _older_than(years: int) -> Predicate:
    def applies(subject: Subject, conviction: Conviction, t: datetime) -> bool:
        return subject.older_than(years, t)

    return applies


def _older_than_flips(years: int) -> FlipDates:
    def flips(subject: Subject, conviction: Conviction) -> Flips:
        return reached(add_years(subject.dob, years))

    return flips


def _21_or_younger_now(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return years_since(t, subject.dob) <= 21


def _21_or_younger_now_flips(subject: Subject, conviction: Conviction) -> Flips:
    return years_since_exceeds(subject.dob, 21)  # age at t: ends 7,671 days after birth


def _only_prop64_and_completed(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return subject.only_prop64 and subject.all_sentences_completed(t)


def _sentences_completed_flips(subject: Subject, conviction: Conviction) -> Flips:
    """``all_sentences_completed``: the latest sentence end (often not a midnight) ``<= t``."""
    return reached(subject.facts.latest_sentence_end_date)


def _only_prop64_and_completed_flips(subject: Subject, conviction: Conviction) -> Flips:
    return _sentences_completed_flips(subject, conviction) if subject.only_prop64 else NEVER


def _conviction_free_for(years: int) -> Predicate:
    def applies(subject: Subject, conviction: Conviction, t: datetime) -> bool:
        return subject.facts.most_recent_conviction_date <= add_years(t, -years)  # inclusive (quirk 5)

    return applies


def _conviction_free_for_flips(years: int) -> FlipDates:
    def flips(subject: Subject, conviction: Conviction) -> Flips:
        return years_after_reached(subject.facts.most_recent_conviction_date, years)

    return flips


def _serving_sentence(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return not subject.all_sentences_completed(t)


def _deceased(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return subject.is_deceased


def _setting(options: Mapping[str, Any] | None, key: str) -> int:
    """A setting as gogen_pilots uses it: 0 (go-flags' value of an absent flag) means LA's default, any other
    whole number, negative ones included, is used as given."""
    value = SETTINGS[key] if options is None or key not in options else options[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionsError(f"los_angeles option {key} must be a whole number, got {value!r}")
    return SETTINGS[key] if value == 0 else value


def los_angeles_flow(county: str = COUNTY, options: Mapping[str, Any] | None = None) -> RuleFlow:
    """The LA flow; ``options`` may set ``individual_age`` and ``years_conviction_free`` (else :data:`SETTINGS`)."""
    require_county(NAME, COUNTY, county)
    unknown = sorted(str(key) for key in (options or {}) if key not in OPTION_KEYS)
    if unknown:
        raise OptionsError(
            f"unknown los_angeles option(s): {', '.join(unknown)} (known: {', '.join(OPTION_KEYS)})"
        )
    age = _setting(options, "individual_age")
    years = _setting(options, "years_conviction_free")
    rules = (
        Rule(
            "misdemeanor or infraction",
            is_misdemeanor,
            Decision(D.CITY_ATTORNEY, "Misdemeanor or Infraction"),
            timeless=True,
        ),
        Rule(
            "on or after 11/9/2016",
            not_before_effective_date,
            Decision(D.NOT_ELIGIBLE, "Occurred after 11/09/2016"),
            timeless=True,
        ),
        Rule("11357(a) or (b)", _is_11357_a_or_b, Decision(D.DISMISSAL, "11357(a) or 11357(b)"), timeless=True),
        Rule("other 11357", _is_11357, Decision(D.HAND_REVIEW, "Other 11357"), timeless=True),
        Rule(
            "earlier superstrike",
            _earlier_superstrike,
            Decision(D.NOT_ELIGIBLE, "PC 667(e)(2)(c)(iv)"),
            timeless=True,
        ),
        Rule("earlier PC 290", _earlier_pc290, Decision(D.NOT_ELIGIBLE, "PC 290"), timeless=True),
        Rule("two priors", _two_priors, Decision(D.NOT_ELIGIBLE, "Two priors"), timeless=True),
        Rule("age", _older_than(age), Decision(D.DISMISSAL, f"{age} years or older"), flips=_older_than_flips(age)),
        Rule(
            "21 or younger",
            _21_or_younger_now,
            Decision(D.DISMISSAL, "21 years or younger"),
            flips=_21_or_younger_now_flips,
        ),
        Rule(
            "only Prop 64, sentences completed",
            _only_prop64_and_completed,
            Decision(D.DISMISSAL, "Only has 11357-60 charges and completed sentence"),
            flips=_only_prop64_and_completed_flips,
        ),
        Rule(
            "conviction free",
            _conviction_free_for(years),
            Decision(D.DISMISSAL, f"No convictions in past {years} years"),
            flips=_conviction_free_for_flips(years),
        ),
        Rule(
            "serving sentence",
            _serving_sentence,
            Decision(D.HAND_REVIEW, "Currently serving sentence"),
            flips=_sentences_completed_flips,
        ),
        Rule("deceased", _deceased, Decision(D.DISMISSAL, "Deceased"), timeless=True),
    )
    return RuleFlow(
        name=NAME,
        county=COUNTY,
        rules=rules,
        default=Decision(D.HAND_REVIEW, "No applicable eligibility criteria"),
        gang_combinations=True,
        options=MappingProxyType({"individual_age": age, "years_conviction_free": years}),
    )


FLOW = FlowSpec(NAME, "Los Angeles pilot (2019-10-31)", los_angeles_flow, settings=SETTINGS)
