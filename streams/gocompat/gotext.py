"""Go's string semantics where they differ from Python's: white space, byte slices and rune slices.

* gogen trims with ``strings.TrimSpace``, whose set differs from ``str.strip``'s: Python also strips the ASCII
  separators U+001C..U+001F, Go does not. A DOJ field holding one of those would derive a different code section
  or reason, so every trim in the rules goes through :func:`go_trim_space`.
* A Go string is bytes: ``s[0:6]`` takes six bytes, not six characters (:func:`go_byte_prefix`), and
  ``[]rune(s)`` decodes it, turning every byte that is not UTF-8 into U+FFFD (:func:`go_rune_prefix`). Text read
  from a file here holds such a byte as a surrogate escape (U+DC80..U+DCFF), so both are reproducible exactly.
"""

from __future__ import annotations

# unicode.IsSpace: '\t', '\n', '\v', '\f', '\r', ' ', U+0085 (NEL), U+00A0 (NBSP), White_Space property.
GO_WHITE_SPACE = (
    "\t\n\v\f\r \u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def go_trim_space(text: str) -> str:
    """``strings.TrimSpace``: leading and trailing Go white space removed."""
    return text.strip(GO_WHITE_SPACE)


_SURROGATES = range(0xD800, 0xE000)


def go_byte_prefix(text: str, size: int) -> str:
    """Go's ``text[0:size]`` of the UTF-8 bytes (the whole text when shorter, where Go would panic).

    A character cut in two leaves its leading bytes as surrogate escapes, so two texts whose first ``size``
    bytes agree give the same prefix, as the keys gogen builds from them do (CNT_ORDER's case and cycle).
    """
    if text.isascii():
        return text[0:size]
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte: not from a file, keep characters
        return text[0:size]
    return data[0:size].decode("utf-8", "surrogateescape")


def go_rune_prefix(text: str, count: int) -> str:
    """``string([]rune(text)[0:count])``: the first ``count`` characters, each undecodable byte read as U+FFFD.

    So a prefix taken from a code section holding a byte that is not UTF-8 never matches that byte again
    (LA's "two priors", quirk 18).
    """
    head = text[0:count]
    if head.isascii():
        return head
    return "".join("\ufffd" if ord(char) in _SURROGATES else char for char in head)
