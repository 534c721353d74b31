"""Rule-table flows: the first applicable rule wins, else the default; the decision names the rule."""

from __future__ import annotations

from datetime import datetime

from factories import numbered

from streams.rules.flows.base import Rule, RuleFlow
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import Conviction, Subject, build_subject

T = datetime(2020, 7, 1)
FIRST = Decision(Determination.DISMISSAL, "first")
DEFAULT = Decision(Determination.HAND_REVIEW, "default")


def _felony(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return conviction.is_felony


def _always(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return True


def _quote(conviction: Conviction) -> Decision:
    return Decision(Determination.MAYBE, f" {conviction.code_section} ")


def test_first_applicable_rule_wins_and_default_otherwise() -> None:
    rules = (Rule("felony", _felony, FIRST, timeless=True), Rule("quote", _always, _quote, timeless=True))
    flow = RuleFlow("t", "X", rules, DEFAULT)
    subject = build_subject("S", [numbered(0, "11357 HS", county="X"), numbered(1, "11358 HS", felony=False)])
    felony, misdemeanor = subject.convictions
    assert flow.decide(subject, felony, T) == FIRST
    assert flow.decide(subject, felony, T).rule == "felony"
    quoted = flow.decide(subject, misdemeanor, T)
    assert quoted == Decision(Determination.MAYBE, "11358 HS") and quoted.rule == "quote"
    empty = RuleFlow("t", "X", (Rule("felony", _felony, FIRST, timeless=True),), DEFAULT)
    assert empty.decide(subject, misdemeanor, T) == DEFAULT
    assert empty.decide(subject, misdemeanor, T).rule == "default"
    assert DEFAULT.rule == ""  # the flow names its own copy; the table's decisions stay as written
