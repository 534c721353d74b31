"""The "what if" flows gogen computes in every run for its summary (spec §8.2, G:data/hypothetical_*.go).

Each dismisses every conviction it evaluates; they differ only in whether related charges (§5.2) are
evaluated.
"""

from __future__ import annotations

from datetime import datetime

from streams.rules.flows.base import Rule, RuleFlow
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import Conviction, Subject

DISMISS_ALL_PROP64 = "dismiss_all_prop64"
DISMISS_ALL_PROP64_AND_RELATED = "dismiss_all_prop64_and_related"


def _always(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return True


def dismiss_all_prop64(county: str) -> RuleFlow:
    """Every Prop 64 conviction in ``county`` is dismissed ("DISMISS ALL PROP 64")."""
    decision = Decision(Determination.DISMISSAL, "Dismiss all Prop 64 charges")
    return RuleFlow(DISMISS_ALL_PROP64, county, (Rule("dismiss all", _always, decision),), decision)


def dismiss_all_prop64_and_related(county: str) -> RuleFlow:
    """Every Prop 64 or related conviction in ``county`` is dismissed ("DISMISS ALL PROP 64 AND RELATED")."""
    decision = Decision(Determination.DISMISSAL, "Dismiss all Prop 64 and related charges")
    return RuleFlow(
        DISMISS_ALL_PROP64_AND_RELATED,
        county,
        (Rule("dismiss all", _always, decision),),
        decision,
        related=True,
    )
