"""The per-conviction information gogen writes next to each row (spec §6) and its 18 output columns (spec §9).

Values are typed here (``None`` for "no date", booleans for flags); the gogen spellings (``-``, ``Yes``,
``-1.0``, ``01/01/0001``) exist only in :meth:`EligibilityInfo.columns` (G:exporter/doj_writer.go
``writeDate``/``writeFloat``).

Every flow, including Los Angeles and the 2019 pilots whose own writers had other columns, is rendered with
the final gogen's 18 columns so that every output file and event has one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from streams.doj.record import SEE_COMMENT
from streams.gocompat.dates import ZERO_TIME, years_since
from streams.gocompat.gotext import go_trim_space
from streams.gocompat.memo import Memo, memo
from streams.rules.matchers import code_facts
from streams.rules.outcome import Decision, Determination

ELIGIBILITY_COLUMNS: tuple[str, ...] = (
    "Case Number",
    "# of convictions on record",
    "Possible Other P64 Charges",
    "Occurred after 11/9/2016",
    "Superstrike Code Section(s)",
    "PC290 Code Section(s)",
    "PC290 Registration",
    "Date of Conviction",
    "Years Since This Conviction",
    "Years Since Any Conviction",
    "# of Prop 64 convictions",
    "# of HS 11357 convictions",
    "# of HS 11358 convictions",
    "# of HS 11359 convictions",
    "# of HS 11360 convictions",
    "Deceased",
    "Eligibility Determination",
    "Eligibility Reason",
)
POSSIBLE_OTHER_COLUMN = ELIGIBILITY_COLUMNS.index("Possible Other P64 Charges")

# Prop 64 took effect on 11/9/2016; flows and the "Occurred after" flag compare with midnight UTC of that day.
PROP64_EFFECTIVE_DATE = datetime(2016, 11, 9)


def years_or_none(compute_at: datetime, date: datetime) -> float | None:
    """gogen's years-since figure, or ``None`` where gogen writes -1.0 (the zero date)."""
    return None if date == ZERO_TIME else years_since(compute_at, date)


def _go_date(value: datetime | None) -> str:
    """``Format("01/02/2006")``; the zero date prints as 01/01/0001."""
    value = ZERO_TIME if value is None else value
    return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"


def _go_years(value: float | None) -> str:
    return "%.1f" % (-1.0 if value is None else value)


@dataclass(frozen=True, slots=True)
class EligibilityInfo:
    """§6 facts of one evaluated conviction (subject-wide figures span all counties) and its decision."""

    index: int
    code_section: str
    case_number: str
    number_of_convictions_on_record: int
    occurred_after_effective_date: bool
    superstrike_code_sections: tuple[str, ...]
    pc290_code_sections: tuple[str, ...]
    pc290_registration: bool
    date_of_conviction: datetime | None
    years_since_this_conviction: float | None
    years_since_any_conviction: float | None
    prop64_convictions: int
    hs_11357_convictions: int
    hs_11358_convictions: int
    hs_11359_convictions: int
    hs_11360_convictions: int
    deceased: bool
    determination: Determination
    reason: str
    rule: str = ""  # the flow's rule that decided (Decision.rule)

    @property
    def decision(self) -> Decision:
        return Decision(self.determination, self.reason, self.rule)

    def columns(self, possible_other: str) -> list[str]:
        """The 18 eligibility columns exactly as gogen writes them, in :data:`ELIGIBILITY_COLUMNS` order."""
        return [
            self.case_number,
            str(self.number_of_convictions_on_record),
            possible_other,
            "Y" if self.occurred_after_effective_date else "N",
            ";".join(self.superstrike_code_sections) or "-",
            ";".join(self.pc290_code_sections) or "-",
            "Yes" if self.pc290_registration else "-",
            _go_date(self.date_of_conviction),
            _go_years(self.years_since_this_conviction),
            _go_years(self.years_since_any_conviction),
            str(self.prop64_convictions),
            str(self.hs_11357_convictions),
            str(self.hs_11358_convictions),
            str(self.hs_11359_convictions),
            str(self.hs_11360_convictions),
            "Deceased" if self.deceased else "-",
            self.determination.value,
            self.reason,
        ]

    def facts(self) -> dict[str, Any]:
        """JSON-ready snake_case facts (dates ISO ``YYYY-MM-DD`` or ``None``) for streaming events."""
        date = self.date_of_conviction
        return {
            "index": self.index,
            "code_section": self.code_section,
            "case_number": self.case_number,
            "number_of_convictions_on_record": self.number_of_convictions_on_record,
            "occurred_after_prop64": self.occurred_after_effective_date,
            "superstrike_code_sections": list(self.superstrike_code_sections),
            "pc290_code_sections": list(self.pc290_code_sections),
            "pc290_registration": self.pc290_registration,
            "date_of_conviction": None
            if date is None
            else f"{date.year:04d}-{date.month:02d}-{date.day:02d}",
            "years_since_this_conviction": self.years_since_this_conviction,
            "years_since_any_conviction": self.years_since_any_conviction,
            "prop64_convictions": self.prop64_convictions,
            "hs_11357_convictions": self.hs_11357_convictions,
            "hs_11358_convictions": self.hs_11358_convictions,
            "hs_11359_convictions": self.hs_11359_convictions,
            "hs_11360_convictions": self.hs_11360_convictions,
            "deceased": self.deceased,
            "determination": self.determination.value,
            "reason": self.reason,
        }


def empty_columns(possible_other: str) -> list[str]:
    """Columns of a row without a determination: all empty except "Possible Other P64 Charges" (spec §9)."""
    columns = [""] * len(ELIGIBILITY_COLUMNS)
    columns[POSSIBLE_OTHER_COLUMN] = possible_other
    return columns


_AB = ("A", "B")
_CD = ("C", "D")


def possible_other_p64_charges(offense_descr: str, comment_text: str) -> str:
    """COMMENT_TEXT when it names a Prop 64 charge the offense description does not (spec §6.1), else ``""``.

    Computed for every row of a file, so the common case (no comment) returns before any matching.
    """
    if comment_text == "":
        return ""
    trimmed = go_trim_space(offense_descr)
    if trimmed == "" or trimmed == SEE_COMMENT:
        return ""
    comment = code_facts(comment_text)
    if comment.prop64_section is None:
        return ""
    offense = code_facts(offense_descr)
    if offense.prop64_section != comment.prop64_section:
        return comment_text
    if offense.prop64_section == "11357":
        offense_sub, comment_sub = offense.subsection_11357, comment.subsection_11357
        if offense_sub is not None and comment_sub is not None:
            crosses = (offense_sub in _AB and comment_sub in _CD) or (
                offense_sub in _CD and comment_sub in _AB
            )
            return comment_text if crosses else ""
        if comment_sub is not None:
            return comment_text
    return ""


# (OFFENSE_DESCR, COMMENT_TEXT) → the answer, for the offline classifier's every row with a comment: a file repeats
# a few hundred pairs. An entry keeps its key tuple (56 bytes) and both texts alive (the answer is one of them).
_POSSIBLE_OTHER: Memo[tuple[str, str], str] = memo(4 << 20, entry_bytes=56)


def possible_other_p64_charges_cached(offense_descr: str, comment_text: str) -> str:
    """:func:`possible_other_p64_charges`, remembered for short pairs within a byte budget."""
    key = (offense_descr, comment_text)
    found = _POSSIBLE_OTHER.get(key)
    if found is None:
        found = _POSSIBLE_OTHER.put(key, possible_other_p64_charges(offense_descr, comment_text), *key)
    return found
