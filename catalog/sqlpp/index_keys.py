"""Index keys as bytes whose byte order is N1QL collation order.

An index entry is the concatenation of its encoded key values; SQLite compares BLOBs with
memcmp, so a range of entries is a range of bytes. The order is Couchbase's collation:
MISSING < NULL < FALSE < TRUE < numbers < strings < arrays < objects < binary.

- numbers: a tag and the IEEE-754 double, sign-flipped so that bytes sort like values
  (NaN first, -0.0 as 0.0; integers beyond 2^53 share the bytes of their nearest double,
  which only widens a span: rows are always filtered again after the fetch);
- strings: a tag, the UTF-8 bytes with 0x00 escaped as 0x00 0xFF, and 0x00 0x00 to end
  (UTF-8 byte order is code point order, as Couchbase compares strings);
- arrays: a tag, each element, and 0x00 (a shorter array sorts first);
- objects: a tag, the field count, the sorted names, then the values in name order.

Each encoding is self-delimiting and starts with a tag byte between 0x01 and 0x09, so
``prefix + b"\\xff"`` is above every entry that starts with ``prefix``.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from catalog.sqlpp.values import MISSING

TAG_MISSING = b"\x01"
TAG_NULL = b"\x02"
TAG_FALSE = b"\x03"
TAG_TRUE = b"\x04"
TAG_NUMBER = b"\x05"
TAG_STRING = b"\x06"
TAG_ARRAY = b"\x07"
TAG_OBJECT = b"\x08"
TAG_BINARY = b"\x09"
# Above every encoded value: the exclusive end of "everything that starts with a prefix".
TOP = b"\xff"

_NAN = TAG_NUMBER + b"\x00" * 8


def encode_number(x: float | int) -> bytes:
    """Return the bytes of a number (see the module docstring)."""
    try:
        f = float(x)
    except OverflowError:
        f = math.inf if x > 0 else -math.inf
    if f != f:
        return _NAN
    if f == 0.0:
        f = 0.0  # -0.0 == 0.0 in N1QL
    (bits,) = struct.unpack(">Q", struct.pack(">d", f))
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)
    return TAG_NUMBER + bits.to_bytes(8, "big")


def string_body(s: str) -> bytes:
    """Return the escaped UTF-8 bytes of a string, without its tag and terminator."""
    return s.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\xff")


def encode(v: Any) -> bytes:
    """Return the bytes of one value, ordered as N1QL collates values."""
    if v is MISSING:
        return TAG_MISSING
    if v is None:
        return TAG_NULL
    t = type(v)
    if t is bool:
        return TAG_TRUE if v else TAG_FALSE
    if t is int or t is float:
        return encode_number(v)
    if t is str:
        return TAG_STRING + string_body(v) + b"\x00\x00"
    if t is list or t is tuple:
        return TAG_ARRAY + b"".join(encode(x) for x in v) + b"\x00"
    if t is dict:
        names = sorted(v)
        return (
            TAG_OBJECT
            + len(names).to_bytes(4, "big")
            + b"".join(encode(n) for n in names)
            + b"".join(encode(v[n]) for n in names)
        )
    if isinstance(v, (bytes, bytearray)):
        return TAG_BINARY + bytes(v).replace(b"\x00", b"\x00\xff") + b"\x00\x00"
    if isinstance(v, bool):  # bool subclasses
        return TAG_TRUE if v else TAG_FALSE
    if isinstance(v, (int, float)):
        return encode_number(v)
    raise TypeError(f"cannot index a value of type {t.__name__}")


def encode_tuple(values: list[Any]) -> bytes:
    """Return the entry bytes of a composite key."""
    return b"".join(encode(v) for v in values)


class Inexact(ValueError):
    """An entry holds a number it cannot give back exactly (an integer past 2^53)."""


def decode(data: bytes, count: int | None = None) -> list[Any]:
    """Return the values of a composite entry (the inverse of ``encode_tuple``), or its first
    ``count`` values.

    Integral numbers come back as ints (N1QL does not tell 1 from 1.0); an integer whose
    magnitude reaches 2^53 raises Inexact, since the double kept for it may differ.
    """
    out: list[Any] = []
    i, end = 0, len(data)
    while i < end and (count is None or len(out) < count):
        v, i = _decode_one(data, i)
        out.append(v)
    return out


_Q = struct.Struct(">Q")
_D = struct.Struct(">d")
_SIGN = 1 << 63
_ALL = 0xFFFFFFFFFFFFFFFF
# Tag byte -> the value it stands for alone.
_CONSTANTS = {TAG_MISSING[0]: MISSING, TAG_NULL[0]: None, TAG_FALSE[0]: False, TAG_TRUE[0]: True}
_NUMBER, _STRING, _ARRAY, _OBJECT, _BINARY = (
    TAG_NUMBER[0], TAG_STRING[0], TAG_ARRAY[0], TAG_OBJECT[0], TAG_BINARY[0],
)  # fmt: skip
# The 8 bytes of a number -> its value (numbers repeat: versions, counts, small constants).
# Values are immutable, so sharing them is safe; cleared when full.
_NUMBERS: dict[bytes, float | int] = {}
_NUMBERS_MAX = 1 << 16


def _decode_one(data: bytes, i: int) -> tuple[Any, int]:
    """Return the value starting at ``data[i]`` and the index after it (the tags in the
    order they are most often met: strings, numbers, objects)."""
    tag = data[i]
    if tag == _STRING:
        j = data.index(0, i + 1)
        if data[j + 1] == 0xFF:  # an escaped 0x00 inside: the slow way
            raw, j = _escaped(data, i + 1)
            return raw.decode("utf-8", "surrogatepass"), j
        return data[i + 1 : j].decode("utf-8", "surrogatepass"), j + 2
    if tag == _NUMBER:
        chunk = data[i + 1 : i + 9]
        v = _NUMBERS.get(chunk)
        return (_number(chunk) if v is None else v), i + 9
    if tag == _OBJECT:
        count = int.from_bytes(data[i + 1 : i + 5], "big")
        i += 5
        names = []
        for _ in range(count):  # names are strings: read in line when unescaped
            if data[i] == _STRING:
                j = data.index(0, i + 1)
                if data[j + 1] != 0xFF:
                    names.append(data[i + 1 : j].decode("utf-8", "surrogatepass"))
                    i = j + 2
                    continue
            name, i = _decode_one(data, i)
            names.append(name)
        obj = {}
        for name in names:
            obj[name], i = _decode_one(data, i)
        return obj, i
    if tag in _CONSTANTS:
        return _CONSTANTS[tag], i + 1
    if tag == _ARRAY:
        items = []
        i += 1
        while data[i] != 0:
            v, i = _decode_one(data, i)
            items.append(v)
        return items, i + 1
    if tag == _BINARY:
        return _escaped(data, i + 1)
    raise ValueError(f"not an index entry: tag {bytes([tag])!r} at {i}")


def _escaped(data: bytes, i: int) -> tuple[bytes, int]:
    out = bytearray()
    while True:
        j = data.index(b"\x00", i)
        out += data[i:j]
        if data[j + 1] == 0xFF:
            out.append(0)
            i = j + 2
        else:
            return bytes(out), j + 2


def _number(chunk: bytes) -> float | int:
    """Return the number of 8 encoded bytes (and remember it)."""
    (bits,) = _Q.unpack(chunk)
    if bits == 0:
        return math.nan
    bits = bits ^ _SIGN if bits & _SIGN else bits ^ _ALL
    (f,) = _D.unpack(_Q.pack(bits))
    v: float | int = f
    if f.is_integer():
        if abs(f) >= 2**53:
            raise Inexact(f"{f!r} may stand for another integer")
        v = int(f)
    if len(_NUMBERS) >= _NUMBERS_MAX:
        _NUMBERS.clear()
    _NUMBERS[chunk] = v
    return v
