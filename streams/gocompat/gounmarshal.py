"""``json.Unmarshal`` as Go's encoding/json does it, for the one document gogen reads: the options file.

gogen reads ``--eligibility-options`` with ``json.Unmarshal(bytes, &options)`` and writes the error's text to
``gogen.err`` (G:gogen.go:69-84), which BEAR-like tools read. So the error texts are Go's, and so is what a
valid document means:

* the whole input is checked first (Go's ``checkValid``), so a syntax error wins over a type error; its text is
  Go's scanner's, e.g. ``invalid character '}' looking for beginning of object key string`` or ``unexpected end
  of JSON input``; a byte-order mark is an invalid character;
* then values are stored into the Go types (:class:`GoStruct`, :class:`GoSlice`, :class:`GoScalar`); a value of
  the wrong JSON type is skipped and the first such error is returned once decoding ends, e.g. ``json: cannot
  unmarshal number 45.0 into Go struct field AdditionalRelief.additionalRelief.subjectAgeThreshold of type int``;
* ``null`` leaves a struct, string, bool or int as it is and empties a slice; the top-level ``null`` is an empty
  document; unknown keys are skipped; a key matches a field exactly or else case-insensitively (Go's fold), and
  every key is applied in document order, so the last one naming a field wins; a repeated struct key merges;
* strings are decoded like Go's ``unquote``: a byte that is not UTF-8 or a lone surrogate escape becomes U+FFFD.

Messages are those of Go 1.20 and later (the field path has every JSON name from the root).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 10_000  # Go's maxNestingDepth


class GoJsonError(ValueError):
    """What ``json.Unmarshal`` returned; ``str()`` is Go's text.

    ``offset``: bytes read when a syntax error was found (Go's ``SyntaxError.Offset``), else ``None``. For a
    type error: ``value`` (Go's name of the JSON value: ``number``, ``number 45.0``, ``string``, …), ``field``
    (the dotted JSON path, ``""`` at the top) and ``go_type`` (the Go type it could not go into).
    """

    def __init__(
        self, text: str, *, offset: int | None = None, value: str = "", field: str = "", go_type: str = ""
    ) -> None:
        super().__init__(text)
        self.offset = offset
        self.value = value
        self.field = field
        self.go_type = go_type


# -- the scanner: Go's checkValid, state by state (encoding/json/scanner.go) -----------------------------------------

_SPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = frozenset(b'bfnrt\\/"')
_OBJECT_KEY, _OBJECT_VALUE, _ARRAY_VALUE = range(3)
_LITERALS = {"t": "rue", "f": "alse", "n": "ull"}
_LITERAL_NAMES = {"t": "true", "f": "false", "n": "null"}


def _quote_char(c: int) -> str:
    """Go's ``quoteChar``: the byte as a rune in single quotes, escaped like ``strconv.Quote``."""
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    char = chr(c)
    special = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 92: "\\\\"}
    if c in special:
        return f"'{special[c]}'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    if not char.isprintable():
        return f"'\\u{c:04x}'"
    return f"'{char}'"


class _Scanner:
    """Go's ``scanner``: ``step`` is the current state function; ``error`` stops the scan with Go's text."""

    def __init__(self) -> None:
        self.step = self._begin_value
        self.stack: list[int] = []
        self.end_top = False
        self.err: GoJsonError | None = None
        self.bytes = 0
        self.literal = ""  # the rest of the literal being read (t → "rue")
        self.literal_name = ""
        self.hex_left = 0

    def error(self, c: int, context: str) -> None:
        self.step = self._error
        self.err = GoJsonError(f"invalid character {_quote_char(c)} {context}", offset=self.bytes)

    def _error(self, c: int) -> None:
        return None

    def _push(self, c: int, state: int) -> None:
        self.stack.append(state)
        if len(self.stack) > MAX_DEPTH:
            self.error(c, "exceeded max depth")

    def _pop(self) -> None:
        self.stack.pop()
        if not self.stack:
            self.step = self._end_top
            self.end_top = True
        else:
            self.step = self._end_value

    def _begin_value_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("]"):
            self._end_value(c)
            return
        self._begin_value(c)

    def _begin_value(self, c: int) -> None:
        if c in _SPACE:
            return
        char = chr(c)
        if char == "{":
            self.step = self._begin_string_or_empty
            self._push(c, _OBJECT_KEY)
        elif char == "[":
            self.step = self._begin_value_or_empty
            self._push(c, _ARRAY_VALUE)
        elif char == '"':
            self.step = self._in_string
        elif char == "-":
            self.step = self._neg
        elif char == "0":
            self.step = self._zero
        elif char in _LITERALS:
            self.literal, self.literal_name = _LITERALS[char], _LITERAL_NAMES[char]
            self.step = self._in_literal
        elif c in _DIGITS:
            self.step = self._one
        else:
            self.error(c, "looking for beginning of value")

    def _begin_string_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("}"):
            self.stack[-1] = _OBJECT_VALUE
            self._end_value(c)
            return
        self._begin_string(c)

    def _begin_string(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord('"'):
            self.step = self._in_string
            return
        self.error(c, "looking for beginning of object key string")

    def _end_value(self, c: int) -> None:
        if not self.stack:
            self.step = self._end_top
            self.end_top = True
            self._end_top(c)
            return
        if c in _SPACE:
            self.step = self._end_value
            return
        state = self.stack[-1]
        char = chr(c)
        if state == _OBJECT_KEY:
            if char == ":":
                self.stack[-1] = _OBJECT_VALUE
                self.step = self._begin_value
                return
            self.error(c, "after object key")
        elif state == _OBJECT_VALUE:
            if char == ",":
                self.stack[-1] = _OBJECT_KEY
                self.step = self._begin_string
                return
            if char == "}":
                self._pop()
                return
            self.error(c, "after object key:value pair")
        else:
            if char == ",":
                self.step = self._begin_value
                return
            if char == "]":
                self._pop()
                return
            self.error(c, "after array element")

    def _end_top(self, c: int) -> None:
        if c not in _SPACE:
            self.error(c, "after top-level value")

    def _in_string(self, c: int) -> None:
        if c == ord('"'):
            self.step = self._end_value
        elif c == ord("\\"):
            self.step = self._in_string_escape
        elif c < 0x20:
            self.error(c, "in string literal")

    def _in_string_escape(self, c: int) -> None:
        if c in _ESCAPES:
            self.step = self._in_string
        elif c == ord("u"):
            self.hex_left = 4
            self.step = self._in_string_escape_u
        else:
            self.error(c, "in string escape code")

    def _in_string_escape_u(self, c: int) -> None:
        if c not in _HEX:
            self.error(c, "in \\u hexadecimal character escape")
            return
        self.hex_left -= 1
        if self.hex_left == 0:
            self.step = self._in_string

    def _neg(self, c: int) -> None:
        if c == ord("0"):
            self.step = self._zero
        elif c in _DIGITS:
            self.step = self._one
        else:
            self.error(c, "in numeric literal")

    def _one(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self._one
            return
        self._zero(c)

    def _zero(self, c: int) -> None:
        if c == ord("."):
            self.step = self._dot
        elif c in b"eE":
            self.step = self._exponent
        else:
            self._end_value(c)

    def _dot(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self._dot_digits
        else:
            self.error(c, "after decimal point in numeric literal")

    def _dot_digits(self, c: int) -> None:
        if c in _DIGITS:
            return
        if c in b"eE":
            self.step = self._exponent
            return
        self._end_value(c)

    def _exponent(self, c: int) -> None:
        if c in b"+-":
            self.step = self._exponent_sign
            return
        self._exponent_sign(c)

    def _exponent_sign(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self._exponent_digits
        else:
            self.error(c, "in exponent of numeric literal")

    def _exponent_digits(self, c: int) -> None:
        if c not in _DIGITS:
            self._end_value(c)

    def _in_literal(self, c: int) -> None:
        expected = self.literal[0]
        if c != ord(expected):
            self.error(c, f"in literal {self.literal_name} (expecting {_quote_char(ord(expected))})")
            return
        self.literal = self.literal[1:]
        if not self.literal:
            self.step = self._end_value


def check_valid(data: bytes) -> None:
    """Go's ``checkValid``: raise :class:`GoJsonError` with the scanner's text at the first invalid byte."""
    scanner = _Scanner()
    for c in data:
        scanner.bytes += 1
        scanner.step(c)
        if scanner.err is not None:
            raise scanner.err
    # eof: a value that could still go on (a number, a literal) ends with one more space
    if not scanner.end_top:
        scanner.step(ord(" "))
        if scanner.err is not None:
            raise scanner.err
        if not scanner.end_top:
            raise GoJsonError("unexpected end of JSON input", offset=scanner.bytes)


# -- the decoder: a valid document into Go types ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoScalar:
    """A Go ``string``, ``bool`` or ``int`` (64-bit)."""

    go_type: str


@dataclass(frozen=True, slots=True)
class GoSlice:
    """A Go slice ``[]elem``."""

    elem: GoScalar

    @property
    def go_type(self) -> str:
        return f"[]{self.elem.go_type}"


@dataclass(frozen=True, slots=True)
class GoStruct:
    """A Go struct: ``go_type`` as ``%v`` names it (``data.AdditionalRelief``), its JSON field names and types."""

    go_type: str
    fields: tuple[tuple[str, GoType], ...]

    @property
    def name(self) -> str:
        return self.go_type.rpartition(".")[2]


GoType = GoScalar | GoSlice | GoStruct
STRING, BOOL, INT = GoScalar("string"), GoScalar("bool"), GoScalar("int")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class _Parser:
    """Reads a document :func:`check_valid` accepted into ``(kind, value)`` pairs; objects keep key order."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def _space(self) -> None:
        data = self.data
        while self.at < len(data) and data[self.at] in _SPACE:
            self.at += 1

    def value(self) -> tuple[str, Any]:
        self._space()
        data = self.data
        char = chr(data[self.at])
        if char == "{":
            self.at += 1
            members: list[tuple[str, tuple[str, Any]]] = []
            self._space()
            if data[self.at] == ord("}"):
                self.at += 1
                return "object", members
            while True:
                self._space()
                key = self._string()
                self._space()
                self.at += 1  # ':'
                members.append((key, self.value()))
                self._space()
                self.at += 1  # ',' or '}'
                if data[self.at - 1] == ord("}"):
                    return "object", members
        if char == "[":
            self.at += 1
            items: list[tuple[str, Any]] = []
            self._space()
            if data[self.at] == ord("]"):
                self.at += 1
                return "array", items
            while True:
                items.append(self.value())
                self._space()
                self.at += 1
                if data[self.at - 1] == ord("]"):
                    return "array", items
        if char == '"':
            return "string", self._string()
        for literal, kind, value in (("true", "bool", True), ("false", "bool", False), ("null", "null", None)):
            if data.startswith(literal.encode(), self.at):
                self.at += len(literal)
                return kind, value
        start = self.at
        while self.at < len(data) and data[self.at] in b"+-.0123456789eE":
            self.at += 1
        return "number", data[start:self.at].decode("ascii")

    def _string(self) -> str:
        """Go's ``unquote`` of the string at ``at`` (the opening quote)."""
        data = self.data
        self.at += 1
        out: list[str] = []
        start = self.at
        while data[self.at] != ord('"'):
            if data[self.at] == ord("\\"):
                out.append(_decode_raw(data[start:self.at]))
                self.at = self._escape(out)
                start = self.at
            else:
                self.at += 1
        out.append(_decode_raw(data[start:self.at]))
        self.at += 1
        return "".join(out)

    def _escape(self, out: list[str]) -> int:
        data, at = self.data, self.at
        code = chr(data[at + 1])
        simple = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "\\": "\\", "/": "/", '"': '"'}
        if code in simple:
            out.append(simple[code])
            return at + 2
        first = int(data[at + 2 : at + 6], 16)
        at += 6
        if 0xD800 <= first < 0xE000:
            if data[at : at + 2] == b"\\u" and len(data) >= at + 6:
                try:
                    second = int(data[at + 2 : at + 6], 16)
                except ValueError:
                    second = -1
                if 0xD800 <= first < 0xDC00 <= second < 0xE000:  # a valid pair (utf16.DecodeRune)
                    out.append(chr(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)))
                    return at + 6
            out.append("\ufffd")
            return at
        out.append(chr(first))
        return at


def _decode_raw(raw: bytes) -> str:
    """Raw string bytes as Go's ``unquote`` keeps them: every byte that is not UTF-8 becomes one U+FFFD."""
    text = raw.decode("utf-8", "surrogateescape")
    if text.isascii():
        return text
    return "".join("\ufffd" if 0xD800 <= ord(char) < 0xE000 else char for char in text)


def _fold(name: str) -> str:
    """Go's ``foldName``: ASCII upper-cased, other runes ``unicode.ToUpper(unicode.ToLower(r))`` (simple mapping)."""
    folded = []
    for char in name:
        if char.isascii():
            folded.append(char.upper())
            continue
        lower = char.lower()
        lower = lower if len(lower) == 1 else char
        upper = lower.upper()
        folded.append(upper if len(upper) == 1 else lower)
    return "".join(folded)


class _Slice:
    """A Go slice value as ``d.array`` fills it: elements past ``len`` stay in the backing array until it grows."""

    __slots__ = ("backing", "length")

    def __init__(self) -> None:
        self.backing: list[Any] = []
        self.length = 0

    def values(self) -> list[Any]:
        return self.backing[: self.length]


class _Decoder:
    """Go's ``decodeState`` for :class:`GoType` targets: the first type error is kept, decoding goes on."""

    def __init__(self) -> None:
        self.error: GoJsonError | None = None

    def _save(self, value: str, go_type: str, struct: str, path: tuple[str, ...]) -> None:
        if self.error is not None:
            return
        field = ".".join(path)
        if struct or field:
            text = f"json: cannot unmarshal {value} into Go struct field {struct}.{field} of type {go_type}"
        else:
            text = f"json: cannot unmarshal {value} into Go value of type {go_type}"
        self.error = GoJsonError(text, value=value, field=field, go_type=go_type)

    def store(self, target: GoType, node: tuple[str, Any], current: Any, struct: str, path: tuple[str, ...]) -> Any:
        """The Go value after storing ``node`` into ``current`` (of type ``target``)."""
        kind, value = node
        if kind == "null":
            return _Slice() if isinstance(target, GoSlice) else current
        if isinstance(target, GoStruct):
            if kind != "object":
                self._save(kind, target.go_type, struct, path)
                return current
            by_name = {name: (name, field_type) for name, field_type in target.fields}
            by_fold = {_fold(name): (name, field_type) for name, field_type in reversed(target.fields)}
            for key, member in value:
                found = by_name.get(key) or by_fold.get(_fold(key))
                if found is None:
                    continue
                name, field_type = found
                current[name] = self.store(field_type, member, current[name], target.name, (*path, name))
            return current
        if isinstance(target, GoSlice):
            if kind != "array":
                self._save(kind, target.go_type, struct, path)
                return current
            return self._fill(target, value, current, struct, path)
        return self._scalar(target, kind, value, current, struct, path)

    def _fill(self, target: GoSlice, items: list[tuple[str, Any]], current: _Slice, struct: str,
              path: tuple[str, ...]) -> _Slice:
        if not items:  # reflect.MakeSlice(t, 0, 0): empty, and nothing left of the old array
            return _Slice()
        for i, item in enumerate(items):
            if i >= len(current.backing):  # reflect.Value.Grow: a new array (double the capacity), zeroed
                kept = current.backing[: current.length]
                capacity = max(1, 2 * len(current.backing))
                current.backing = kept + [zero(target.elem)] * (capacity - len(kept))
            current.length = max(current.length, i + 1)
            current.backing[i] = self.store(target.elem, item, current.backing[i], struct, path)
        current.length = len(items)
        return current

    def _scalar(self, target: GoScalar, kind: str, value: Any, current: Any, struct: str,
                path: tuple[str, ...]) -> Any:
        go_type = target.go_type
        if go_type == "string" and kind == "string":
            return value
        if go_type == "bool" and kind == "bool":
            return value
        if go_type == "int" and kind == "number":
            digits = value[1:] if value[:1] in "+-" else value
            if value[:1] != "+" and digits.isdigit() and _INT64_MIN <= int(value) <= _INT64_MAX:
                return int(value)
            self._save(f"number {value}", go_type, struct, path)
            return current
        self._save(kind, go_type, struct, path)
        return current


def zero(target: GoType) -> Any:
    """Go's zero value of ``target`` in the shape :func:`unmarshal` returns."""
    if isinstance(target, GoStruct):
        return {name: zero(field_type) for name, field_type in target.fields}
    if isinstance(target, GoSlice):
        return _Slice()
    return {"string": "", "bool": False, "int": 0}[target.go_type]


def _plain(target: GoType, value: Any) -> Any:
    if isinstance(target, GoStruct):
        return {name: _plain(field_type, value[name]) for name, field_type in target.fields}
    if isinstance(target, GoSlice):
        return value.values()
    return value


def unmarshal(data: bytes, target: GoStruct) -> dict[str, Any]:
    """``json.Unmarshal(data, &v)`` for a ``v`` of type ``target``: a dict of every field (Go's zero value where the
    document sets none; a slice as a list). Raises :class:`GoJsonError` with Go's text."""
    check_valid(data)
    decoder = _Decoder()
    value = decoder.store(target, _Parser(data).value(), zero(target), "", ())
    if decoder.error is not None:
        raise decoder.error
    result: dict[str, Any] = _plain(target, value)
    return result
