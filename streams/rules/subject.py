"""A person's history (spec §4): rows in file order become de-duplicated convictions and subject-wide facts.

A subject is built for every person of a 1M-row file and rebuilt on every streaming event, so
:meth:`Subject.push` does only what gogen's ``PushRow`` does, with set/dict look-ups, and the subject-wide
facts are computed in one pass on first use and dropped on the next push.

gogen quirks kept here, each cited where it is implemented: a person whose rows have no SUBJECT_ID starts over on
every row (``_start``); CNT_ORDER's case and cycle keys are byte slices (``go_byte_prefix``); LA's "earliest"
superstrike and PC 290 dates take the zero date as "not set yet" (``_compute_facts``).

Deliberate difference from gogen (the rules are the same; spec §11): Los Angeles' combined superstrike list is
de-duplicated in first-seen order instead of Go's random map order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from streams.doj.columns import (
    CNT_ORDER,
    COMMENT_TEXT,
    DISP_DESCR,
    OFFENSE_DESCR,
    OFN,
    PRI_DOB,
    SENT_LENGTH,
    SENT_TIME_CODE,
    STP_TYPE_DESCR,
    SUBJECT_ID,
)
from streams.doj.record import (
    RULE_COLUMNS,
    SEE_COMMENT,
    UNIT_NANOS,
    Record,
    cached_code_section,
    derive,
    fields_from_rule_values,
    row_rule_values,
    sentence_part_nanos,
)
from streams.doj.record import code_section as final_code_section
from streams.gocompat.dates import ZERO_TIME, add_duration, add_years, cached_date, parse_yyyymmdd
from streams.gocompat.gotext import go_byte_prefix
from streams.rules.matchers import PROP64_SECTIONS, CodeFacts, code_facts

# One row to push: its index (position among the file's data rows, the key of its results) and its 95 fields.
Row = tuple[int, Sequence[str]]
_UNITS = frozenset(UNIT_NANOS)
# where a kept row's offense and comment are among its rule values
_KEPT_OFFENSE, _KEPT_COMMENT = RULE_COLUMNS.index("OFFENSE_DESCR"), RULE_COLUMNS.index("COMMENT_TEXT")


def pilot_code_section(offense_descr: str, comment_text: str) -> str:
    """Code section as the 2019 pilots derived it: only an exact ``SEE COMMENT FOR CHARGE`` reads the comment.

    The final gogen also defers on a blank (or space-padded) OFFENSE_DESCR (spec §3.2 note); that changes
    which rows are Prop 64 charges, so the Sacramento/San Joaquin/Contra Costa flows evaluate subjects built
    with this rule.
    """
    source = comment_text if offense_descr == SEE_COMMENT else offense_descr
    return source.split("-", 1)[0]


@dataclass(slots=True)
class Conviction:
    """One distinct conviction (first row of a CNT_ORDER); ``sentence_end_date`` grows with sentence rows."""

    index: int
    code_section: str
    disposition_date: datetime
    county: str
    is_felony: bool
    count_order: str
    type: str
    ofn: str
    is_pc290_registration: bool
    sentence_end_date: datetime
    has_prop64_charge_in_cycle: bool
    code: CodeFacts = field(repr=False)

    @property
    def prop64_section(self) -> str | None:
        """Canonical Prop 64 section of this conviction, or ``None``."""
        return self.code.prop64_section

    def occurred_in_last_7_years(self, compute_at: datetime) -> bool:
        """Disposition after compute-at minus 7 years (gogen used the wall clock; quirk 3 not reproduced)."""
        return self.disposition_date > add_years(compute_at, -7)


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """Subject-wide facts over all convictions (every county, every code section), computed in one pass."""

    most_recent_conviction_date: datetime
    superstrike_code_sections: tuple[str, ...]
    la_superstrike_code_sections: tuple[str, ...]
    pc290_code_sections: tuple[str, ...]
    prop64_counts: dict[str, int]
    prop64_total: int
    latest_sentence_end_date: datetime
    earliest_superstrike_date: datetime
    earliest_pc290_date: datetime
    number_of_felonies: int
    prop64_history: tuple[tuple[str, datetime], ...]


def case_key(count_order: str) -> str:
    """The case of a CNT_ORDER: its first 6 bytes, as gogen slices it (``CountOrder[0:6]``)."""
    return go_byte_prefix(count_order, 6)


def cycle_key(count_order: str) -> str:
    """The cycle of a CNT_ORDER: its first 3 bytes (``CountOrder[0:3]``)."""
    return go_byte_prefix(count_order, 3)


def _la_superstrikes(convictions: list[Conviction], individual: list[str]) -> tuple[str, ...]:
    """Individual superstrikes plus Los Angeles' same-case "<offense> + <gang enhancement>" combinations."""
    gang_by_case: dict[str, str] = {}
    offenses_by_case: dict[str, list[str]] = {}
    for conviction in convictions:
        case = case_key(conviction.count_order)
        if conviction.code.is_la_gang_enhancement:
            gang_by_case[case] = conviction.code_section
        if conviction.code.is_la_enhanceable_offense:
            offenses_by_case.setdefault(case, []).append(conviction.code_section)
    combined = list(individual)
    for case, gang in gang_by_case.items():
        combined.extend(f"{offense} + {gang}" for offense in offenses_by_case.get(case, ()))
    return tuple(dict.fromkeys(combined))


def _compute_facts(convictions: list[Conviction]) -> SubjectFacts:
    """Every subject-wide fact in one pass over the convictions.

    LA's earliest superstrike and PC 290 dates start at the zero date and take a conviction's date when it is
    earlier *or the earliest is still the zero date*: gogen_pilots uses the zero time as "not set yet", so after a
    conviction with an unparseable date the next matching conviction's date replaces it (quirk 17). The
    result is the earliest date that is not the zero date, or the zero date.
    """
    most_recent = ZERO_TIME
    latest_end = ZERO_TIME
    superstrikes: list[str] = []
    pc290: list[str] = []
    counts = dict.fromkeys(PROP64_SECTIONS, 0)
    history: list[tuple[str, datetime]] = []
    earliest_superstrike = ZERO_TIME
    earliest_pc290 = ZERO_TIME
    felonies = 0
    la_combinations_possible = False
    for conviction in convictions:
        date = conviction.disposition_date
        code = conviction.code
        if date > most_recent:
            most_recent = date
        if conviction.sentence_end_date > latest_end:
            latest_end = conviction.sentence_end_date
        if conviction.is_felony:
            felonies += 1
        if code.prop64_section is not None:
            counts[code.prop64_section] += 1
            history.append((conviction.code_section, date))
        if code.is_superstrike:
            superstrikes.append(conviction.code_section)
            if earliest_superstrike == ZERO_TIME or date < earliest_superstrike:
                earliest_superstrike = date
        if code.is_pc290:
            pc290.append(conviction.code_section)
        if (code.is_pc290 or conviction.is_pc290_registration) and (
            earliest_pc290 == ZERO_TIME or date < earliest_pc290
        ):
            earliest_pc290 = date
        if code.is_la_gang_enhancement:
            la_combinations_possible = True
    return SubjectFacts(
        most_recent_conviction_date=most_recent,
        superstrike_code_sections=tuple(superstrikes),
        la_superstrike_code_sections=(
            _la_superstrikes(convictions, superstrikes)
            if la_combinations_possible
            else tuple(dict.fromkeys(superstrikes))
        ),
        pc290_code_sections=tuple(pc290),
        prop64_counts=counts,
        prop64_total=sum(counts.values()),
        latest_sentence_end_date=latest_end,
        earliest_superstrike_date=earliest_superstrike,
        earliest_pc290_date=earliest_pc290,
        number_of_felonies=felonies,
        prop64_history=tuple(history),
    )


class Subject:
    """One person's rows in push order. Mutable while building; read through :attr:`facts` and the helpers.

    ``keep_rows``: keep the pushed rows, so that :meth:`rebuilt` (and :meth:`differs_under_pilot_rule`) can
    see the subject under the other code-section rule; without it a subject holds only its convictions. Of a
    row only its index and rule columns are kept (``row_rule_values``): all that :meth:`push` reads, at a
    fraction of the memory of 95 fields when a whole file's subjects are held.
    """

    __slots__ = (
        "_facts",
        "_prop64_cycles",
        "_rows",
        "_seen",
        "_started",
        "case_numbers",
        "convictions",
        "dob",
        "id",
        "is_deceased",
        "pc290_registration",
        "pilot_code_sections",
    )

    def __init__(self, subject_id: str = "", *, pilot_code_sections: bool = False, keep_rows: bool = False) -> None:
        self.id = subject_id
        self.dob = ZERO_TIME
        self.convictions: list[Conviction] = []
        self.is_deceased = False
        self.pc290_registration = False
        self.case_numbers: dict[str, dict[str, None]] = {}
        self.pilot_code_sections = pilot_code_sections
        self._rows: list[tuple[int, tuple[str, ...]]] | None = [] if keep_rows else None
        self._seen: set[str] = set()
        self._prop64_cycles: set[str] = set()
        self._started = False  # stays False while the id is empty: every push starts over, as in gogen
        self._facts: SubjectFacts | None = None

    def push(self, fields: Sequence[str], index: int) -> None:
        """Add the next row of this person (spec §4 steps 1-7, in gogen's order): its 95 fields, and ``index``,
        its position among the file's data rows (the key of its conviction's results).

        The offline classifier's path for a million rows: each fact is derived only where it is used, a
        :class:`Record` only for a new conviction.
        """
        self._facts = None
        rows = self._rows
        if rows is not None:
            rows.append((index, row_rule_values(fields)))
        if not self._started:
            self._start(fields)
        offense_descr = fields[OFFENSE_DESCR]
        if self.pilot_code_sections:
            code_section = pilot_code_section(offense_descr, fields[COMMENT_TEXT])
        else:
            code_section = cached_code_section(offense_descr) or final_code_section(
                offense_descr, fields[COMMENT_TEXT]
            )
        count_order = fields[CNT_ORDER]
        is_new = False
        if fields[DISP_DESCR].startswith("CONVICTED"):
            if count_order in self._seen:
                last = self.convictions[-1]  # gogen assumes sentence rows follow their conviction (quirk 9)
                unit = fields[SENT_TIME_CODE]
                nanos = sentence_part_nanos(fields[SENT_LENGTH], unit) if unit in _UNITS else 0
                last.sentence_end_date = add_duration(last.sentence_end_date, nanos)
            else:
                is_new = True
        row_type = fields[STP_TYPE_DESCR]
        # CNT_ORDER keys are gogen's byte slices, which differ from character slices only for non-ASCII text
        if row_type == "DECEASED":
            self.is_deceased = True
        elif row_type == "COURT ACTION" and fields[OFN] != "":
            case = count_order[0:6] if count_order.isascii() else case_key(count_order)
            self.case_numbers.setdefault(case, {})[fields[OFN]] = None
        if row_type == "REGISTRATION" and offense_descr.startswith("290"):
            self.pc290_registration = True
        code = code_facts(code_section)
        is_prop64 = code.prop64_section is not None
        if not (is_new or is_prop64):
            return  # the cycle matters only to a new conviction or a Prop 64 row
        cycle = count_order[0:3] if count_order.isascii() else cycle_key(count_order)
        if is_new:
            self._seen.add(count_order)
            self.convictions.append(self._conviction(derive(fields, index), code_section, code, cycle))
        if is_prop64 and cycle not in self._prop64_cycles:
            self._prop64_cycles.add(cycle)
            for conviction in self.convictions:
                order = conviction.count_order
                if (order[0:3] if order.isascii() else cycle_key(order)) == cycle:
                    conviction.has_prop64_charge_in_cycle = True

    def _start(self, fields: Sequence[str]) -> None:
        """gogen's ``if subject.ID == ""`` block of ``PushRow`` (G:data/subject.go:21-28): take the row's id and DOB
        and start new maps of seen counts, Prop 64 cycles and case numbers.

        gogen runs it while the id is still empty, so for a person whose rows have no SUBJECT_ID it runs on every
        row (quirk 16): nothing is de-duplicated (a sentence row becomes a conviction
        of its own), each row's DOB replaces the last, the case numbers are the last row's and a cycle's Prop 64
        flag reaches only convictions already pushed. The convictions, the deceased and registration flags stay.
        """
        if not self.id:
            self.id = fields[SUBJECT_ID]
        dob = fields[PRI_DOB]
        self.dob = cached_date(dob) or parse_yyyymmdd(dob)
        if self._seen or self._prop64_cycles or self.case_numbers:
            self._seen, self._prop64_cycles, self.case_numbers = set(), set(), {}
        self._started = bool(self.id)

    def _conviction(self, record: Record, code_section: str, code: CodeFacts, cycle: str) -> Conviction:
        return Conviction(
            index=record.index,
            code_section=code_section,
            disposition_date=record.disposition_date,
            county=record.county,
            is_felony=record.is_felony,
            count_order=record.count_order,
            type=record.type,
            ofn=record.ofn,
            is_pc290_registration=record.is_pc290_registration,
            sentence_end_date=record.sentence_end_date,
            has_prop64_charge_in_cycle=cycle in self._prop64_cycles,
            code=code,
        )

    @property
    def facts(self) -> SubjectFacts:
        """Subject-wide facts, computed on first use after the last push."""
        facts = self._facts
        if facts is None:
            facts = self._facts = _compute_facts(self.convictions)
        return facts

    @property
    def only_prop64(self) -> bool:
        """Every conviction is a Prop 64 charge (true without convictions, as gogen compares counts)."""
        return self.facts.prop64_total == len(self.convictions)

    def older_than(self, years: int, t: datetime) -> bool:
        """``dob + years <= t`` with Go's ``AddDate`` (a zero DOB is always "older", quirk 4)."""
        return add_years(self.dob, years) <= t

    def all_sentences_completed(self, t: datetime) -> bool:
        """No conviction's sentence ends after ``t``."""
        return self.facts.latest_sentence_end_date <= t

    def case_number(self, conviction: Conviction) -> str:
        """OFNs of COURT ACTION rows sharing the conviction's CNT_ORDER[0:6] (bytes), joined like gogen's column."""
        order = conviction.count_order
        return "; ".join(self.case_numbers.get(order[0:6] if order.isascii() else case_key(order), ()))

    def number_of_convictions_in_last_7_years(self, compute_at: datetime) -> int:
        """Convictions disposed after compute-at minus 7 years (compute-at, not the wall clock)."""
        return sum(1 for conviction in self.convictions if conviction.occurred_in_last_7_years(compute_at))

    def differs_under_pilot_rule(self) -> bool:
        """Whether any pushed row gets another code section under the pilot rule than under the final one."""
        return any(
            final_code_section(values[_KEPT_OFFENSE], values[_KEPT_COMMENT])
            != pilot_code_section(values[_KEPT_OFFENSE], values[_KEPT_COMMENT])
            for _, values in self._kept_rows()
        )

    def rebuilt(self, *, pilot_code_sections: bool) -> Subject:
        """The same rows pushed again into a subject using the requested code-section rule."""
        rows = [(index, fields_from_rule_values(values)) for index, values in self._kept_rows()]
        return build_subject(self.id, rows, pilot_code_sections=pilot_code_sections)

    def _kept_rows(self) -> list[tuple[int, tuple[str, ...]]]:
        rows = self._rows
        if rows is None:
            raise ValueError("a subject built without keep_rows keeps no rows: it cannot be rebuilt")
        return rows


def build_subject(
    subject_id: str, rows: Iterable[Row], *, pilot_code_sections: bool = False, keep_rows: bool = True
) -> Subject:
    """Push ``rows`` (one person's ``(index, fields)`` rows, in file order) into a new subject."""
    subject = Subject(subject_id, pilot_code_sections=pilot_code_sections, keep_rows=keep_rows)
    for index, fields in rows:
        subject.push(fields, index)
    return subject
