"""The "what if" flow of gogen's summary (spec §8.2, G:data/hypothetical_*.go): dismiss every Prop 64 conviction.

gogen also computes "dismiss all Prop 64 and related" in every run but never reads it (its exporter only stores
it), so it is not built here.
"""

from __future__ import annotations

from datetime import datetime

from streams.rules.flows.base import Rule, RuleFlow
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import Conviction, Subject

DISMISS_ALL_PROP64 = "dismiss_all_prop64"


def _always(subject: Subject, conviction: Conviction, t: datetime) -> bool:
    return True


def dismiss_all_prop64(county: str, *, pilot_code_sections: bool = False) -> RuleFlow:
    """Every Prop 64 conviction in ``county`` is dismissed ("DISMISS ALL PROP 64").

    ``pilot_code_sections``: which convictions are Prop 64 follows the 2019 pilots' code-section rule (§3.2
    note; quirk 21). gogen_pilots ran its what-if flows on the subjects it had built for the pilot flow, whose
    rows carry the pilot code section (PRE:data/doj_row.go ``findCodeSection``, PRE:data/doj_information.go
    ``DetermineEligibility``).
    """
    decision = Decision(Determination.DISMISSAL, "Dismiss all Prop 64 charges")
    return RuleFlow(
        DISMISS_ALL_PROP64,
        county,
        (Rule("dismiss all", _always, decision, timeless=True),),
        decision,
        pilot_code_sections=pilot_code_sections,
    )
