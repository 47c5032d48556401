"""The store's JSON decoding (orjson with json.loads's answers): same values on every read path."""

from __future__ import annotations

import json
import random
import struct
from typing import Any

import orjson
import pytest

from catalog.store import decode

KS = "ml.catalog.models"


def same(a: Any, b: Any) -> bool:
    """Return whether a and b are the same JSON value, types and float bits included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (a != a and b != b)
    return a == b


TRICKY: dict[str, Any] = {
    "floats": [0.1, 0.2, 1e308, -1e308, 5e-324, 2.5e-310, 1.7976931348623157e308, -0.0, 0.0],
    "more floats": [1.0, 123456789012345.67, 1e22, 1e-7, 0.00012345678901234567, 3.0e16],
    "ints": [0, -1, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1],
    "big ints": [2**63, 2**64, 2**64 + 1, -(2**63) - 1, 10**30, -(10**40)],
    "unicode": ["é", "日本語", "😀", "\u2028\u2029", "\x00\x1f\x7f", 'quote " back \\ slash'],
    "lone surrogates": ["\ud800", "x\udfffy", "\ud83d"],
    "digits in a string": "1234567890123456789012345",
    "nested": {"a": [{"b": [[], {}, [None, True, False]]}], "": {"é": {"z": [1, [2, [3]]]}}},
}


def test_tricky_documents_decode_to_json_loads_values():
    for name, value in TRICKY.items():
        doc = {name: value}
        text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        assert same(decode.loads(text), json.loads(text)), name
        ascii_text = json.dumps(doc)  # \uXXXX escapes, surrogate pairs spelled out
        assert same(decode.loads(ascii_text), json.loads(ascii_text)), name


def test_big_integers_stay_integers():
    for n in (2**64, -(2**63) - 1, 10**100):  # orjson alone makes them floats
        assert type(orjson.loads(str(n))) is float
    for n in (2**64, -(2**63) - 1, 10**19, -(10**19), 10**100, 2**64 - 1, -(2**63)):
        value = decode.loads(f'{{"n":{n}}}')["n"]
        assert type(value) is int and value == n


def test_texts_orjson_rejects_get_json_loads_answers():
    for text in ("NaN", "[Infinity,-Infinity]", "1e400", "-1e400", '"\\ud800"', '["\\udc00x"]'):
        assert same(decode.loads(text), json.loads(text)), text


def test_invalid_json_raises_json_loads_error():
    for text in ("", "{", "[1,]", "01", '"\x01"', "nul", '{"a":1}x'):
        with pytest.raises(json.JSONDecodeError) as got:
            decode.loads(text)
        with pytest.raises(json.JSONDecodeError) as expected:
            json.loads(text)
        assert str(got.value) == str(expected.value), text


def test_random_floats_and_integers_are_bit_exact():
    rnd = random.Random(15)
    floats = []
    while len(floats) < 5000:
        x = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
        if x == x and x not in (float("inf"), float("-inf")):
            floats.append(x)
    floats += [rnd.random() for _ in range(2000)] + [rnd.uniform(-1e6, 1e6) for _ in range(2000)]
    ints = [rnd.randrange(-(2**70), 2**70) for _ in range(2000)]
    ints += [rnd.randrange(-(2**63), 2**64) for _ in range(2000)]
    for value in (floats, ints, {"w": floats[:100], "i": ints[:100]}):
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        assert same(decode.loads(text), json.loads(text))


def test_every_read_path_returns_the_values_written(store):
    # lone surrogates cannot be stored (UTF-8): the decode tests above cover their escapes
    storable = {k: v for k, v in TRICKY.items() if k != "lone surrogates"}
    docs = {f"k{i:02d}": {name: value, "i": i} for i, (name, value) in enumerate(storable.items())}
    store.upsert_many(KS, docs)
    for key, doc in docs.items():
        assert same(store.get(KS, key)[0], doc), key
    assert all(same(v[0], docs[k]) for k, v in store.get_many(KS, list(docs)).items())
    scanned = {key: value for key, value, _ in store.scan(KS)}
    assert list(scanned) == sorted(docs)
    assert all(same(scanned[k], docs[k]) for k in docs)
    rows = store.query("SELECT RAW m FROM models m ORDER BY m.i", query_context="ml.catalog")
    # numbers: the engine prints them as cbq-engine does (integral floats as integers, past
    # int64 as floats), its own tests cover that; strings and structure come through exact
    assert [r["i"] for r in rows] == list(range(len(docs)))
    assert all(same(rows[i], docs[f"k{i:02d}"]) for i in (4, 5, 6))


def test_a_read_sees_every_write_and_no_reader_shares_a_document(store):
    store.upsert(KS, "a", {"v": [1, 2], "w": {"x": 1}})
    first = store.get(KS, "a")[0]
    first["v"].append(3)
    first["w"]["x"] = 2
    assert store.get(KS, "a")[0] == {"v": [1, 2], "w": {"x": 1}}
    scanned = next(v for k, v, _ in store.scan(KS) if k == "a")
    scanned["v"].clear()
    assert next(v for k, v, _ in store.scan(KS) if k == "a") == {"v": [1, 2], "w": {"x": 1}}
    cas = store.replace(KS, "a", {"v": [9]})
    assert list(store.scan(KS)) == [("a", {"v": [9]}, cas)]
    store.remove(KS, "a")
    assert list(store.scan(KS)) == []


def test_binary_values_still_come_back_as_bytes(store):
    store.upsert("ml.catalog.tensors", "t", b"1234567890123456789012\x00\xff")
    assert store.get("ml.catalog.tensors", "t")[0] == b"1234567890123456789012\x00\xff"
    assert [v for _, v, _ in store.scan("ml.catalog.tensors")] == [
        b"1234567890123456789012\x00\xff"
    ]


def outcome(fn: Any, text: str) -> tuple[str, str]:
    try:
        return "value", repr(fn(text))
    except RecursionError:
        return "recursion", ""
    except json.JSONDecodeError as e:
        return "error", str(e)


def test_edge_texts_get_json_loads_outcome():
    texts = ["\ufeff{}", " \t\n\r[1]\r\n", "\u00a0[1]", "1.", ".5", "+1", "-", "nan", "True"]
    texts += ['"\\x41"', '"\\u00"', "1e", "-0e0", "1.5E+3", '"\t"', '["\\/"]', "{,}", '{"a":1,}']
    texts += ['"\\ud800\\ud800"', '"\\udc00\\ud800"', "1" * 400, "0." + "1" * 400, "-" + "9" * 19]
    texts += ["[" * 5000 + "]" * 5000, "[" * 500 + "]" * 500, '{"a":' * 2000 + "1" + "}" * 2000]
    for text in texts:
        assert outcome(decode.loads, text) == outcome(json.loads, text), text[:40]
