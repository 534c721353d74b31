"""Go's white space: gogen trims with ``strings.TrimSpace``, whose set differs from ``str.strip``'s.

Python also strips the ASCII separators U+001C..U+001F; Go does not. A DOJ field holding one of those would
derive a different code section or reason, so every trim in the rules goes through :func:`go_trim_space`.
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
