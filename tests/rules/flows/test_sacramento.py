"""Sacramento pilot flow (spec §8.4)."""

from __future__ import annotations

from datetime import datetime

import pytest
from factories import numbered

from streams.errors import OptionsError
from streams.gocompat.dates import ZERO_TIME
from streams.rules.flows.registry import make_flow
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import build_subject

T = datetime(2019, 4, 10)
D = Determination


def decide(rows: list, index: int = 0, t: datetime = T) -> Decision:
    flow = make_flow("sacramento", "SACRAMENTO")
    subject = build_subject("S", rows)
    conviction = next(c for c in subject.convictions if c.index == index)
    return flow.decide(subject, conviction, t)


def test_order_of_checks() -> None:
    assert decide([numbered(0, "11359 HS", datetime(2016, 11, 9), felony=False)]) == Decision(
        D.NOT_ELIGIBLE, "Occurred after 11/09/2016"
    )
    assert decide([numbered(0, "11359 HS", datetime(2016, 11, 8), felony=False)]) == Decision(
        D.DISMISSAL, "Misdemeanor or Infraction"
    )
    assert decide([numbered(0, "11357(b) HS", datetime(2010, 1, 1))]) == Decision(D.DISMISSAL, "HS 11357(b)")
    assert decide([numbered(0, "11357(B) HS", datetime(2010, 1, 1))]).reason != "HS 11357(b)"  # lower case only


def test_several_convictions_use_years_since_most_recent() -> None:
    first = numbered(0, "11359 HS", datetime(2001, 1, 1))
    assert decide([first, numbered(1, "459 PC", datetime(2009, 4, 9))]) == Decision(
        D.DISMISSAL, "No convictions in past 10 years"
    )
    assert decide([first, numbered(1, "459 PC", datetime(2009, 4, 10))]) == Decision(
        D.REDUCTION, "Has convictions in past 10 years"
    )
    undated = [numbered(0, "11359 HS", ZERO_TIME), numbered(1, "459 PC", ZERO_TIME)]
    assert decide(undated).reason == "Has convictions in past 10 years"  # -1.0 years, as in gogen


def test_single_conviction_sentence_must_end_before_compute_at() -> None:
    disposed = datetime(2016, 1, 1)
    days = (T - disposed).days
    assert decide([numbered(0, "11359 HS", disposed, sentence_days=days - 1)]) == Decision(
        D.DISMISSAL, "Sentence Completed"
    )
    assert decide([numbered(0, "11359 HS", disposed, sentence_days=days)]) == Decision(
        D.REDUCTION, "Sentence not Completed"
    )


def test_only_sacramento_and_no_options() -> None:
    with pytest.raises(OptionsError, match="'SACRAMENTO' convictions only"):
        make_flow("sacramento", "YOLO")
    with pytest.raises(OptionsError, match="takes no options"):
        make_flow("sacramento", "SACRAMENTO", options={"x": 1})
