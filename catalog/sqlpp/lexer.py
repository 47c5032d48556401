"""Hand-written SQL++ tokenizer: identifiers, literals, parameters and operators."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from catalog.sqlpp.errors import SqlppSyntaxError

# Statement size cap: a longer statement is refused before tokenizing.
MAX_STATEMENT_CHARS = 1_000_000

_OPS3: tuple[str, ...] = ()
_OPS2 = ("||", "==", "!=", "<>", "<=", ">=")
_OPS1 = set("+-*/%()[]{},.:;=<>?")
_IDENT_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_CHARS = _IDENT_START | set("0123456789$")
_DIGITS = set("0123456789")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
            "t": "\t"}  # fmt: skip


@dataclass(slots=True)
class Token:
    """One token: kind is id, qid, str, num, param, op or eof."""

    kind: str
    value: Any
    pos: int
    ci: bool = False  # a `quoted`i identifier matches fields case-insensitively

    @property
    def upper(self) -> str:
        """Return the keyword spelling of an unquoted identifier, else ''."""
        return self.value.upper() if self.kind == "id" else ""


_INT64_MAX = 2**63 - 1


def tokenize(text: str) -> list[Token]:
    """Return the tokens of a statement, ending with an eof token."""
    if len(text) > MAX_STATEMENT_CHARS:
        raise SqlppSyntaxError("statement too long", text, 0)
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise SqlppSyntaxError("unterminated comment", text, i)
            i = j + 2
        elif c in _IDENT_START:
            j = i + 1
            while j < n and text[j] in _IDENT_CHARS:
                j += 1
            out.append(Token("id", text[i:j], i))
            i = j
        elif c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS):
            i = _number(text, i, out)
        elif c == '"' or c == "'":
            i = _string(text, i, out)
        elif c == "`":
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise SqlppSyntaxError("unterminated quoted identifier", text, i)
                if text[j] == "`":
                    if j + 1 < n and text[j + 1] == "`":
                        buf.append("`")
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            ci = (
                j + 1 < n and text[j + 1] == "i" and not (j + 2 < n and text[j + 2] in _IDENT_CHARS)
            )
            out.append(Token("qid", "".join(buf), i, ci))
            i = j + 2 if ci else j + 1
        elif c == "$":
            j = i + 1
            while j < n and text[j] in _IDENT_CHARS:
                j += 1
            name = text[i + 1 : j]
            if not name:
                raise SqlppSyntaxError("expected a parameter name after '$'", text, i)
            out.append(Token("param", int(name) if name.isdigit() else name, i))
            i = j
        else:
            two = text[i : i + 2]
            if two in _OPS2:
                out.append(Token("op", two, i))
                i += 2
            elif c in _OPS1:
                out.append(Token("op", c, i))
                i += 1
            else:
                raise SqlppSyntaxError(f"unexpected character {c!r}", text, i)
    out.append(Token("eof", None, n))
    return out


def _number(text: str, i: int, out: list[Token]) -> int:
    n, j = len(text), i
    while j < n and text[j] in _DIGITS:
        j += 1
    is_float = False
    if j < n and text[j] == "." and (j + 1 >= n or text[j + 1] in _DIGITS or text[j + 1] in "eE"
                                     or not text[j + 1].isalpha()):  # fmt: skip
        is_float = True
        j += 1
        while j < n and text[j] in _DIGITS:
            j += 1
    if j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and text[k] in _DIGITS:
            is_float = True
            j = k
            while j < n and text[j] in _DIGITS:
                j += 1
    s = text[i:j]
    num: int | float = float(s) if is_float else int(s)
    if isinstance(num, int) and num > _INT64_MAX:
        num = float(s)  # Couchbase reads an integer beyond int64 as a float64
    out.append(Token("num", num, i))
    return j


def _string(text: str, i: int, out: list[Token]) -> int:
    q, n, j, buf = text[i], len(text), i + 1, []
    while True:
        if j >= n:
            raise SqlppSyntaxError("unterminated string literal", text, i)
        c = text[j]
        if c == q:
            if j + 1 < n and text[j + 1] == q:
                buf.append(q)
                j += 2
                continue
            break
        if c == "\\" and j + 1 < n:
            e = text[j + 1]
            if e in _ESCAPES:
                buf.append(_ESCAPES[e])
                j += 2
                continue
            if e == "u" and j + 5 < n:
                try:
                    buf.append(json.loads('"' + text[j : j + 6] + '"'))
                except ValueError:
                    raise SqlppSyntaxError("bad \\u escape", text, j) from None
                j += 6
                continue
            buf.append(e)
            j += 2
            continue
        buf.append(c)
        j += 1
    out.append(Token("str", "".join(buf), i))
    return j + 1
