"""The final gogen flow, configured by BEAR's options JSON (§8.1, G:data/configurable_eligibility_flow.go).

The options document is accepted as BEAR writes it: unknown keys are ignored (BEAR adds its own UI flags such
as ``dismissYearsSinceConvictionThreshold``), missing fields and ``null`` mean "off", and keys match
case-insensitively when there is no exact match, like Go's ``encoding/json``. Wrong JSON types, out-of-range
thresholds (gogen's exact messages) and unknown code-section keys (a nil dereference in gogen) are
:class:`~streams.errors.OptionsError`.

There are no disqualifiers here: superstrikes, PC 290 and post-2016 dates only show in the columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from streams.errors import OptionsError
from streams.gocompat.dates import add_years
from streams.rules.flips import Flips, reached, years_after_passed, years_after_reached
from streams.rules.flows.base import FlipDates, FlowSpec, Predicate, Rule, RuleFlow, is_misdemeanor
from streams.rules.matchers import SECTION_MATCHERS
from streams.rules.outcome import NO_DECISION, Decision, Determination
from streams.rules.subject import Conviction, Subject

NAME = "configurable"
MISDEMEANOR = Decision(Determination.DISMISSAL, "Misdemeanor or Infraction")


@dataclass(frozen=True, slots=True)
class EligibilityOptions:
    """A validated options document. Zero thresholds and ``False`` flags are "off"."""

    dismiss: tuple[str, ...] = ()
    reduce: tuple[str, ...] = ()
    subject_under_21_at_conviction: bool = False
    subject_age_threshold: int = 0
    years_since_conviction_threshold: int = 0
    years_crime_free_threshold: int = 0
    subject_has_only_prop64_charges: bool = False
    subject_is_deceased: bool = False

    def to_json(self) -> dict[str, Any]:
        """The normalised document in gogen's shape (every field present)."""
        return {
            "baselineEligibility": {"dismiss": list(self.dismiss), "reduce": list(self.reduce)},
            "additionalRelief": {
                "subjectUnder21AtConviction": self.subject_under_21_at_conviction,
                "subjectAgeThreshold": self.subject_age_threshold,
                "yearsSinceConvictionThreshold": self.years_since_conviction_threshold,
                "yearsCrimeFreeThreshold": self.years_crime_free_threshold,
                "subjectHasOnlyProp64Charges": self.subject_has_only_prop64_charges,
                "subjectIsDeceased": self.subject_is_deceased,
            },
        }


def _field(document: Mapping[str, Any], key: str) -> Any:
    """``document[key]``, else a case-insensitive match (Go's encoding/json), else ``None``."""
    if key in document:
        return document[key]
    folded = key.casefold()
    for name, value in document.items():
        if isinstance(name, str) and name.casefold() == folded:
            return value
    return None


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise OptionsError(f"eligibility options: {where} must be a JSON object, got {type(value).__name__}")
    return value


def _bool(section: Mapping[str, Any], key: str, where: str) -> bool:
    value = _field(section, key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise OptionsError(f"eligibility options: {where}.{key} must be true or false, got {value!r}")
    return value


def _int(section: Mapping[str, Any], key: str, where: str) -> int:
    value = _field(section, key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionsError(f"eligibility options: {where}.{key} must be a whole number, got {value!r}")
    return value


def _sections(section: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = _field(section, key)
    if value is None:
        return ()
    where = f"baselineEligibility.{key}"
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise OptionsError(f"eligibility options: {where} must be a list of code sections, got {value!r}")
    for item in value:
        if item not in SECTION_MATCHERS:
            known = ", ".join(SECTION_MATCHERS)
            raise OptionsError(
                f"eligibility options: unknown code section {item!r} in {where} (known: {known})"
            )
    return tuple(value)


def parse_options(document: Mapping[str, Any]) -> EligibilityOptions:
    """Validate a parsed options document (gogen's checks and messages; ours for types and section keys)."""
    if not isinstance(document, Mapping):
        raise OptionsError(f"eligibility options must be a JSON object, got {type(document).__name__}")
    baseline = _object(_field(document, "baselineEligibility"), "baselineEligibility")
    relief = _object(_field(document, "additionalRelief"), "additionalRelief")
    where = "additionalRelief"
    options = EligibilityOptions(
        dismiss=_sections(baseline, "dismiss"),
        reduce=_sections(baseline, "reduce"),
        subject_under_21_at_conviction=_bool(relief, "subjectUnder21AtConviction", where),
        subject_age_threshold=_int(relief, "subjectAgeThreshold", where),
        years_since_conviction_threshold=_int(relief, "yearsSinceConvictionThreshold", where),
        years_crime_free_threshold=_int(relief, "yearsCrimeFreeThreshold", where),
        subject_has_only_prop64_charges=_bool(relief, "subjectHasOnlyProp64Charges", where),
        subject_is_deceased=_bool(relief, "subjectIsDeceased", where),
    )
    age = options.subject_age_threshold
    if age != 0 and not 40 <= age <= 65:
        raise OptionsError("SubjectAgeThreshold should be between 40 and 65, or 0")
    if (
        options.years_since_conviction_threshold != 0
        and not 1 <= options.years_since_conviction_threshold <= 15
    ):
        raise OptionsError("YearsSinceConvictionThreshold should be between 1 and 15, or 0")
    if options.years_crime_free_threshold != 0 and not 1 <= options.years_crime_free_threshold <= 15:
        raise OptionsError("YearsCrimeFreeThreshold should be between 1 and 15, or 0")
    return options


_DISMISS_ALL = "Dismiss all HS"


def dismissal_reason(section: str) -> str:
    """The reason of a baseline dismissal of ``section`` (the summary counts dismissals by section from it)."""
    return f"{_DISMISS_ALL} {section} convictions"


def is_baseline_dismissal(reason: str) -> bool:
    """A dismissal by the baseline (a section's dismissal or a misdemeanour): gogen's summary counts every other
    dismissal reason as "additional relief" (G:exporter/data_exporter.go, getDismissalsByAdditionalRelief)."""
    return reason.startswith((_DISMISS_ALL, MISDEMEANOR.reason))


def reduction_reason(section: str) -> str:
    """The reason of a baseline reduction of ``section``."""
    return f"Reduce all HS {section} convictions"


def _matches(key: str) -> Predicate:
    def applies(subject: Subject, conviction: Conviction, t: datetime) -> bool:
        return key in conviction.code.config_sections

    return applies


def _under_21_at_conviction(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return add_years(subject.dob, 21) > conviction.disposition_date


def _older_than(years: int) -> Predicate:
    def applies(subject: Subject, conviction: Conviction, t: datetime) -> bool:
        return subject.older_than(years, t)

    return applies


def _older_than_flips(years: int) -> FlipDates:
    def flips(subject: Subject, conviction: Conviction) -> Flips:
        return reached(add_years(subject.dob, years))

    return flips


def _conviction_at_least_years_ago(years: int) -> Predicate:
    def applies(subject: Subject, conviction: Conviction, t: datetime) -> bool:
        return conviction.disposition_date <= add_years(t, -years)  # inclusive (quirk 5)

    return applies


def _conviction_at_least_years_ago_flips(years: int) -> FlipDates:
    def flips(subject: Subject, conviction: Conviction) -> Flips:
        return years_after_reached(conviction.disposition_date, years)

    return flips


def _crime_free_for(years: int) -> Predicate:
    def applies(subject: Subject, conviction: Conviction, t: datetime) -> bool:
        return subject.facts.most_recent_conviction_date < add_years(t, -years)  # strict (quirk 5)

    return applies


def _crime_free_for_flips(years: int) -> FlipDates:
    def flips(subject: Subject, conviction: Conviction) -> Flips:
        return years_after_passed(subject.facts.most_recent_conviction_date, years)

    return flips


def _only_prop64(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return subject.only_prop64


def _deceased(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return subject.is_deceased


def _rules(options: EligibilityOptions) -> tuple[Rule, ...]:
    dismissal = Determination.DISMISSAL
    rules = [Rule("misdemeanor or infraction", is_misdemeanor, MISDEMEANOR, timeless=True)]
    rules += [
        Rule(f"dismiss {key}", _matches(key), Decision(dismissal, dismissal_reason(key)), timeless=True)
        for key in options.dismiss
    ]
    if options.subject_under_21_at_conviction:
        rules.append(
            Rule(
                "under 21 at conviction",
                _under_21_at_conviction,
                Decision(dismissal, "21 years or younger"),
                timeless=True,
            )
        )
    if (age := options.subject_age_threshold) != 0:
        rules.append(
            Rule(
                "age threshold",
                _older_than(age),
                Decision(dismissal, f"{age} years or older"),
                flips=_older_than_flips(age),
            )
        )
    if (years := options.years_since_conviction_threshold) != 0:
        reason = f"Conviction occurred {years} or more years ago"
        rules.append(
            Rule(
                "years since conviction",
                _conviction_at_least_years_ago(years),
                Decision(dismissal, reason),
                flips=_conviction_at_least_years_ago_flips(years),
            )
        )
    if (years := options.years_crime_free_threshold) != 0:
        reason = f"No convictions in the past {years} years"
        rules.append(
            Rule(
                "years crime free",
                _crime_free_for(years),
                Decision(dismissal, reason),
                flips=_crime_free_for_flips(years),
            )
        )
    if options.subject_has_only_prop64_charges:
        rules.append(
            Rule(
                "only Prop 64 charges",
                _only_prop64,
                Decision(dismissal, "Only has 11357-60 charges"),
                timeless=True,
            )
        )
    if options.subject_is_deceased:
        rules.append(Rule("deceased", _deceased, Decision(dismissal, "Individual is deceased"), timeless=True))
    rules += [
        Rule(
            f"reduce {key}",
            _matches(key),
            Decision(Determination.REDUCTION, reduction_reason(key)),
            timeless=True,
        )
        for key in options.reduce
    ]
    return tuple(rules)


def configurable_flow(county: str, options: Mapping[str, Any] | EligibilityOptions | None) -> RuleFlow:
    """The configurable flow for ``county``; a felony no rule covers gets no determination (quirk 13)."""
    if options is None:
        raise OptionsError("the configurable flow needs eligibility options")
    parsed = options if isinstance(options, EligibilityOptions) else parse_options(options)
    return RuleFlow(
        name=NAME,
        county=county,
        rules=_rules(parsed),
        default=NO_DECISION,
        options=MappingProxyType(parsed.to_json()),
    )


FLOW = FlowSpec(
    NAME,
    "final gogen/BEAR, configured by an eligibility-options document",
    configurable_flow,
    document="eligibility_options",
)
