"""The shape every eligibility flow shares: an ordered table of small named rules, first match wins.

gogen wrote each flow as a chain of methods that call the next one on "no"; the same policy reads better as
data: ``(name, predicate, decision)`` rows checked top to bottom, plus the decision when none applies. A
predicate sees the subject, the conviction and compute-at, and is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

from streams.errors import OptionsError
from streams.rules.flips import Flips, passed
from streams.rules.info import PROP64_EFFECTIVE_DATE
from streams.rules.outcome import Decision
from streams.rules.subject import Conviction, Subject

Predicate = Callable[[Subject, Conviction, datetime], bool]
Outcome = Decision | Callable[[Conviction], Decision]
FlipDates = Callable[[Subject, Conviction], Iterable[datetime]]


class Flow(Protocol):
    """What the engine needs from a flow (all flows here are :class:`RuleFlow` instances)."""

    @property
    def name(self) -> str: ...

    @property
    def county(self) -> str: ...

    @property
    def gang_combinations(self) -> bool: ...

    @property
    def pilot_code_sections(self) -> bool: ...

    @property
    def options(self) -> Mapping[str, Any]: ...

    @property
    def rules(self) -> tuple[Rule, ...]: ...

    def evaluates(self, subject: Subject, conviction: Conviction) -> bool: ...

    def decide(self, subject: Subject, conviction: Conviction, compute_at: datetime) -> Decision: ...


def _named(outcome: Outcome, rule: str) -> Outcome:
    """``outcome`` with its decisions naming ``rule`` (bound once, when the table is built, not per decision)."""
    if isinstance(outcome, Decision):
        return replace(outcome, rule=rule)

    def decide(conviction: Conviction) -> Decision:
        return replace(outcome(conviction), rule=rule)

    return decide


@dataclass(frozen=True, slots=True)
class Rule:
    """One step of a flow: when ``applies`` holds, the flow answers ``outcome``, whose ``rule`` is ``name``.

    ``outcome`` is a decision, or a function of the conviction when the reason quotes it.

    Every rule says how its predicate depends on compute-at, exactly one of: ``timeless=True`` (it never reads
    ``t``), or ``flips(subject, conviction)``, the instants on or after which its value may differ from the value
    before them (``streams/rules/flips.py``; more is safe, fewer is wrong). The schedule
    (``streams/rules/schedule.py``) evaluates a flow only on those days; a rule declaring neither is refused here.
    """

    name: str
    applies: Predicate
    outcome: Outcome
    flips: FlipDates | None = None
    timeless: bool = False

    def __post_init__(self) -> None:
        if (self.flips is None) != self.timeless:
            both = ", not both" if self.timeless else ""
            raise TypeError(
                f"rule {self.name!r}: declare when its predicate can change (flips=...) "
                f"or that it never reads compute-at (timeless=True){both}"
            )
        object.__setattr__(self, "outcome", _named(self.outcome, self.name))


DEFAULT_RULE = "default"


@dataclass(frozen=True, slots=True, eq=False)
class RuleFlow:
    """A flow as data: rules checked in order, ``default`` when none applies.

    ``related``: related charges (§5.2) are evaluated too. ``gang_combinations``: the superstrike column and
    test include Los Angeles' same-case gang combinations. ``pilot_code_sections``: subjects are seen with the
    2019 pilot code-section rule. ``options`` is the normalised policy, the input of the fingerprint.
    """

    name: str
    county: str
    rules: tuple[Rule, ...]
    default: Decision
    related: bool = False
    gang_combinations: bool = False
    pilot_code_sections: bool = False
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "default", replace(self.default, rule=DEFAULT_RULE))

    def evaluates(self, subject: Subject, conviction: Conviction) -> bool:
        """Convictions of this county that are Prop 64 (or related, for flows that check related charges)."""
        if conviction.county != self.county:
            return False
        code = conviction.code
        return code.prop64_section is not None or (self.related and code.related_section is not None)

    def decide(self, subject: Subject, conviction: Conviction, compute_at: datetime) -> Decision:
        """The first applicable rule's decision, else :attr:`default`; ``Decision.rule`` names the rule that
        decided. Pure: compute-at is the only clock."""
        for rule in self.rules:
            if rule.applies(subject, conviction, compute_at):
                outcome = rule.outcome
                return outcome if isinstance(outcome, Decision) else outcome(conviction)
        return self.default


Build = Callable[[str, Mapping[str, Any] | None], RuleFlow]


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """A flow as the registry, the CLI, the policies file and the offline settings know it.

    ``build(county, options)`` makes the flow (raising :class:`OptionsError` for bad options). Its options come
    in one of two shapes: ``document`` names the key (the policies file) and flag (``--eligibility-options``)
    of a JSON options document the flow requires (the configurable flow's BEAR document); ``settings`` are
    named whole-number options with their defaults (Los Angeles' age and years), each a policies key and a CLI
    flag of the same name. A flow with neither takes no options.
    """

    name: str
    summary: str
    build: Build
    document: str | None = None
    settings: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


def require_county(flow_name: str, expected: str, county: str) -> None:
    """The pilot flows were written for one county each (gogen hard-coded it); refuse other counties."""
    if county != expected:
        raise OptionsError(f"the {flow_name} flow evaluates {expected!r} convictions only, not {county!r}")


def require_no_options(flow_name: str, options: Mapping[str, Any] | None) -> None:
    """Flows without settings reject a non-empty options document instead of ignoring it."""
    if options:
        raise OptionsError(
            f"the {flow_name} flow takes no options, got: {', '.join(sorted(map(str, options)))}"
        )


# Predicates shared by several flows.
def is_misdemeanor(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return not conviction.is_felony


def not_before_effective_date(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    """Pilot/LA test: disposition not before 11/9/2016 (so 11/9/2016 itself counts as "after", quirk 5)."""
    return not conviction.disposition_date < PROP64_EFFECTIVE_DATE


def has_several_convictions(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return len(subject.convictions) > 1


def sentence_completed(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    """This conviction's own sentence ended strictly before compute-at (pilots)."""
    return conviction.sentence_end_date < t


def sentence_completed_flips(subject: Subject, conviction: Conviction) -> Flips:
    """:func:`sentence_completed` holds from the first midnight after the sentence end (which is often not a
    midnight: a month is 30.5 days)."""
    return passed(conviction.sentence_end_date)
