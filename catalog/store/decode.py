"""Decoding of stored JSON documents: orjson, wherever it gives exactly what json.loads gives.

orjson builds the same Python values as ``json.loads`` for the JSON the store writes
(``json.dumps(..., allow_nan=False)``), about three times faster, with two exceptions that
``loads`` hands to ``json.loads``:

- an integer outside [-2**63, 2**64 - 1] silently becomes a float in orjson. Such an integer
  has at least 19 digits in a row, so a text holding a run of 19 digits (anywhere, even in a
  string) is decoded by ``json.loads``: a cheap check, and a false alarm only costs speed;
- what orjson rejects (NaN, Infinity, 1e400, lone surrogates such as "\\ud800") goes to
  ``json.loads``, which returns its own value or raises its own error.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Every ASCII digit becomes "0", every other ASCII character a space; the rest is kept.
_DIGITS = str.maketrans({chr(i): "0" if "0" <= chr(i) <= "9" else " " for i in range(128)})
# The shortest digit run that can spell an integer outside orjson's range (-2**63 - 1).
_LONG_RUN = "0" * 19


def loads(text: str | bytes) -> Any:
    """Return ``json.loads(text)``, decoded by orjson when that gives the same value."""
    if not isinstance(text, str):  # not what the store writes: leave it to json.loads
        return json.loads(text)
    if _LONG_RUN in text.translate(_DIGITS):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
