"""Synthetic CA DOJ research files: realistic in shape, fake in content, identical for the same seed.

Each person gets a fake name and identifiers and a history of 1–40 rows: arrest cycles, court actions
whose counts are convicted or dismissed, extra sentence rows that share their count's CNT_ORDER (cycle, step
and count as ``%03d%03d%03d000``), sex-offender registrations and sometimes a DECEASED row. Offenses cover
the code-section shapes the rules must handle (spec §5): plain and sub-sectioned Prop 64 charges, attempts
(``664-11357(C) HS``, ``664.11358 HS``, ``664/11359 HS``, ``66411360(A) HS``), ``SEE COMMENT FOR CHARGE`` or
a blank offense with the charge in COMMENT_TEXT, a comment naming another Prop 64 charge, felonies recorded
only through OFFENSE_TOC ``F`` with a blank CONV_STAT_DESCR, superstrikes, PC 290 sections and related
charges. Birth dates span 1930–2004 so both people of 50 and over and convictions before 21 occur; events
run from the 1970s to the 2020s, on both sides of 11/9/2016.

Only ``random.Random(seed)`` decides anything, so a seed always gives the same bytes. Names are built from
invented syllables and numbers are drawn at random: no row describes a real person.

``messy_rate`` (off by default) gives that share of rows one of the data errors of real extracts on which gogen
behaves oddly (:data:`MESSES`: year-0000 dates, dates that do not exist, a blank SUBJECT_ID, a byte that is not
UTF-8, a SENT_LENGTH beyond int64, a non-ASCII CNT_ORDER). A second generator seeded from ``seed`` decides them,
so every other byte is the file of the same seed without them; 0.001 is about what a curated extract holds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from random import Random
from typing import TypeVar

from streams.doj import columns as C
from streams.gocompat.gocsv import GoCsvWriter, encode_record

_T = TypeVar("_T")

DEFAULT_COUNTIES = (
    "LOS ANGELES",
    "SACRAMENTO",
    "SAN JOAQUIN",
    "CONTRA COSTA",
    "SAN FRANCISCO",
    "ALAMEDA",
    "FRESNO",
    "YOLO",
)
_I = C.INDEX

PROP64 = (
    "11357 HS-POSSESS MARIJUANA",
    "11357(A) HS-POSSESS CONCENTRATED CANNABIS",
    "11357(B)HS-POSSESS MARIJUANA 28.5 GRAMS OR LESS",
    "11357(C)HS-POSSESS MARIJUANA",
    "11357(D) HS-POSSESS MARIJUANA ON SCHOOL GROUNDS",
    "11358 HS-CULTIVATE MARIJUANA",
    "11358(C) HS-CULTIVATE MORE THAN SIX PLANTS",
    "11359 HS-POSSESS MARIJUANA FOR SALE",
    "11359(B) HS-POSSESS MARIJUANA FOR SALE",
    "11360(A) HS-TRANSPORT/SELL MARIJUANA",
    "11360 HS-GIVE AWAY MARIJUANA",
)
ATTEMPTS = (
    "664-11357(C) HS-ATTEMPT POSSESS MARIJUANA",
    "664.11358 HS-ATTEMPT CULTIVATE MARIJUANA",
    "664/11359 HS-ATTEMPT POSSESS FOR SALE",
    "66411360(A) HS-ATTEMPT TRANSPORT MARIJUANA",
)
OTHER = (
    "503 VC-TAKE CAR W/OUT OWNERS CONSENT",
    "459 PC-BURGLARY",
    "484(A) PC-PETTY THEFT",
    "23152(A) VC-DUI ALCOHOL",
    "11350(A) HS-POSSESS NARCOTIC CONTROLLED SUBSTANCE",
    "11377(A) HS-POSSESS CONTROLLED SUBSTANCE",
    "245(A)(1) PC-ASSAULT WITH DEADLY WEAPON",
    "273.5(A) PC-INFLICT CORPORAL INJURY",
    "10851(A) VC-TAKE VEHICLE WITHOUT CONSENT",
    "12500(A) VC-DRIVE WITHOUT LICENSE",
    "496(A) PC-RECEIVE STOLEN PROPERTY",
    "211 PC-ROBBERY",
    "4149 BP - POSSESS HYPODERMIC NEEDLE",
)
RELATED = (
    "647(F) PC-DISORDERLY CONDUCT:INTOXICATION",
    "148(A)(1) PC-OBSTRUCT/RESIST PEACE OFFICER",
    "11364 HS-POSSESS PARAPHERNALIA",
    "4060 BP-POSSESS CONTROLLED SUBSTANCE",
    "11550(A) HS-UNDER INFLUENCE CONTROLLED SUBSTANCE",
    "602 PC-TRESPASSING",
    "466 PC-POSSESS BURGLARY TOOLS",
    "148.9 PC-FALSE IDENTIFICATION TO PEACE OFFICER",
    "40508(A) VC-FAIL TO APPEAR",
    "1320(A) PC-FAIL TO APPEAR",
    "4140 BP-POSSESS HYPODERMIC NEEDLE",
)
SUPERSTRIKES = (
    "187 PC-MURDER",
    "664/187 PC-ATTEMPTED MURDER",
    "245(D)(3) PC-ASSAULT ON PEACE OFFICER",
    "220 PC- COMMIT MAYHEM",
    "246/186.22(B)(4) PC-SHOOT AT DWELLING FOR GANG",
    "207 PC-KIDNAPPING",
    "653F PC-SOLICIT TO COMMIT CRIME",
)
PC290 = (
    "288 PC-LEWD ACT WITH CHILD",
    "261(A)(2) PC-RAPE BY FORCE",
    "314(1) PC-INDECENT EXPOSURE",
    "647.6(A) PC-ANNOY/MOLEST CHILD",
    "243.4(A) PC-SEXUAL BATTERY",
    "311.11(A) PC-POSSESS OBSCENE MATTER",
)
REGISTRATION = "290 PC-REGISTRATION OF SEX OFFENDER"
SEE_COMMENT = "SEE COMMENT FOR CHARGE"

_SYLLABLES = ("KOR", "VAN", "DEL", "MAR", "TOL", "BRI", "SEN", "QUA", "LIR", "ZEM", "OST", "PAV", "RUN")
_FIRST = ("ALDO", "BRISA", "CALE", "DORIN", "ELVA", "FENN", "GIDA", "HALE", "IRIS", "JOVI", "KESTA")
_RACES = (("W", "WHITE"), ("B", "BLACK"), ("H", "HISPANIC"), ("A", "ASIAN"), ("O", "OTHER"))
_SENTENCES = (
    ("J", "JAIL", "D", "DAYS      ", 364),
    ("P", "PROBATION", "M", "MONTHS", 59),
    ("S", "PRISON", "Y", "YEARS", 9),
)
_DISMISSED = ("DISMISSED/CHARGE DROPPED", "DISMISSED-FURTHERANCE OF JUSTICE", "ACQUITTED")
_ARREST_DISPOSITIONS = ("", "REL/TOT OTHER JURIS/AUTH", "DET/RELEASED", "")
_LAST_DAY = date(2024, 12, 31)


def _ymd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


class _Person:
    """Builds one person's rows; ``rng`` is the file's single source of randomness."""

    def __init__(self, rng: Random, number: int, counties: Sequence[str]) -> None:
        self.rng = rng
        pick = self.pick
        self.home = counties[0] if len(counties) == 1 or rng.random() < 0.35 else pick(counties)
        self.counties = counties
        self.dob = date(1930, 1, 1) + timedelta(days=int(rng.random() * 27_000))  # 1930 .. 2003
        race_code, race = pick(_RACES)
        last = "".join(pick(_SYLLABLES) for _ in range(2 + int(rng.random() * 2)))
        name = f"{last},{pick(_FIRST)} {chr(65 + int(rng.random() * 26))}"
        base = [""] * C.NUM_COLUMNS
        for separator in ("REQ_SEG_SEP", "PII_SEG_SEP", "PDR_SEG_SEP", "CYC_SEG_SEP", "STP_SEG_SEP"):
            base[_I[separator]] = "#"
        base[_I["CNT_SEG_SEP"]] = base[_I["SENT_SEG_SEP"]] = "#"
        base[_I["SUBJECT_STATUS"]] = "A"
        base[C.SUBJECT_ID] = str(10_000_000 + (number * 7_919) % 89_999_989)
        base[C.CII_NUMBER] = base[_I["REQ_CII_NUMBER"]] = f"A{int(rng.random() * 1e8):08d}"
        base[C.PRI_NAME] = name
        base[_I["GENDER"]] = "M" if rng.random() < 0.7 else "F"
        base[C.PRI_DOB] = _ymd(self.dob)
        base[_I["FBI_NUMBER"]] = f"{int(rng.random() * 1e6):06d}X{int(rng.random() * 100):02d}"
        base[_I["RACE_CODE"]], base[_I["RACE_DESCR"]] = race_code, race
        base[_I["HEIGHT"]] = f"{5 + int(rng.random() * 2)}{int(rng.random() * 12):02d}"
        base[_I["WEIGHT"]] = str(110 + int(rng.random() * 150))
        base[_I["POB_CODE"]], base[_I["POB_NAME"]] = "CA", "CALIFORNIA"
        base[_I["CII_TYPE"]], base[_I["CII_TYPE_ALPHA"]] = "1", "A"
        self.base = base
        self.rows: list[list[str]] = []
        self.registrable = False
        self.cycle_date = ""

    def pick(self, options: Sequence[_T]) -> _T:
        return options[int(self.rng.random() * len(options))]

    def _offense(self) -> tuple[str, str, bool]:
        """(OFFENSE_DESCR, COMMENT_TEXT, serious) in the shapes of spec §5."""
        roll = self.rng.random()
        if roll < 0.30:
            return self.pick(PROP64), "", False
        if roll < 0.34:
            return self.pick(ATTEMPTS), "", False
        if roll < 0.38:
            return SEE_COMMENT, self.pick(PROP64), False
        if roll < 0.40:
            return "", self.pick(PROP64 + OTHER), False
        if roll < 0.42:
            offense = self.pick(PROP64 + OTHER)
            return offense, self.pick(PROP64), False
        if roll < 0.62:
            return self.pick(RELATED), "", False
        if roll < 0.64:
            return self.pick(SUPERSTRIKES), "", True
        if roll < 0.66:
            return self.pick(PC290), "", True
        return self.pick(OTHER), "", roll > 0.9

    def _row(self, cycle: int, step: int, count: int, day: date, kind: str, county: str) -> list[str]:
        row = self.base.copy()
        rng = self.rng
        row[_I["CYC_ORDER"]] = str(cycle)
        row[_I["CYC_DATE"]] = self.cycle_date
        row[_I["STP_ORDER"]] = str(step)
        row[C.STP_EVENT_DATE] = _ymd(day)
        row[C.STP_TYPE_DESCR] = kind
        row[_I["STP_TYPE_CODE"]] = " " * 9 + kind[0] if rng.random() < 0.3 else kind[0]
        agency = "CASC" if kind == "COURT ACTION" else "CAPD"
        row[_I["STP_ORI_CODE"]] = f"CA0{int(rng.random() * 1000):03d}"
        row[_I["STP_ORI_DESCR"]] = agency + county
        row[_I["STP_ORI_CNTY_CODE"]] = str(1 + self.counties.index(county) if county in self.counties else 99)
        row[C.STP_ORI_CNTY_NAME] = county
        row[C.CNT_ORDER] = f"{cycle:03d}{step:03d}{count:03d}000"
        row[_I["DISP_DATE"]] = _ymd(day + timedelta(days=int(rng.random() * 3)))
        row[_I["CYC_AGE"]] = str(max(0, day.year - self.dob.year))
        if rng.random() < 0.5:
            row[_I["OFFENSE_QUAL_LST"]] = " " * (14 + int(rng.random() * 16))
        return row

    def history(self) -> list[list[str]]:
        rng = self.rng
        oldest = min(45, _LAST_DAY.year - self.dob.year - 1)  # the first arrest happens before the file ends
        first_age = 16 + int(rng.random() * (oldest - 15))
        day = max(date(1970, 1, 1), self.dob + timedelta(days=first_age * 365 + int(rng.random() * 365)))
        cycles = 1 + int(rng.random() ** 2 * 10)
        for cycle in range(1, cycles + 1):
            if day > _LAST_DAY or len(self.rows) >= 40:
                break
            county = self.home if rng.random() < 0.8 else self.pick(self.counties)
            self.cycle_date = _ymd(day)
            self._cycle(cycle, day, county)
            day += timedelta(days=60 + int(rng.random() * 3000))
        if (self.registrable or rng.random() < 0.01) and len(self.rows) < 40:
            row = self._row(cycles + 1, 1, 1, min(day, _LAST_DAY), "REGISTRATION", self.home)
            row[C.OFFENSE_DESCR] = REGISTRATION
            self.rows.append(row)
        if rng.random() < 0.03 and len(self.rows) < 40:
            row = self._row(cycles + 2, 1, 1, min(day, _LAST_DAY), "DECEASED", self.home)
            self.rows.append(row)
        return self.rows[:40]

    def _cycle(self, cycle: int, arrested: date, county: str) -> None:
        rng = self.rng
        charges = [self._offense() for _ in range(1 + int(rng.random() ** 2 * 3))]
        for count, (offense, comment, _) in enumerate(charges, 1):
            row = self._row(cycle, 1, count, arrested, "ARREST/DETAINED/CITED", county)
            row[C.OFFENSE_DESCR], row[C.COMMENT_TEXT] = offense, comment
            row[C.OFFENSE_TOC] = "F" if rng.random() < 0.5 else "M"
            row[C.DISP_DESCR] = self.pick(_ARREST_DISPOSITIONS)
            self.rows.append(row)
        if rng.random() < 0.15:
            return
        sentenced = min(_LAST_DAY, arrested + timedelta(days=10 + int(rng.random() * 400)))
        case_number = "NULL  " if rng.random() < 0.1 else f"{self.pick('FMC')}{int(rng.random() * 1e7):07d}"
        for count, (offense, comment, serious) in enumerate(charges, 1):
            row = self._row(cycle, 2, count, sentenced, "COURT ACTION", county)
            row[C.OFFENSE_DESCR], row[C.COMMENT_TEXT] = offense, comment
            row[C.OFN] = case_number
            felony = serious or rng.random() < 0.55
            row[C.OFFENSE_TOC] = "F" if felony else "M"
            if rng.random() < 0.75:
                self._convict(row, felony)
                self.registrable = self.registrable or offense in PC290
            else:
                row[C.DISP_DESCR] = self.pick(_DISMISSED)
            self.rows.append(row)
            if row[C.DISP_DESCR].startswith("CONVICTED") and rng.random() < 0.15:
                extra = row.copy()  # another sentence part of the same count: same CNT_ORDER
                self._sentence(extra)
                self.rows.append(extra)

    def _convict(self, row: list[str], felony: bool) -> None:
        rng = self.rng
        roll = rng.random()
        row[C.CONV_STAT_DESCR] = "" if roll < 0.05 else ("FELONY" if felony else "MISDEMEANOR")
        if row[C.CONV_STAT_DESCR] == "" and rng.random() < 0.5:
            row[C.OFFENSE_TOC] = "F"  # a felony known only from the type of charge
        row[_I["CONV_STAT_CODE"]] = " " * 10 if rng.random() < 0.3 else row[C.CONV_STAT_DESCR][:1]
        self._sentence(row)

    def _sentence(self, row: list[str]) -> None:
        code, place, unit, unit_text, longest = self.pick(_SENTENCES)
        row[C.DISP_DESCR] = f"CONVICTED-{place}"
        row[_I["SENT_LOC_CODE"]], row[_I["SENT_LOC_DESCR"]] = code, place
        row[C.SENT_LENGTH] = str(1 + int(self.rng.random() * longest))
        row[C.SENT_TIME_CODE], row[_I["SENT_TIME_DESCR"]] = unit, unit_text


def _year_0000(row: list[str], column: int) -> None:
    if len(row[column]) == 8:
        row[column] = "0000" + row[column][4:]


def _impossible_day(row: list[str]) -> None:
    if len(row[C.STP_EVENT_DATE]) == 8:
        row[C.STP_EVENT_DATE] = row[C.STP_EVENT_DATE][:6] + "00"


def _blank_subject_id(row: list[str]) -> None:
    row[C.SUBJECT_ID] = ""


def _undecodable_offense(row: list[str]) -> None:
    row[C.OFFENSE_DESCR] = "\udce9" + row[C.OFFENSE_DESCR]  # the byte 0xE9 (Latin-1 "é"), as read from a file


def _huge_sentence(row: list[str]) -> None:
    row[C.SENT_LENGTH] = "99999999999999999999"
    row[C.SENT_TIME_CODE] = row[C.SENT_TIME_CODE] or "D"


def _non_ascii_count_order(row: list[str]) -> None:
    row[C.CNT_ORDER] = "é" + row[C.CNT_ORDER][1:]


# The data errors of ``messy_rate``: each changes gogen's answers in its own way (spec §10, quirks 15-20); a
# messy row gets one of them.
MESSES: dict[str, Callable[[list[str]], None]] = {
    "year_0000_event_date": lambda row: _year_0000(row, C.STP_EVENT_DATE),
    "year_0000_dob": lambda row: _year_0000(row, C.PRI_DOB),
    "impossible_day": _impossible_day,
    "blank_subject_id": _blank_subject_id,
    "undecodable_offense": _undecodable_offense,
    "huge_sentence": _huge_sentence,
    "non_ascii_count_order": _non_ascii_count_order,
}
_MESS_NAMES = tuple(MESSES)


def generate(
    people: int, seed: int = 0, counties: Sequence[str] | None = None, *, messy_rate: float = 0.0
) -> Iterator[list[str]]:
    """Rows (95 fields each, no header) of ``people`` synthetic people, deterministic in ``seed``; with
    ``messy_rate`` > 0 that share of rows has one of :data:`MESSES`."""
    if not 0.0 <= messy_rate <= 1.0:
        raise ValueError(f"messy_rate must be between 0 and 1, got {messy_rate}")
    chosen = tuple(counties) if counties else DEFAULT_COUNTIES
    rng = Random(seed)
    mess = Random(f"messy-{seed}") if messy_rate > 0 else None
    record_id = 0
    for number in range(people):
        for row in _Person(rng, number, chosen).history():
            record_id += 1
            row[0] = str(record_id)
            if mess is not None and mess.random() < messy_rate:
                MESSES[_MESS_NAMES[int(mess.random() * len(_MESS_NAMES))]](row)
            yield row


def write_doj(path: str, people: int, seed: int = 0, counties: Sequence[str] | None = None, *,
              header: bool = True, messy_rate: float = 0.0) -> int:
    """Write a generated file (Go CSV encoding, ``\\n`` line ends); returns the number of data rows. A messy
    row's undecodable byte is written as that byte (surrogate escape)."""
    count = 0
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as handle, \
            GoCsvWriter(handle) as writer:
        if header:
            writer.write_encoded(encode_record(C.COLUMNS) + "\n")
        for row in generate(people, seed, counties, messy_rate=messy_rate):
            writer.writerow(row)
            count += 1
    return count


def run_cli(args: argparse.Namespace) -> int:
    """``clearance generate-doj``."""
    if args.people < 0:
        print("--people must not be negative", file=sys.stderr)
        return 2
    messy_rate = args.messy_rate
    if not 0.0 <= messy_rate <= 1.0:
        print("--messy-rate must be between 0 and 1", file=sys.stderr)
        return 2
    counties = [name.strip() for name in args.counties.split(",") if name.strip()] if args.counties else None
    rows = write_doj(args.output, args.people, args.seed, counties, header=not args.no_header, messy_rate=messy_rate)
    print(f"wrote {rows} rows for {args.people} people to {args.output}", file=sys.stderr)
    return 0
