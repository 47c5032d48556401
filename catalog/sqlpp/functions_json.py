"""JSON, encoding, crypto and miscellaneous functions (UUID, BASE64, HASHBYTES, TOKENS)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from typing import Any

from catalog.sqlpp import budget
from catalog.sqlpp.registry import ABSENT, fn, unknown
from catalog.sqlpp.values import MISSING, hkey, is_num, to_json_text


@fn("json_decode", "decode_json")
def json_decode(v: Any) -> Any:
    if v is MISSING:
        return MISSING
    if not isinstance(v, str):
        return None
    if v == "":
        return None
    # What the decoded value holds is at most ~8 bytes of slots per character of text.
    budget.reserve("decode_json()", len(v), 8 * len(v))
    try:
        return json.loads(v)
    except ValueError:
        return None


@fn("json_encode", "encode_json", lo=1)
def json_encode(v: Any) -> Any:
    if v is MISSING:
        return MISSING
    return to_json_text(v)


@fn("encoded_size")
def encoded_size(v: Any) -> Any:
    if v is MISSING:
        return 4  # Couchbase encodes MISSING as null here
    return len(to_json_text(v).encode())


@fn("poly_length")
def poly_length(v: Any) -> Any:
    if v is MISSING:
        return MISSING
    if isinstance(v, str):
        return len(v)
    if isinstance(v, (list, dict)):
        return len(v)
    return None


@fn("base64", "base64_encode", "encode_base64")
def base64_encode(v: Any) -> Any:
    if v is MISSING:
        return MISSING
    data = v if isinstance(v, bytes) else to_json_text(v).encode()
    return base64.b64encode(data).decode()


@fn("base64_decode", "decode_base64")
def base64_decode(v: Any) -> Any:
    if not isinstance(v, str):
        return MISSING if v is MISSING else None
    try:
        data = base64.b64decode(v)
        return json.loads(data)
    except (ValueError, binascii.Error):
        return None


@fn("uuid", lo=0)
def uuid_() -> Any:
    return str(uuid.uuid4())


_HASHES = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha224": hashlib.sha224,
           "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}  # fmt: skip
_CRC_POLYS = {"ieee": 0xEDB88320, "castagnoli": 0x82F63B78, "koopman": 0xEB31D82E}


def _crc32(data: bytes, poly: int) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


@fn("hashbytes", lo=1, hi=2)
def hashbytes(v: Any, opts: Any = "sha256") -> Any:
    u = unknown(v, opts)
    if u is not False:
        return u
    if isinstance(opts, str):
        opts = {"algorithm": opts}
    if not isinstance(opts, dict):
        return None
    algo = str(opts.get("algorithm", "sha256")).lower()
    data = v.encode() if isinstance(v, str) else to_json_text(v).encode()
    if algo in _HASHES:
        return _HASHES[algo](data).hexdigest()
    if algo == "crc32":
        poly = opts.get("polynomial", "ieee")
        if isinstance(poly, str):
            p = _CRC_POLYS.get(poly.lower())
        elif is_num(poly):
            p = int(poly)
        else:
            p = None
        if p is None:
            return None
        return format(_crc32(data, p), "08x")
    return None


for _name, _h in _HASHES.items():
    fn(_name)(lambda v, _h=_h: _h(v.encode()).hexdigest() if isinstance(v, str) else (
        MISSING if v is MISSING else None))  # fmt: skip


def _tokens(v: Any, names: bool, case: str | None, specials: bool, out: list[Any]) -> None:
    if v is None or isinstance(v, bool) or is_num(v):
        out.append(v if not isinstance(v, float) or not v.is_integer() else int(v))
    elif isinstance(v, str):
        for w in re.findall(r"[\w]+" if not specials else r"[\w@.\-]+|[\w]+", v):
            out.append(w.lower() if case == "lower" else w.upper() if case == "upper" else w)
    elif isinstance(v, list):
        for x in v:
            _tokens(x, names, case, specials, out)
    elif isinstance(v, dict):
        for k, x in v.items():
            if names:
                _tokens(k, names, case, specials, out)
            _tokens(x, names, case, specials, out)


@fn("tokens", lo=1, hi=2)
def tokens(v: Any, opts: Any = ABSENT) -> Any:
    if v is MISSING or opts is MISSING:
        return MISSING
    o = opts if isinstance(opts, dict) else {}
    out: list[Any] = []
    _tokens(v, bool(o.get("names", True)), o.get("case"), bool(o.get("specials", False)), out)
    return list({hkey(x): x for x in out}.values())


@fn("len")
def len_(v: Any) -> Any:
    if v is MISSING:
        return MISSING
    if isinstance(v, (str, list, dict)):
        return len(v)
    return None
