"""The what-if flows gogen computes for its summary (spec §8.2)."""

from __future__ import annotations

from datetime import datetime

from factories import numbered

from streams.rules.engine import classify_subject
from streams.rules.flows.whatif import dismiss_all_prop64
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import build_subject


def test_dismiss_all_prop64_leaves_related_charges() -> None:
    rows = [
        numbered(0, "11359 HS", county="X", felony=True),
        numbered(1, "148 PC", county="X"),
        numbered(2, "187 PC", county="X"),
        numbered(3, "11360 HS", county="Y"),
    ]
    subject = build_subject("S", rows)
    prop64 = classify_subject(subject, dismiss_all_prop64("X"), datetime(2020, 7, 1))
    assert {i: info.decision for i, info in prop64.items()} == {
        0: Decision(Determination.DISMISSAL, "Dismiss all Prop 64 charges")
    }
