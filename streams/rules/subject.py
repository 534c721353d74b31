"""A person's history (spec §4): rows in file order become de-duplicated convictions and subject-wide facts.

A subject is built for every person of a 1M-row file and rebuilt on every streaming event, so
:meth:`Subject.push` does only what gogen's ``PushRow`` does, with set/dict look-ups, and the subject-wide
facts are computed in one pass on first use and dropped on the next push.

Deliberate differences from gogen (the rules are the same):

* gogen re-initialises its maps whenever the subject's ID is empty (so unit-test rows without a SUBJECT_ID are
  never de-duplicated); this engine does not model that quirk: a subject starts once. Tests reproduce it in
  their harness.
* Los Angeles' combined superstrike list is de-duplicated in first-seen order instead of Go's random map
  order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from streams.doj.record import (
    _SECTION_BY_OFFENSE,
    SEE_COMMENT,
    UNIT_NANOS,
    Record,
    _code_section,
    derive,
    sentence_part_nanos,
)
from streams.gocompat.dates import _DATE_CACHE, ZERO_TIME, add_duration, add_years, parse_yyyymmdd
from streams.rules.matchers import PROP64_SECTIONS, CodeFacts, code_facts


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
    record: Record = field(repr=False)

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


def _la_superstrikes(convictions: list[Conviction], individual: list[str]) -> tuple[str, ...]:
    """Individual superstrikes plus Los Angeles' same-case "<offense> + <gang enhancement>" combinations."""
    gang_by_case: dict[str, str] = {}
    offenses_by_case: dict[str, list[str]] = {}
    for conviction in convictions:
        case = conviction.count_order[0:6]
        if conviction.code.is_la_gang_enhancement:
            gang_by_case[case] = conviction.code_section
        if conviction.code.is_la_enhanceable_offense:
            offenses_by_case.setdefault(case, []).append(conviction.code_section)
    combined = list(individual)
    for case, gang in gang_by_case.items():
        combined.extend(f"{offense} + {gang}" for offense in offenses_by_case.get(case, ()))
    return tuple(dict.fromkeys(combined))


def _compute_facts(convictions: list[Conviction]) -> SubjectFacts:
    most_recent = ZERO_TIME
    latest_end = ZERO_TIME
    superstrikes: list[str] = []
    pc290: list[str] = []
    counts = dict.fromkeys(PROP64_SECTIONS, 0)
    history: list[tuple[str, datetime]] = []
    earliest_superstrike: datetime | None = None
    earliest_pc290: datetime | None = None
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
            if earliest_superstrike is None or date < earliest_superstrike:
                earliest_superstrike = date
        if code.is_pc290:
            pc290.append(conviction.code_section)
        if (code.is_pc290 or conviction.is_pc290_registration) and (
            earliest_pc290 is None or date < earliest_pc290
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
        earliest_superstrike_date=ZERO_TIME if earliest_superstrike is None else earliest_superstrike,
        earliest_pc290_date=ZERO_TIME if earliest_pc290 is None else earliest_pc290,
        number_of_felonies=felonies,
        prop64_history=tuple(history),
    )


class Subject:
    """One person's rows in push order. Mutable while building; read through :attr:`facts` and the helpers."""

    __slots__ = (
        "_facts",
        "_no_records",
        "_prop64_cycles",
        "_seen",
        "_started",
        "case_numbers",
        "convictions",
        "dob",
        "id",
        "is_deceased",
        "pc290_registration",
        "pilot_code_sections",
        "records",
    )

    def __init__(self, subject_id: str = "", *, pilot_code_sections: bool = False) -> None:
        self.id = subject_id
        self.dob = ZERO_TIME
        self.convictions: list[Conviction] = []
        self.records: list[Record] = []
        self.is_deceased = False
        self.pc290_registration = False
        self.case_numbers: dict[str, dict[str, None]] = {}
        self.pilot_code_sections = pilot_code_sections
        self._seen: set[str] = set()
        self._prop64_cycles: set[str] = set()
        self._started = False
        self._no_records = False
        self._facts: SubjectFacts | None = None

    def push(self, record: Record) -> None:
        """Add the next row of this person (spec §4 steps 1-7, in gogen's order)."""
        self._facts = None
        if not self._started:
            self._started = True
            if not self.id:
                self.id = record.subject_id
            self.dob = record.dob
        self.records.append(record)
        code_section = record.code_section
        if self.pilot_code_sections:
            code_section = pilot_code_section(record.offense_descr, record.comment_text)
        count_order = record.count_order
        is_new = False
        if record.was_convicted:
            if count_order in self._seen:
                last = self.convictions[-1]  # gogen assumes sentence rows follow their conviction (quirk 9)
                last.sentence_end_date = add_duration(last.sentence_end_date, record.sentence_part_nanos)
            else:
                is_new = True
        row_type = record.type
        if row_type == "DECEASED":
            self.is_deceased = True
        elif row_type == "COURT ACTION" and record.ofn != "":
            self.case_numbers.setdefault(count_order[0:6], {})[record.ofn] = None
        if record.is_pc290_registration:
            self.pc290_registration = True
        code = code_facts(code_section)
        cycle = count_order[0:3]
        if is_new:
            self._seen.add(count_order)
            self.convictions.append(self._conviction(record, code_section, code, cycle))
        if code.prop64_section is not None and cycle not in self._prop64_cycles:
            self._prop64_cycles.add(cycle)
            for conviction in self.convictions:
                if conviction.count_order[0:3] == cycle:
                    conviction.has_prop64_charge_in_cycle = True

    def push_row(self, fields: Sequence[str], index: int) -> None:
        """``push(derive(fields, index))``: the row's record is kept, so :meth:`rebuilt` stays possible."""
        self.push(derive(fields, index))

    def push_fields(
        self,
        fields: Sequence[str],
        index: int,
        *,
        _derive: Callable[[Sequence[str], int], Record] = derive,
        _cached_date: Callable[[str], datetime | None] = _DATE_CACHE.get,
        _date: Callable[[str], datetime] = parse_yyyymmdd,
        _cached_section: Callable[[str], str | None] = _SECTION_BY_OFFENSE.get,
        _section: Callable[[str, str], str] = _code_section,
        _units: frozenset[str] = frozenset(UNIT_NANOS),
        _facts_of: Callable[[str], CodeFacts] = code_facts,
    ) -> None:
        """``push(derive(fields, index))`` without keeping the row's record (so :meth:`rebuilt` is not
        possible): each fact is derived only where it is used, a :class:`Record` only for a new conviction.

        The offline classifier's path for a million rows; it must stay step for step what :meth:`push` does.
        """
        self._facts = None
        self._no_records = True
        if not self._started:
            self._started = True
            if not self.id:
                self.id = fields[2]  # SUBJECT_ID
            dob = fields[14]  # PRI_DOB
            self.dob = _cached_date(dob) or _date(dob)
        offense_descr = fields[54]  # OFFENSE_DESCR
        if self.pilot_code_sections:
            code_section = pilot_code_section(offense_descr, fields[93])  # COMMENT_TEXT
        else:
            code_section = _cached_section(offense_descr) or _section(offense_descr, fields[93])
        count_order = fields[50]  # CNT_ORDER
        is_new = False
        if fields[80].startswith("CONVICTED"):  # DISP_DESCR
            if count_order in self._seen:
                last = self.convictions[-1]
                unit = fields[88]  # SENT_TIME_CODE
                nanos = sentence_part_nanos(fields[87], unit) if unit in _units else 0  # SENT_LENGTH
                last.sentence_end_date = add_duration(last.sentence_end_date, nanos)
            else:
                is_new = True
        row_type = fields[42]  # STP_TYPE_DESCR
        if row_type == "DECEASED":
            self.is_deceased = True
        elif row_type == "COURT ACTION" and fields[52] != "":  # OFN
            self.case_numbers.setdefault(count_order[0:6], {})[fields[52]] = None
        if row_type == "REGISTRATION" and offense_descr.startswith("290"):
            self.pc290_registration = True
        code = _facts_of(code_section)
        cycle = count_order[0:3]
        if is_new:
            self._seen.add(count_order)
            self.convictions.append(self._conviction(_derive(fields, index), code_section, code, cycle))
        if code.prop64_section is not None and cycle not in self._prop64_cycles:
            self._prop64_cycles.add(cycle)
            for conviction in self.convictions:
                if conviction.count_order[0:3] == cycle:
                    conviction.has_prop64_charge_in_cycle = True

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
            record=record,
        )

    @property
    def facts(self) -> SubjectFacts:
        """Subject-wide facts, computed on first use after the last push."""
        facts = self._facts
        if facts is None:
            facts = self._facts = _compute_facts(self.convictions)
        return facts

    @property
    def number_of_convictions(self) -> int:
        return len(self.convictions)

    @property
    def most_recent_conviction_date(self) -> datetime:
        """Latest disposition date of any conviction; the zero date when there is none."""
        return self.facts.most_recent_conviction_date

    @property
    def superstrike_code_sections(self) -> tuple[str, ...]:
        return self.facts.superstrike_code_sections

    @property
    def pc290_code_sections(self) -> tuple[str, ...]:
        return self.facts.pc290_code_sections

    @property
    def prop64_counts(self) -> dict[str, int]:
        """Convictions per canonical Prop 64 section (all four keys present)."""
        return self.facts.prop64_counts

    @property
    def only_prop64(self) -> bool:
        """Every conviction is a Prop 64 charge (true without convictions, as gogen compares counts)."""
        return self.facts.prop64_total == len(self.convictions)

    @property
    def number_of_felonies(self) -> int:
        return self.facts.number_of_felonies

    def older_than(self, years: int, t: datetime) -> bool:
        """``dob + years <= t`` with Go's ``AddDate`` (a zero DOB is always "older", quirk 4)."""
        return add_years(self.dob, years) <= t

    def all_sentences_completed(self, t: datetime) -> bool:
        """No conviction's sentence ends after ``t``."""
        return self.facts.latest_sentence_end_date <= t

    def case_number(self, conviction: Conviction) -> str:
        """OFNs of COURT ACTION rows sharing the conviction's CNT_ORDER[0:6], joined like gogen's column."""
        return "; ".join(self.case_numbers.get(conviction.count_order[0:6], ()))

    def convictions_in_county(self, county: str) -> int:
        return sum(1 for conviction in self.convictions if conviction.county == county)

    def number_of_convictions_in_last_7_years(self, compute_at: datetime) -> int:
        """Convictions disposed after compute-at minus 7 years (compute-at, not the wall clock)."""
        return sum(1 for conviction in self.convictions if conviction.occurred_in_last_7_years(compute_at))

    def differs_under_pilot_rule(self) -> bool:
        """Whether any pushed row gets another code section under the pilot rule than under the final one."""
        self._check_records()
        return any(
            record.code_section != pilot_code_section(record.offense_descr, record.comment_text)
            for record in self.records
        )

    def rebuilt(self, *, pilot_code_sections: bool) -> Subject:
        """The same rows pushed again into a subject using the requested code-section rule."""
        self._check_records()
        return build_subject(self.id, self.records, pilot_code_sections=pilot_code_sections)


    def _check_records(self) -> None:
        if self._no_records:
            raise ValueError("rows added with push_fields() keep no records: the subject cannot be rebuilt")


def build_subject(
    subject_id: str, records: Iterable[Record], *, pilot_code_sections: bool = False
) -> Subject:
    """Push ``records`` (one person's rows, in file order) into a new subject."""
    subject = Subject(subject_id, pilot_code_sections=pilot_code_sections)
    for record in records:
        subject.push(record)
    return subject
