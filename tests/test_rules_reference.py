"""Every rules-reference citation in ``streams/`` resolves inside ``docs/rules-reference.md``.

Docstrings and comments cite sections as ``§4``, ``spec §3.2``, ``(§5.2)``, ``§§5.3, 5.4`` or ``§3.2 note``, and
quirks as ``quirk 5`` or ``quirks 2, 4, 6``. A section is resolved by a Markdown heading whose number is the cited
one (``## 8. …``, ``### 8.1 …``); a quirk by a row of the quirk table in section 10 (``| 5 | … |``). Statute
references such as ``H&S § 11361.9`` are not section citations and are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "streams"
REFERENCE = ROOT / "docs" / "rules-reference.md"

_NUMBER = r"\d+(?:\.\d+)*"
_LIST_SEP = r"\s*(?:,|and|&|/|-|–|to)\s*"
# "§4", "§ 4", "§3.2", "§§5.3, 5.4"; a trailing sentence dot ("§5.") is not part of the number.
SECTION_CITATION = re.compile(rf"(§§?)\s*({_NUMBER}(?:{_LIST_SEP}{_NUMBER})*)")
# "quirk 5", "quirks 2, 4, 6", "quirks 2-4", "Quirk\n14" (a line break inside a docstring).
QUIRK_CITATION = re.compile(rf"\bquirks?\s+(\d+(?:{_LIST_SEP}\d+)*)\b", re.IGNORECASE)
# Text right before a "§" that makes it a statute, not a section of the reference.
STATUTE_PREFIX = re.compile(r"(?:H&S|HS|PC|BP|VC|Code|Cal\.?)\s*$")

HEADING = re.compile(rf"^#{{1,6}}\s+({_NUMBER})\.?(?:\s|$)")
QUIRK_ROW = re.compile(r"^\|\s*(\d+)\s*\|")
QUIRK_STATUSES = ("reproduced", "deviation")


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _numbers(listing: str, *, ranges: bool) -> list[str]:
    """The numbers of a citation list; ``a-b`` / ``a to b`` of whole numbers expands when ``ranges``."""
    parts = re.split(rf"({_LIST_SEP})", listing)
    numbers = parts[0::2]
    separators = [sep.strip() for sep in parts[1::2]]
    result = [numbers[0]]
    for sep, number in zip(separators, numbers[1:], strict=True):
        previous = result[-1]
        if ranges and sep in ("-", "–", "to") and previous.isdigit() and number.isdigit():
            result.extend(str(n) for n in range(int(previous) + 1, int(number) + 1))
        else:
            result.append(number)
    return result


def section_citations(text: str) -> list[tuple[int, str, str]]:
    """(line, cited text, section number) for every section citation in ``text``."""
    found = []
    for match in SECTION_CITATION.finditer(text):
        if STATUTE_PREFIX.search(text[max(0, match.start() - 8) : match.start()]):
            continue
        marks, listing = match.groups()
        # A list after a single "§" is only a list when its separators are explicit ("§§" always is).
        numbers = _numbers(listing, ranges=True) if marks == "§§" else [re.match(_NUMBER, listing).group(0)]
        line = _line_of(text, match.start())
        cited = " ".join(match.group(0).split())
        found.extend((line, cited, number) for number in numbers)
    return found


def quirk_citations(text: str) -> list[tuple[int, str, int]]:
    """(line, cited text, quirk number) for every quirk citation in ``text``."""
    found = []
    for match in QUIRK_CITATION.finditer(text):
        line = _line_of(text, match.start())
        cited = " ".join(match.group(0).split())
        found.extend((line, cited, int(number)) for number in _numbers(match.group(1), ranges=True))
    return found


def _reference_lines() -> list[str]:
    """Lines of the reference outside fenced code blocks."""
    lines = []
    fenced = False
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def reference_sections() -> set[str]:
    return {match.group(1) for line in _reference_lines() if (match := HEADING.match(line))}


def reference_quirk_rows() -> dict[int, str]:
    """Quirk number → its table row, from the quirk table of section 10 (up to the next level-2 heading)."""
    rows: dict[int, str] = {}
    inside = False
    for line in _reference_lines():
        if line.startswith("## "):
            heading = HEADING.match(line)
            inside = heading is not None and heading.group(1) == "10"
            continue
        if inside and (row := QUIRK_ROW.match(line)):
            rows[int(row.group(1))] = line
    return rows


def _sources() -> list[tuple[str, str]]:
    return [
        (path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def test_the_scanner_reads_every_citation_form() -> None:
    text = 'x (spec §3.2 note) y §5. z §§5.3, 5.4 w H&S § 11361.9 v "§10 quirks 2, 4, 6" (quirk\n14) quirks 1-3'
    assert [number for _, _, number in section_citations(text)] == ["3.2", "5", "5.3", "5.4", "10"]
    assert [number for _, _, number in quirk_citations(text)] == [2, 4, 6, 14, 1, 2, 3]
    assert [line for line, _, _ in quirk_citations(text)] == [1, 1, 1, 1, 2, 2, 2]


def test_every_cited_section_has_a_heading() -> None:
    sections = reference_sections()
    citations = [(name, cite) for name, text in _sources() for cite in section_citations(text)]
    assert citations, "no section citation found under streams/: the scanner is broken"
    missing = [
        f"{name}:{line}: {cited!r} cites section {number}, which has no heading in docs/rules-reference.md"
        for name, (line, cited, number) in citations
        if number not in sections
    ]
    assert not missing, "\n".join(missing)


def test_every_cited_quirk_is_defined() -> None:
    quirks = reference_quirk_rows()
    citations = [(name, cite) for name, text in _sources() for cite in quirk_citations(text)]
    assert citations, "no quirk citation found under streams/: the scanner is broken"
    missing = [
        f"{name}:{line}: {cited!r} cites quirk {number}, which is not a row of the §10 quirk table "
        "in docs/rules-reference.md"
        for name, (line, cited, number) in citations
        if number not in quirks
    ]
    assert not missing, "\n".join(missing)


def test_quirk_table_is_numbered_and_decided() -> None:
    quirks = reference_quirk_rows()
    assert sorted(quirks) == list(range(1, len(quirks) + 1)), "quirks must be numbered 1..N without gaps"
    undecided = [
        f"quirk {number}: the row names neither {' nor '.join(QUIRK_STATUSES)}"
        for number, row in quirks.items()
        if not any(f"| {status} |" in row for status in QUIRK_STATUSES)
    ]
    assert not undecided, "\n".join(undecided)
