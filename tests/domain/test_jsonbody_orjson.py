"""decode_json parses with orjson where it can and answers exactly what json.loads answers.

orjson is strict RFC 8259; json.loads also takes NaN and Infinity (tritonclient sends them
for float tensors), integers of any size and lone surrogate escapes. Every text here must
decode to json.loads's value, or fail as json.loads fails.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.domain.jsonbody import JsonBodyError, decode_json
from inference.oip_binary import encode_json


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and types compared (1 is not 1.0)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize(
    "text",
    [
        b'{"data": [NaN, Infinity, -Infinity, 1.5]}',  # json only
        b'{"n": 123456789012345678901234567890}',  # past 64 bits: json only
        b'{"n": -18446744073709551617}',
        b'{"s": "\\ud800"}',  # a lone surrogate escape: json only
        b'{"a": 1, "a": 2}',  # duplicate keys: the last wins in both
        b'{"f": 1e400, "g": -1e400, "z": -0.0, "e": 1E-7}',
        b'[1, 1.0, true, null, "\\u00e9", "\xc3\xa9"]',
        b" \n\t{}\n ",
    ],
)
def test_decode_json_answers_what_json_loads_answers(text: bytes) -> None:
    assert same(decode_json(text), json.loads(text))


@pytest.mark.parametrize(
    "text", [b"{not json", b"\xff\xfe", b"[1,]", b'{"a": 1} x', b"", b"nan", b"[1e5"]
)
def test_what_json_refuses_is_refused(text: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(JsonBodyError, match="malformed JSON"):
        decode_json(text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, derandomize=True)
@given(json_values)
def test_decode_json_matches_json_loads_on_generated_values(value: Any) -> None:
    text = json.dumps(value).encode("utf-8", "surrogatepass")
    assert same(decode_json(text), json.loads(text))


def test_encode_json_is_orjson_and_takes_what_orjson_cannot() -> None:
    body = {"model_name": "m", "outputs": [{"data": [1.5, None, 2]}]}
    assert encode_json(body) == orjson.dumps(body)
    big = {"data": [2**70]}  # an object output can hold any Python int
    with pytest.raises(TypeError):
        orjson.dumps(big)
    assert json.loads(encode_json(big)) == big
