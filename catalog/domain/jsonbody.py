"""One JSON parser for every body and text field a client sends, with a nesting limit.

``json.loads`` recurses once per nesting level: 5,000 nested arrays raise RecursionError
(a 500 wherever it was not caught), and a value nested 950 deep parses but breaks whatever
walks it later (templates, ``json.dumps``, numpy). ``decode_json`` refuses both with
``JsonBodyError`` (a ValueError; the web layer answers 400) naming the limit.

Strict JSON is parsed by orjson (about 6x faster than ``json`` on an inference request);
what orjson refuses (``NaN`` and ``Infinity``, which clients such as tritonclient send and
``json`` accepts, lone surrogate escapes, malformed text) is parsed, or explained, by
``json`` as before, and so is any text with a run of 20 digits or more (orjson reads an
integer past 64 bits as a float, ``json`` as an int), so the answer is ``json.loads``'s
either way.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import orjson

from catalog.domain import limits

# Deepest nesting of arrays and objects accepted in a request (CATALOG_MAX_JSON_DEPTH).
# A rank-32 tensor is 32 levels; metadata rarely goes past 5.
DEFAULT_MAX_DEPTH = 64
# A JSON string literal (escapes included): removed before brackets are counted.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# A run of 20 digits may be an integer orjson would read as a float (2**64 has 20 digits);
# shortest float reprs have at most 17 significant digits, so ordinary bodies have none.
# Found by mapping every digit to "0" and searching (a regex takes 40x longer on numbers).
_DIGITS_AS_ZEROS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_TWENTY_DIGITS = b"0" * 20
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class JsonBodyError(ValueError):
    """The text is not JSON, or is nested deeper than the limit."""


@limits.derived
def max_depth() -> int:
    """Return the deepest nesting accepted (``CATALOG_MAX_JSON_DEPTH``, default 64)."""
    return int(limits.setting("CATALOG_MAX_JSON_DEPTH") or DEFAULT_MAX_DEPTH)


def nesting_depth(data: bytes) -> int:
    """Return how deep arrays and objects nest in the JSON text ``data`` (strings ignored)."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    depth = np.cumsum(_STEP[np.frombuffer(brackets, dtype=np.uint8)], dtype=np.int64)
    return int(depth.max())


def decode_json(text: bytes | str, *, limit: int | None = None) -> Any:
    """Return the JSON value of ``text``; raise JsonBodyError if malformed or too deep."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    limit = max_depth() if limit is None else limit
    # Fewer opening brackets than the limit cannot nest past it: skip the scan.
    deep = data.count(b"[") + data.count(b"{") > limit and nesting_depth(data) > limit
    if deep:
        raise JsonBodyError(f"the JSON is nested deeper than {limit} levels")
    if _TWENTY_DIGITS not in data.translate(_DIGITS_AS_ZEROS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # not strict JSON, or not for orjson: json decides
    try:
        return json.loads(data)
    except RecursionError:
        raise JsonBodyError(f"the JSON is nested deeper than {limit} levels") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise JsonBodyError(f"malformed JSON: {e}") from None
