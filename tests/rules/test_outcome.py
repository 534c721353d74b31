"""Determination catalogue (spec §7) and decision reasons."""

from __future__ import annotations

from streams.rules.outcome import NO_DECISION, Decision, Determination


def test_determination_values_are_gogens_catalogue() -> None:
    assert {d.value for d in Determination} == {
        "Eligible for Dismissal",
        "Eligible for Reduction",
        "Not eligible",
        "Maybe Eligible - Flag for Review",
        "Hand Review",
        "To be reviewed by City Attorneys",
        "",
    }
    assert Determination.DISMISSAL.is_relief and Determination.REDUCTION.is_relief
    assert not Determination.HAND_REVIEW.is_relief and not Determination.NONE.is_relief


def test_reasons_are_trimmed_with_go_white_space() -> None:
    assert Decision(Determination.DISMISSAL, " 148 PC \u00a0").reason == "148 PC"
    assert Decision(Determination.DISMISSAL, "\x1c148 PC").reason == "\x1c148 PC"  # not space in Go
    assert Decision(Determination.DISMISSAL, "x") == Decision(Determination.DISMISSAL, "x")
    assert Decision(Determination.NONE, "") == NO_DECISION
