"""Code-section matchers as data tables, one statute per line (spec §5), memoised per code-section string.

Semantics are Go's ``regexp`` ``MatchString``: an unanchored, case-sensitive search. Patterns are kept as
gogen wrote them and translated where Python reads them differently: ``\\d`` is ASCII-only in Go
(``re.ASCII``) and Go's ``\\s`` is ``[\\t\\n\\f\\r ]`` (no vertical tab). Everything else used here (``.``,
classes, alternation, greedy groups) decides a match the same way in both engines.

A 1M-row file repeats a few thousand code sections, so every question about a string is answered once: the
first look-up runs all tables and stores a :class:`CodeFacts`; later look-ups are one dict hit. The cache is
bounded in bytes (:mod:`streams.gocompat.memo`): only short strings are remembered, within a budget, so a stream
of distinct long values (valid input) cannot exhaust a worker's memory; such strings are just recomputed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from streams.gocompat.memo import Memo, memo

# -- Prop 64 (G:matchers/code_section_matchers.go) --------------------------------------------------------
# A code section is a Prop 64 charge if any statute occurs anywhere in it; its canonical section is the
# leftmost one.
PROP64_PATTERNS: tuple[tuple[str, str], ...] = (
    ("11357", r"11357"),
    ("11358", r"11358"),
    ("11359", r"11359"),
    ("11360", r"11360"),
)
PROP64_SECTIONS: tuple[str, ...] = tuple(section for section, _ in PROP64_PATTERNS)

# Configuration keys of the eligibility options: the section "matches" when the search succeeds.
SECTION_MATCHERS: Mapping[str, str] = {
    "11357": r"11357.*",
    "11358": r"11358.*",
    "11359": r"11359.*",
    "11360": r"11360.*",
}

# Used only for "Possible Other P64 Charges": the letter of an 11357 subsection (upper case only).
SUBSECTION_11357 = r"11357\(([A-D])\)"

# Los Angeles branch variant keys (LA:matchers/code_section_matchers.go), kept for the LA reports.
LA_SECTION_MATCHERS: Mapping[str, str] = {
    "11357(a)": r"11357\(A\).*",
    "11357(b)": r"11357\(B\).*",
    "11357(c)": r"11357\(C\).*",
    "11357(d)": r"11357\(D\).*",
    "11357(no-sub-section)": r"11357(\([^A-D]\)|[^(]).*",
}

# -- Related charges (spec §5.2), one statute per line -------------------------------------------------------
# The lower-case "(f)" is gogen's: it never matches DOJ's "647(F) PC". "1148 PC" matches "148 PC" (quirk 7).
RELATED_PATTERNS: tuple[tuple[str, str], ...] = (
    ("647(f) PC", r"647\(f\)\s*PC"),
    ("602 PC", r"602\s*PC"),
    ("466 PC", r"466\s*PC"),
    ("148.9 PC", r"148\.9\s*PC"),
    ("148 PC", r"148\s*PC"),
    ("11364 HS", r"11364\s*HS"),
    ("11550 HS", r"11550\s*HS"),
    ("4140 BP", r"4140\s*BP"),
    ("4149 BP", r"4149\s*BP"),
    ("4060 BP", r"4060\s*BP"),
    ("40508 VC", r"40508\s*VC"),
    ("1320 PC", r"1320[^\d\.][^\.]*PC"),
)

# -- Superstrikes, PC 667(e)(2)(C)(iv) (G:data/code_section_matchers.go) ------------------------------------
GANG_ENHANCEMENT = r"186\.22\(B\)\(4\)"
# Offenses that are superstrikes only together with the gang enhancement.
ENHANCEABLE_OFFENSES: tuple[str, ...] = (
    r"136\.1",
    r"215",
    r"213\(A\)\(1\)\(A\)",
    r"246",
    r"519",
    r"12022\.55",
)
_ENHANCEABLE = "((" + ")|(".join(ENHANCEABLE_OFFENSES) + "))"

SUPERSTRIKE_PATTERNS: tuple[str, ...] = (
    r"37 PC",
    r"128 PC",
    _ENHANCEABLE + r".*" + GANG_ENHANCEMENT + r" PC",
    GANG_ENHANCEMENT + r".*" + _ENHANCEABLE + r" PC",
    r"187 PC",
    r"188 PC",
    r"189(\.[15])? PC",
    r"190(\.\d{1,2})?(\(.*\))? PC",
    r"191(\.5)? PC",
    r"205 PC",
    r"207 PC",
    r"209(\.5)? PC",
    r"217\.1 PC",
    r"218 PC",
    r"219 PC",
    r"220 PC",
    r"245\(D\)\(3\) PC",
    r"261(\(.*\))? PC",
    r"262(\(.*\))? PC",
    r"264\.1 PC",
    r"269 PC",
    r"273AB(\(.*\))? PC",
    r"286((\(C\)\([123]\)(\([ABC]\))?)|(\(D\)\([123]\)))? PC",
    r"287 PC",
    r"288((\(A\))|(\(B\)\([12]\)))? PC",
    r"288A((\(D\))|(\(C\)\(1\))|(\(C\)\(2\)\([ABC]\)))? PC",
    r"288\.5(\(A\))? PC",
    r"289((\(J\))|(\(A\)\(1\)\([ABC]\))|(\(A\)\(2\)\(C\)))? PC",
    r"451\.5 PC",
    r"653F PC",
    r"667\.(61|7|71) PC",
    r"4500 PC",
    r"11418((\(A\)\(1\))|(\(B\)\([12]\))) PC",
    r"12308 PC",
    r"12310 PC",
    r"18745 PC",
    r"18755 PC",
    r"1672\(A\) MV",
)

# Los Angeles combines a gang-enhancement conviction with an enhanceable-offense conviction of the same case
# (LA:data/subject.go): these decide which convictions take part.
LA_GANG_ENHANCEMENT_CONVICTION = GANG_ENHANCEMENT + r" PC"
LA_ENHANCEABLE_CONVICTION = _ENHANCEABLE + r" PC"

# -- PC 290 registrable sections (G:data/code_section_matchers.go) ------------------------------------------
PC290_PATTERNS: tuple[str, ...] = (
    r"236\.1\([BC]\)(.*) PC",
    r"243\.4(.*) PC",
    r"261 PC",
    r"261(\(|\.|[a-zA-Z])+(.*) PC",
    r"262\(A\)(\(1\))? PC",
    r"264\.1(\((.*))? PC",
    r"266 PC",
    r"266C PC",
    r"266H\(B\)(.*) PC",
    r"266I\(B\)(.*) PC",
    r"266J PC",
    r"267 PC",
    r"269 PC",
    r"269(\(|\.|[a-zA-Z])+(.*) PC",
    r"272 PC",
    r"285 PC",
    r"287 PC",
    r"286([^\.]*) PC",
    r"288 PC",
    r"288A(.*) PC",
    r"288\.[23457](.*) PC",
    r"289([^\.]*) PC",
    r"311\.1(.*) PC",
    r"311\.2\([BCD]\) PC",
    r"311\.([34]|10|11)(.*) PC",
    r"314\([12]\) PC",
    r"451\.5 PC",
    r"647\.6(.*) PC",
    r"647A(.*) PC",
    r"653F\([BC]\) PC",
)


def go_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a Go RE2 pattern so that Python's ``re`` decides matches the same way (see module doc)."""
    return re.compile(re.sub(r"(?<!\\)\\s", r"[\\t\\n\\f\\r ]", pattern), re.ASCII)


_PROP64 = tuple((section, go_pattern(p)) for section, p in PROP64_PATTERNS)
_SECTIONS = tuple((key, go_pattern(p)) for key, p in SECTION_MATCHERS.items())
_LA_SECTIONS = tuple((key, go_pattern(p)) for key, p in LA_SECTION_MATCHERS.items())
_SUBSECTION_11357 = go_pattern(SUBSECTION_11357)
_RELATED = tuple((section, go_pattern(p)) for section, p in RELATED_PATTERNS)
_SUPERSTRIKES = tuple(go_pattern(p) for p in SUPERSTRIKE_PATTERNS)
_PC290 = tuple(go_pattern(p) for p in PC290_PATTERNS)
_LA_GANG = go_pattern(LA_GANG_ENHANCEMENT_CONVICTION)
_LA_ENHANCEABLE = go_pattern(LA_ENHANCEABLE_CONVICTION)


def _leftmost(table: tuple[tuple[str, re.Pattern[str]], ...], code: str) -> tuple[str, str] | None:
    """(name, matched text) of the leftmost match of any table entry; ties go to the earlier entry.

    This is exactly what Go's leftmost-first alternation ``(a|b|...)`` returns in its first group.
    """
    best: tuple[int, str, str] | None = None
    for name, pattern in table:
        found = pattern.search(code)
        if found is not None and (best is None or found.start() < best[0]):
            best = (found.start(), name, found.group(0))
    return None if best is None else (best[1], best[2])


@dataclass(frozen=True, slots=True)
class CodeFacts:
    """Every matcher's answer for one code-section string."""

    prop64_section: str | None
    related_section: str | None
    related_text: str | None
    is_superstrike: bool
    is_pc290: bool
    is_la_gang_enhancement: bool
    is_la_enhanceable_offense: bool
    subsection_11357: str | None
    config_sections: frozenset[str]
    la_sections: frozenset[str]


# The few distinct sets of matching keys, shared by every CodeFacts that has them (2^4 and 2^5 at most): a
# cached entry then keeps no set of its own alive.
_KEY_SETS: dict[frozenset[str], frozenset[str]] = {}


def _shared(keys: frozenset[str]) -> frozenset[str]:
    return _KEY_SETS.setdefault(keys, keys)


def compute_facts(code: str) -> CodeFacts:
    """Every matcher's answer for ``code``, computed (:func:`code_facts` remembers them)."""
    prop64 = _leftmost(_PROP64, code)
    related = _leftmost(_RELATED, code)
    subsection = _SUBSECTION_11357.search(code)
    return CodeFacts(
        prop64_section=None if prop64 is None else prop64[0],
        related_section=None if related is None else related[0],
        related_text=None if related is None else related[1],
        is_superstrike=any(p.search(code) for p in _SUPERSTRIKES),
        is_pc290=any(p.search(code) for p in _PC290),
        is_la_gang_enhancement=_LA_GANG.search(code) is not None,
        is_la_enhanceable_offense=_LA_ENHANCEABLE.search(code) is not None,
        subsection_11357=None if subsection is None else subsection.group(1),
        config_sections=_shared(frozenset(key for key, p in _SECTIONS if p.search(code))),
        la_sections=_shared(frozenset(key for key, p in _LA_SECTIONS if p.search(code))),
    )


# Code sections (and offense and comment texts) of at most 256 characters with their matched related text, 16 MB:
# ~40,000 distinct texts of ~60 characters. An entry keeps the text, its CodeFacts (112 bytes) and the matched
# related text (a substring) alive; the key sets are shared.
_FACTS: Memo[str, CodeFacts] = memo(16 << 20, entry_bytes=112)


def code_facts(code: str) -> CodeFacts:
    """All matcher answers for ``code``, computed once per distinct (short) string."""
    facts = _FACTS.get(code)
    if facts is None:
        facts = compute_facts(code)
        related = facts.related_text
        if related is None:
            _FACTS.put(code, facts, code)
        else:
            _FACTS.put(code, facts, code, related)
    return facts


def prop64_section(code: str) -> str | None:
    """Canonical Prop 64 section (``"11357"``..``"11360"``, leftmost occurrence) or ``None``."""
    return code_facts(code).prop64_section


def is_prop64(code: str) -> bool:
    """Whether ``code`` is a Prop 64 charge (any of 11357-11360 anywhere, e.g. attempts ``664-11357``)."""
    return code_facts(code).prop64_section is not None


def is_related(code: str) -> bool:
    """Whether ``code`` is a charge related to Prop 64 (§5.2), as the pilots and the what-if flow used it."""
    return code_facts(code).related_section is not None


def related_section(code: str) -> str | None:
    """Name of the leftmost related statute in ``code`` (table key, e.g. ``"148 PC"``) or ``None``."""
    return code_facts(code).related_section


def is_superstrike(code: str) -> bool:
    """Whether ``code`` is a superstrike on its own (§5.3, incl. the gang combination within one string)."""
    return code_facts(code).is_superstrike


def is_pc290(code: str) -> bool:
    """Whether ``code`` is a PC 290 registrable section (§5.4)."""
    return code_facts(code).is_pc290


def matches_section(key: str, code: str) -> bool:
    """Whether options key ``"11357"``..``"11360"`` matches ``code``; unknown keys raise ``KeyError``."""
    if key not in SECTION_MATCHERS:
        raise KeyError(key)
    return key in code_facts(code).config_sections


def matches_la_section(key: str, code: str) -> bool:
    """Whether a Los Angeles variant key (``"11357(a)"``, ``"11357(no-sub-section)"``...) matches ``code``."""
    if key not in LA_SECTION_MATCHERS:
        raise KeyError(key)
    return key in code_facts(code).la_sections


def subsection_11357(code: str) -> str | None:
    """Letter A-D of the first ``11357(X)`` in ``code`` or ``None``."""
    return code_facts(code).subsection_11357
