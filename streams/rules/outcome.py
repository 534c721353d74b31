"""What a flow says about one conviction: a determination from a closed catalogue (spec §7) and a reason.

The determination strings are gogen's output values; they are written only here so the rest of the code
compares enum members, never text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from streams.gocompat.gotext import go_trim_space


class Determination(StrEnum):
    """Every value gogen and its pilots ever wrote in "Eligibility Determination"."""

    DISMISSAL = "Eligible for Dismissal"
    REDUCTION = "Eligible for Reduction"
    NOT_ELIGIBLE = "Not eligible"
    MAYBE = "Maybe Eligible - Flag for Review"
    HAND_REVIEW = "Hand Review"
    CITY_ATTORNEY = "To be reviewed by City Attorneys"
    NONE = ""  # configurable flow: felony of a section that is neither dismissed nor reduced (quirk 13)

    @property
    def is_relief(self) -> bool:
        """Dismissal or reduction: the outcomes gogen's summary counts as relief."""
        return self in (Determination.DISMISSAL, Determination.REDUCTION)


@dataclass(frozen=True, slots=True)
class Decision:
    """A determination with its human-readable reason; the reason is trimmed like gogen's setters do.

    ``rule`` names the rule of the flow's table that decided (``"default"`` when none applied): a reviewer goes
    from an output row to its rule without grepping for the reason text. It is metadata, not part of the answer,
    so two decisions with the same determination and reason are equal whichever rule gave them.
    """

    determination: Determination
    reason: str
    rule: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        trimmed = go_trim_space(self.reason)
        if trimmed != self.reason:
            object.__setattr__(self, "reason", trimmed)


NO_DECISION = Decision(Determination.NONE, "")
