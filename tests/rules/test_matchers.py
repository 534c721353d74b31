"""Matcher tables against every example of spec §5 and gogen's matcher tests (positive and negative lists)."""

from __future__ import annotations

import sys

import pytest

from streams.gocompat.memo import DICT_SLOT_BYTES, Memo
from streams.rules import matchers
from streams.rules.matchers import (
    CodeFacts,
    code_facts,
    is_pc290,
    is_prop64,
    is_related,
    is_superstrike,
    matches_la_section,
    matches_section,
    prop64_section,
    related_section,
    subsection_11357,
)

PROP64 = [
    ("11357 HS", "11357"),
    ("11358(C) HS", "11358"),
    ("11359HS", "11359"),
    ("11360(A) HS", "11360"),
    ("664.11357(c) HS", "11357"),
    ("66411357(c) HS", "11357"),
    ("664-11357(c) HS", "11357"),
    ("664/11357(c) HS", "11357"),
    ("/11357 HS", "11357"),
    ("11360/11357 HS", "11360"),  # canonical section = leftmost occurrence
    ("11357-11360", "11357"),
]
NOT_PROP64 = ["12345(c) HS", "647(f) HS", "4050.6 BP", "14859 PC", "1320(a) PC", "1135 HS", "11361 HS", ""]


@pytest.mark.parametrize(("code", "section"), PROP64)
def test_prop64_canonical_section(code: str, section: str) -> None:
    assert prop64_section(code) == section
    assert is_prop64(code)


@pytest.mark.parametrize("code", NOT_PROP64)
def test_not_prop64(code: str) -> None:
    assert prop64_section(code) is None
    assert not is_prop64(code)


@pytest.mark.parametrize("code", ["11357(A)", "11357(A)PC", "66411357(A) HS", "11357 HS", "x11357"])
def test_config_key_matches_anywhere(code: str) -> None:
    assert matches_section("11357", code)
    assert not matches_section("11358", code)


def test_config_key_must_be_known() -> None:
    with pytest.raises(KeyError):
        matches_section("11357(a)", "11357(A) HS")


@pytest.mark.parametrize(
    ("code", "letter"),
    [
        ("11357(A) HS", "A"),
        ("11357(D)HS", "D"),
        ("11357(c) HS", None),
        ("11357 HS", None),
        ("11357(E) HS", None),
    ],
)
def test_11357_subsection_is_upper_case_a_to_d(code: str, letter: str | None) -> None:
    assert subsection_11357(code) == letter


@pytest.mark.parametrize(
    ("code", "keys"),
    [
        ("11357(A) HS", {"11357(a)"}),
        ("11357(B)", {"11357(b)"}),
        ("11357(C) HS", {"11357(c)"}),
        ("11357(D) HS", {"11357(d)"}),
        ("11357 HS", {"11357(no-sub-section)"}),
        ("11357(E) HS", {"11357(no-sub-section)"}),
        ("11358 HS", set()),
    ],
)
def test_los_angeles_variant_keys(code: str, keys: set[str]) -> None:
    assert {key for key in matchers.LA_SECTION_MATCHERS if matches_la_section(key, code)} == keys


RELATED = [
    ("647(f) PC", "647(f) PC"),
    ("148.9 PC", "148.9 PC"),
    ("148 PC", "148 PC"),
    ("4060    BP", "4060 BP"),
    ("--40508 VC--", "40508 VC"),
    ("1320(a) PC", "1320 PC"),
    ("602 PC", "602 PC"),
    ("602\tPC", "602 PC"),
    ("466PC", "466 PC"),
    ("11364 HS", "11364 HS"),
    ("11550 HS", "11550 HS"),
    ("4140 BP", "4140 BP"),
    ("4149 BP ", "4149 BP"),
    ("1148 PC", "148 PC"),  # unanchored (quirk 7)
]
NOT_RELATED = [
    "647(F) PC",  # gogen's lower-case "(f)" never matches DOJ's upper case
    "11357 HS",
    "11358 HS",
    "11359 HS",
    "11360 HS",
    "1320.5 PC",
    "13205 PC",
    "602\vPC",  # Go's \s has no vertical tab
    "148.8 PC",
]


@pytest.mark.parametrize(("code", "section"), RELATED)
def test_related_charges(code: str, section: str) -> None:
    assert is_related(code)
    assert related_section(code) == section


@pytest.mark.parametrize("code", NOT_RELATED)
def test_not_related_charges(code: str) -> None:
    assert not is_related(code)
    assert related_section(code) is None


def test_related_extraction_is_leftmost_like_the_go_alternation() -> None:
    facts = code_facts("40508 VC / 602 PC")
    assert (facts.related_section, facts.related_text) == ("40508 VC", "40508 VC")
    assert code_facts("148.9  PC").related_text == "148.9  PC"


SUPERSTRIKES = [
    "37 PC", "128 PC", "187 PC", "188 PC", "189 PC", "189.1 PC", "189.5 PC", "190 PC", "190.03 PC",
    "190.2(A)(4) PC", "190.25(B) PC", "191 PC", "191.5 PC", "205 PC", "207 PC", "209 PC", "209.5 PC",
    "217.1 PC", "218 PC", "219 PC", "220 PC", "245(D)(3) PC", "261(A)(2) PC", "262(A)(4) PC", "262 PC",
    "264.1 PC", "269 PC", "273AB PC", "273AB(A) PC", "286(C)(2)(A) PC", "286(C)(1) PC", "286(C)(2)(B) PC",
    "286(C)(2)(C) PC", "286(C)(3) PC", "286(D)(1) PC", "286(D)(2) PC", "286(D)(3) PC", "286 PC", "287 PC",
    "288 PC", "288(A) PC", "288(B)(1) PC", "288(B)(2) PC", "288A PC", "288A(C)(1) PC", "288A(C)(2)(A) PC",
    "288A(C)(2)(B) PC", "288A(C)(2)(C) PC", "288A(D) PC", "288.5 PC", "288.5(A) PC", "289(A)(1)(A) PC",
    "289(A)(1)(B) PC", "289(A)(1)(C) PC", "289(A)(2)(C) PC", "289(J) PC", "289 PC", "451.5 PC", "653F PC",
    "667.61 PC", "667.7 PC", "667.71 PC", "4500 PC", "11418(A)(1) PC", "11418(B)(1) PC", "11418(B)(2) PC",
    "12308 PC", "12310 PC", "18745 PC", "18755 PC", "1672(A) MV",
    # gang enhancement with an enhanceable offense in one code string
    "246/186.22(B)(4) PC", "519-186.22(B)(4) PC", "136.1/186.22(B)(4) PC", "136.1-186.22(B)(4) PC",
    "136.1+186.22(B)(4) PC", "215 + 186.22(B)(4) PC", "12022.55 + 186.22(B)(4) PC",
    "213(A)(1)(A) + 186.22(B)(4) PC", "213(A)(1)(A)/186.22(B)(4) PC", "186.22(B)(4)/136.1 PC",
    "186.22(B)(4)-136.1 PC", "186.22(B)(4)+136.1 PC", "186.22(B)(4)-213(A)(1)(A) PC",
    "186.22(B)(4)/12022.55 PC", "186.22(B)(4)-246 PC",
    "2187 PC",  # unanchored (quirk 7)
]  # fmt: skip
NOT_SUPERSTRIKES = [
    "186.22(B)(3)+136.1 PC", "186.22(A)+136.1 PC", "186.22(B)(4) PC", "136.1 PC", "189.2 PC", "1900 PC",
    "190.123 PC", "191(A) PC", "191.55 PC", "205.1 PC", "209.6 PC", "246 PC", "12022.5 PC", "217.1(A) PC",
    "245 PC", "261.5 PC", "264.11 PC", "273 PC", "273(A) PC", "273A(B)", "286(C)(4)(A) PC", "286(E)(2)(B) PC",
    "286(C) PC", "288(B) PC", "288(A)(C)(1) PC", "288B PC", "289(A)(2)(A) PC", "451.1 PC", "653(F) PC",
    "667.6 PC", "667.72 PC", "667 PC", "667/664 PC", "4500(A) PC", "11418(A)(2) PC", "18745(A) PC",
    "1672(B) MV",
    "190.\u0661\u0662 PC",  # Go's \d is ASCII-only
]  # fmt: skip


@pytest.mark.parametrize("code", SUPERSTRIKES)
def test_superstrikes(code: str) -> None:
    assert is_superstrike(code)


@pytest.mark.parametrize("code", NOT_SUPERSTRIKES)
def test_not_superstrikes(code: str) -> None:
    assert not is_superstrike(code)


PC290 = [
    "236.1(B) PC", "236.1(B)(C) PC", "236.1(B)(1) PC", "236.1(C) PC", "236.1(C)(A) PC", "243.4(A) PC",
    "243.4(A)(C) PC", "261 PC", "261B PC", "262(A) PC", "262(A)(1) PC", "264.1 PC", "266 PC", "266C PC",
    "266H(B) PC", "267 PC", "269 PC", "269.8 PC", "272 PC", "285 PC", "286 PC", "287 PC", "288 PC", "288A PC",
    "288.2 PC", "288.3 PC", "288.4 PC", "288.5 PC", "288.7 PC", "289 PC", "311.1 PC", "311.2(B) PC",
    "311.2(C) PC", "311.2(D) PC", "311.3 PC", "311.4 PC", "311.10 PC", "311.11 PC", "314(1) PC", "314(2) PC",
    "451.5 PC", "647.6B PC", "647A PC", "653F(B) PC", "653F(C) PC",
]  # fmt: skip
NOT_PC290 = [
    "236.1(A) PC", "236.1B PC", "236.2(B) PC", "236.1(D)(B) PC", "243 PC", "262 PC", "264.11 PC", "266.5 PC",
    "266(C) PC", "266J(A) PC", "266J.11 PC", "266(J) PC", "267A PC", "2677 PC", "2699 PC", "288.6", "291 PC",
    "2434 PC", "24 PC", "647(A) PC", "647.1(A) PC", "6477A PC", "653F PC",
]  # fmt: skip


@pytest.mark.parametrize("code", PC290)
def test_pc290(code: str) -> None:
    assert is_pc290(code)


@pytest.mark.parametrize("code", NOT_PC290)
def test_not_pc290(code: str) -> None:
    assert not is_pc290(code)


@pytest.mark.parametrize(
    ("code", "gang", "enhanceable"),
    [
        ("186.22(B)(4) PC", True, False),
        ("136.1 PC", False, True),
        ("213(A)(1)(A) PC", False, True),
        ("12022.55 PC", False, True),
        ("246/186.22(B)(4) PC", True, False),
        ("186.22(B)(3) PC", False, False),
    ],
)
def test_los_angeles_combination_parts(code: str, gang: bool, enhanceable: bool) -> None:
    facts = code_facts(code)
    assert (facts.is_la_gang_enhancement, facts.is_la_enhanceable_offense) == (gang, enhanceable)


def test_answers_are_memoised_per_string() -> None:
    assert code_facts("11357(A) HS") is code_facts("11357(A) HS")


def test_cache_starts_over_at_its_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    small = Memo[str, CodeFacts](budget=2 * (DICT_SLOT_BYTES + 112 + sys.getsizeof("11357 HS")), entry_bytes=112)
    monkeypatch.setattr(matchers, "_FACTS", small)
    for code in ("11357 HS", "187 PC"):
        code_facts(code)
    assert len(small.data) == 2
    assert is_related("602 PC")  # still answered: the cache started over with it
    assert list(small.data) == ["602 PC"] and small.clears == 1


def test_long_strings_are_answered_but_not_remembered() -> None:
    code = "11357(B) HS " + "X" * 10_000
    assert code_facts(code).prop64_section == "11357"
    assert matchers._FACTS.get(code) is None
