"""``json.Unmarshal`` into gogen's EligibilityOptions: every expected text below is what Go's encoding/json
(go1.26) answered for the same bytes, with gogen's struct types (G:data/eligibility_flow.go)."""

from __future__ import annotations

from typing import Any

import pytest

from streams.gocompat.gounmarshal import GoJsonError, check_valid, unmarshal
from streams.offline.settings import OPTIONS_GO_TYPE

FIELD = "Go struct field"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", "unexpected end of JSON input"),
        (b"   ", "unexpected end of JSON input"),
        (b"{", "unexpected end of JSON input"),
        (b'{"x":"abc', "unexpected end of JSON input"),
        (b'{"a":}', "invalid character '}' looking for beginning of value"),
        (b'{"a":1,}', "invalid character '}' looking for beginning of object key string"),
        (b"[1,]", "invalid character ']' looking for beginning of value"),
        (b'{"a":1}x', "invalid character 'x' after top-level value"),
        (b'{"a":tru}', "invalid character '}' in literal true (expecting 'e')"),
        (b'{"x":t', "invalid character ' ' in literal true (expecting 'r')"),  # the scanner's end-of-input space
        (b'{"a":"\\x01"}', "invalid character 'x' in string escape code"),
        (b"{'a':1}", "invalid character '\\'' looking for beginning of object key string"),
        (b'{"a":01}', "invalid character '1' after object key:value pair"),
        (b'{"a":-}', "invalid character '}' in numeric literal"),
        (b'{"a":1.}', "invalid character '}' after decimal point in numeric literal"),
        (b'{"x":1e+}', "invalid character '}' in exponent of numeric literal"),
        (b'{"a":"\\u12"}', "invalid character '\"' in \\u hexadecimal character escape"),
        (b'{"x":"\t"}', "invalid character '\\t' in string literal"),
        (b'{"x" 1}', "invalid character '1' after object key"),
        (b"[1 2]", "invalid character '2' after array element"),
        (b'{"a":NaN}', "invalid character 'N' looking for beginning of value"),
        (b"\xef\xbb\xbf{}", "invalid character '\u00ef' looking for beginning of value"),  # a byte-order mark
        (b"[" * 10001, "invalid character '[' exceeded max depth"),
    ],
)
def test_syntax_errors_are_gos(data: bytes, text: str) -> None:
    with pytest.raises(GoJsonError) as caught:
        unmarshal(data, OPTIONS_GO_TYPE)
    assert str(caught.value) == text
    assert caught.value.offset is not None


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"[]", "json: cannot unmarshal array into Go value of type data.EligibilityOptions"),
        (b'"x"', "json: cannot unmarshal string into Go value of type data.EligibilityOptions"),
        (b'{"baselineEligibility": 5}',
         f"json: cannot unmarshal number into {FIELD} EligibilityOptions.baselineEligibility of type "
         "data.BaselineEligibility"),
        (b'{"baselineEligibility": {"dismiss": "x"}}',
         f"json: cannot unmarshal string into {FIELD} BaselineEligibility.baselineEligibility.dismiss "
         "of type []string"),
        (b'{"baselineEligibility": {"dismiss": [5]}}',
         f"json: cannot unmarshal number into {FIELD} BaselineEligibility.baselineEligibility.dismiss of type string"),
        (b'{"additionalRelief": {"subjectAgeThreshold": 45.0}}',
         f"json: cannot unmarshal number 45.0 into {FIELD} AdditionalRelief.additionalRelief.subjectAgeThreshold "
         "of type int"),
        (b'{"additionalRelief": {"subjectAgeThreshold": 99999999999999999999}}',
         f"json: cannot unmarshal number 99999999999999999999 into {FIELD} "
         "AdditionalRelief.additionalRelief.subjectAgeThreshold of type int"),
        (b'{"additionalRelief": {"subjectIsDeceased": 1}}',
         f"json: cannot unmarshal number into {FIELD} AdditionalRelief.additionalRelief.subjectIsDeceased "
         "of type bool"),
        # the first type error is returned, after the whole document was decoded
        (b'{"additionalRelief":{"subjectAgeThreshold":"x","yearsCrimeFreeThreshold":true}}',
         f"json: cannot unmarshal string into {FIELD} AdditionalRelief.additionalRelief.subjectAgeThreshold "
         "of type int"),
    ],
)
def test_type_errors_are_gos(data: bytes, text: str) -> None:
    with pytest.raises(GoJsonError) as caught:
        unmarshal(data, OPTIONS_GO_TYPE)
    assert str(caught.value) == text
    assert caught.value.offset is None


def _values(data: bytes) -> list[Any]:
    document = unmarshal(data, OPTIONS_GO_TYPE)
    baseline, relief = document["baselineEligibility"], document["additionalRelief"]
    return [baseline["dismiss"], baseline["reduce"], relief["subjectIsDeceased"], relief["subjectAgeThreshold"],
            relief["yearsCrimeFreeThreshold"]]


@pytest.mark.parametrize(
    ("data", "values"),
    [
        (b"null", [[], [], False, 0, 0]),  # gogen then runs with empty options
        (b'{"baselineEligibility":{"dismiss":["11357"]},"baselineEligibility":{"reduce":["11358"]}}',
         [["11357"], ["11358"], False, 0, 0]),  # a repeated struct key merges
        (b'{"baselineEligibility":{"dismiss":["11357"],"dismiss":null}}', [[], [], False, 0, 0]),
        (b'{"additionalRelief":{"subjectAgeThreshold":50,"SUBJECTAGETHRESHOLD":60}}', [[], [], False, 60, 0]),
        (b'{"additionalRelief":{"SUBJECTAGETHRESHOLD":60,"subjectAgeThreshold":50}}', [[], [], False, 50, 0]),
        (b'{"additionalRelief":{"subjectAgeThreshold":-5,"subjectIsDeceased":null}}', [[], [], False, -5, 0]),
        (b'{"baselineEligibility":{"dismiss":[null]}}', [[""], [], False, 0, 0]),  # a panic in gogen (spec §11)
        # null elements keep what the slice's array held: Go reuses it
        (b'{"baselineEligibility":{"dismiss":["11357","11358"],"dismiss":["11359"],"dismiss":[null,null]}}',
         [["11359", "11358"], [], False, 0, 0]),
        (b'{"baselineEligibility":{"dismiss":["a","b"],"dismiss":[],"dismiss":[null]}}', [[""], [], False, 0, 0]),
        (b'{"baselineEligibility":{"dismi\xc5\xbfs":["x"]}}', [["x"], [], False, 0, 0]),  # long s folds to S
        (b'{"baselineEligibility":{"dismiss":["\xe9\\ud83d\\ude00\\udc00x"]}}',
         [["\ufffd\U0001f600\ufffdx"], [], False, 0, 0]),
        (b'{"additionalrelief":{"subjectisdeceased":true},"ADDITIONALRELIEF":{"yearsCrimeFreeThreshold":3}}',
         [[], [], True, 0, 3]),
        (b'{"unknown": [1, {"x": null}], "additionalRelief": {"dismissYearsSinceConvictionThreshold": true}}',
         [[], [], False, 0, 0]),
    ],
)
def test_values_are_gos(data: bytes, values: list[Any]) -> None:
    assert _values(data) == values


def test_check_valid_accepts_what_go_accepts() -> None:
    check_valid(b' \t\r\n{"a" : [1, -0.5e-3, true, false, null, "\\u00e9\\n"] }\n')
