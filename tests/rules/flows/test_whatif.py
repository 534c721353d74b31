"""The what-if flows gogen computes for its summary (spec §8.2)."""

from __future__ import annotations

from datetime import datetime

from streams.rules.engine import classify_subject
from streams.rules.flows import dismiss_all_prop64, dismiss_all_prop64_and_related
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import build_subject


def test_dismiss_all_prop64_with_and_without_related(record) -> None:
    rows = [
        record(0, "11359 HS", county="X", is_felony=True),
        record(1, "148 PC", county="X"),
        record(2, "187 PC", county="X"),
        record(3, "11360 HS", county="Y"),
    ]
    subject = build_subject("S", rows)
    prop64 = classify_subject(subject, dismiss_all_prop64("X"), datetime(2020, 7, 1))
    assert {i: info.decision for i, info in prop64.items()} == {
        0: Decision(Determination.DISMISSAL, "Dismiss all Prop 64 charges")
    }
    related = classify_subject(subject, dismiss_all_prop64_and_related("X"), datetime(2020, 7, 1))
    reason = "Dismiss all Prop 64 and related charges"
    assert {i: info.decision for i, info in related.items()} == {
        0: Decision(Determination.DISMISSAL, reason),
        1: Decision(Determination.DISMISSAL, reason),
    }
