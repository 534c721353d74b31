"""Go's string semantics: TrimSpace's set, byte slices and rune slices of text with undecodable bytes."""

from __future__ import annotations

import pytest

from streams.gocompat.gotext import go_byte_prefix, go_rune_prefix, go_trim_space


def test_trim_space_keeps_the_ascii_separators() -> None:
    assert go_trim_space("\u00a0 x\t\u2028") == "x"
    assert go_trim_space("\x1cx\x1f") == "\x1cx\x1f"  # str.strip() would remove them


@pytest.mark.parametrize(
    ("text", "size", "expected"),
    [
        ("001001001000", 6, "001001"),
        ("001", 6, "001"),  # Go would panic: the project keeps what there is (spec §11)
        ("é00001001000", 6, "é0000"),  # "é" is two bytes
        ("0000é1001000", 5, "0000\udcc3"),  # the first byte of "é": a surrogate escape, as read from a file
        ("\udce900001", 3, "\udce900"),  # an undecodable byte is one byte
    ],
)
def test_byte_prefix(text: str, size: int, expected: str) -> None:
    assert go_byte_prefix(text, size) == expected


def test_byte_prefixes_agree_when_the_bytes_do() -> None:
    assert go_byte_prefix("é00001001000", 6) == go_byte_prefix("é00002001000", 6)
    assert go_byte_prefix("0000é1", 5) == go_byte_prefix("0000ê1", 5)  # both start c3 after 0000


def test_rune_prefix_turns_undecodable_bytes_into_replacement_characters() -> None:
    # Go: string([]rune("\xe911360 HS")[0:5]) == "\ufffd1136"
    assert go_rune_prefix("\udce911360 HS", 5) == "\ufffd1136"
    assert go_rune_prefix("é11360 HS", 5) == "é1136"
    assert go_rune_prefix("11360 HS", 5) == "11360"
