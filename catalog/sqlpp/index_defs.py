"""Index definitions in Couchbase's CREATE INDEX syntax, and the entries a document gives.

    CREATE PRIMARY INDEX [name] ON keyspace [USING GSI] [WITH {...}]
    CREATE INDEX name ON keyspace(key [ASC|DESC], ...) [WHERE cond] [USING GSI] [WITH {...}]

A key is any expression over the document's fields (``name``, ``metadata.framework``,
``LOWER(name)``); an array key is ``[DISTINCT|ALL] ARRAY expr FOR x IN path END``: one entry
per element (distinct elements with DISTINCT). As in Couchbase, a document whose leading key
is MISSING has no entry (unless the key says ``INCLUDE MISSING``); later keys may be MISSING.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.compiler import Compiler
from catalog.sqlpp.errors import SqlppError, SqlppSyntaxError
from catalog.sqlpp.index_keys import encode
from catalog.sqlpp.lexer import Token, tokenize
from catalog.sqlpp.parser import parse_expression
from catalog.sqlpp.scope import DEFAULT, Context
from catalog.sqlpp.values import MISSING, truth

PRIMARY = "#primary"
# Keywords that open a construct closed by END (their commas are not key separators).
_OPENERS = {"ARRAY", "FIRST", "OBJECT", "CASE", "ANY", "EVERY", "SOME"}


@dataclass(frozen=True)
class IndexKey:
    """One key of an index: its expression, and how it is read."""

    text: str
    expr: A.Node  # for an array key: the comprehension (ARRAY e FOR x IN path END)
    array: bool = False
    distinct: bool = False
    desc: bool = False
    include_missing: bool = False


@dataclass(frozen=True)
class IndexDef:
    """A parsed CREATE INDEX statement."""

    name: str
    path: tuple[str, ...]  # the keyspace as written (1 to 3 parts)
    keys: tuple[IndexKey, ...] = ()
    where: A.Node | None = None
    where_text: str = ""
    statement: str = ""
    options: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def primary(self) -> bool:
        return not self.keys


def parse_create_index(statement: str) -> IndexDef:
    """Return the definition a CREATE [PRIMARY] INDEX statement describes."""
    if not isinstance(statement, str):
        raise SqlppError("statement must be a string")
    toks = tokenize(statement)
    p = _Cursor(statement, toks)
    p.expect("CREATE")
    primary = p.accept("PRIMARY")
    p.expect("INDEX")
    name = PRIMARY
    if p.accept("IF"):
        p.expect("NOT")
        p.expect("EXISTS")
    if not p.at("ON"):
        name = p.ident("index name")
    elif not primary:
        p.fail("CREATE INDEX needs an index name")
    if p.accept("IF"):
        p.expect("NOT")
        p.expect("EXISTS")
    p.expect("ON")
    path = [p.ident("keyspace")]
    while p.op("."):
        path.append(p.ident("keyspace"))
    if len(path) > 3:
        p.fail("a keyspace has at most three parts")
    keys: list[IndexKey] = []
    if not primary:
        if not p.op("("):
            p.fail("expected '(' and the index keys")
        for start, end in p.key_spans():
            keys.append(_key(statement, toks, start, end))
    where, where_text = None, ""
    if p.accept("WHERE"):
        start = p.i
        while p.peek().kind != "eof" and p.peek().upper not in ("USING", "WITH"):
            p.i += 1
        where_text = statement[toks[start].pos : p.peek().pos].strip()
        where = parse_expression(where_text)
    if p.accept("USING"):
        if p.peek().upper != "GSI":
            p.fail("only USING GSI indexes are supported")
        p.i += 1
    options: dict[str, Any] = {}
    if p.accept("WITH"):
        text = statement[p.peek().pos :].strip().rstrip(";")
        node = parse_expression(text)
        if not isinstance(node, A.ObjectCons):
            p.fail("WITH takes an object of options")
        p.i = len(toks) - 1
    if p.peek().kind == "op" and p.peek().value == ";":
        p.i += 1
    if p.peek().kind != "eof":
        p.fail(f"unexpected {p.peek().value!r}")
    return IndexDef(name, tuple(path), tuple(keys), where, where_text, statement.strip(), options)


def _key(text: str, toks: list[Token], start: int, end: int) -> IndexKey:
    words = [t.upper for t in toks[start:end]]
    include_missing = desc = False
    if len(words) >= 2 and words[-2:] == ["INCLUDE", "MISSING"]:
        include_missing, end = True, end - 2
        words = words[:-2]
    if words and words[-1] in ("ASC", "DESC"):
        desc, end = words[-1] == "DESC", end - 1
        words = words[:-1]
    if len(words) >= 2 and words[-2:] == ["INCLUDE", "MISSING"]:
        include_missing, end = True, end - 2
        words = words[:-2]
    array = distinct = False
    if words and words[0] in ("DISTINCT", "ALL") and len(words) > 1 and words[1] == "ARRAY":
        array, distinct = True, words[0] == "DISTINCT"
        start += 1
    elif words and words[0] == "ARRAY":
        array = True
    if start >= end:
        raise SqlppSyntaxError("an index key is empty", text, toks[start].pos)
    key_text = text[toks[start].pos : toks[end].pos].strip()
    expr = parse_expression(key_text)
    if array and not (isinstance(expr, A.Comprehension) and expr.kind == "array"):
        raise SqlppSyntaxError("an array index key is ARRAY expr FOR x IN path END", text, 0)
    shown = ("DISTINCT " if distinct else "ALL " if array and words[0] == "ALL" else "") + key_text
    return IndexKey(shown, expr, array, distinct, desc, include_missing)


class _Cursor:
    def __init__(self, text: str, toks: list[Token]) -> None:
        self.text, self.toks, self.i = text, toks, 0

    def peek(self) -> Token:
        return self.toks[self.i]

    def at(self, word: str) -> bool:
        return self.peek().upper == word

    def accept(self, word: str) -> bool:
        if self.at(word):
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            self.fail(f"expected {word}")

    def op(self, value: str) -> bool:
        t = self.peek()
        if t.kind == "op" and t.value == value:
            self.i += 1
            return True
        return False

    def ident(self, what: str) -> str:
        t = self.peek()
        if t.kind not in ("id", "qid"):
            self.fail(f"expected the {what}")
        self.i += 1
        return str(t.value)

    def fail(self, message: str) -> None:
        raise SqlppSyntaxError(message, self.text, self.peek().pos)

    def key_spans(self) -> list[tuple[int, int]]:
        """Return (start, end) token ranges of the keys up to the closing parenthesis."""
        spans, depth, start = [], 0, self.i
        while True:
            t = self.peek()
            if t.kind == "eof":
                self.fail("unbalanced parentheses in the index keys")
            if t.kind == "op" and t.value in ("(", "[", "{"):
                depth += 1
            elif t.kind == "op" and t.value in (")", "]", "}"):
                if depth == 0 and t.value == ")":
                    spans.append((start, self.i))
                    self.i += 1
                    return spans
                depth -= 1
            elif t.upper in _OPENERS and not self._is_call(self.i):
                depth += 1
            elif t.upper == "END":
                depth -= 1
            elif t.kind == "op" and t.value == "," and depth == 0:
                spans.append((start, self.i))
                start = self.i + 1
            self.i += 1

    def _is_call(self, i: int) -> bool:
        nxt = self.toks[i + 1]
        return nxt.kind == "op" and nxt.value == "("


def _no_subqueries(q: Any, ctx: Context, varying: frozenset[str]) -> Any:
    raise SqlppError("an index key or condition cannot hold a subquery")


class KeyEvaluator:
    """Compute the index entries (encoded keys) of documents for one definition."""

    def __init__(self, d: IndexDef) -> None:
        self.d = d
        ctx = Context(None, None, None, None, _no_subqueries)
        c = Compiler(ctx)
        self.keys = [c.compile(k.expr) for k in d.keys]
        self.array = [k.array for k in d.keys]
        self.where = c.compile(d.where) if d.where is not None else None
        self.lead_missing = bool(d.keys) and d.keys[0].include_missing

    def entries(self, doc: Any) -> set[bytes]:
        """Return the entries of one document (empty: the document is not indexed)."""
        env = {DEFAULT: doc}
        if self.where is not None and not truth(self.where(env)):
            return set()
        parts: list[list[bytes]] = []
        for i, (f, array) in enumerate(zip(self.keys, self.array, strict=True)):
            v = f(env)
            if array:
                items = v if type(v) is list else []
                encoded = list(dict.fromkeys(encode(x) for x in items if x is not MISSING))
                if not encoded:
                    if i == 0 and not self.lead_missing:
                        return set()
                    encoded = [encode(MISSING)]
                parts.append(encoded)
            else:
                if v is MISSING and i == 0 and not self.lead_missing:
                    return set()
                parts.append([encode(v)])
        out = [b""]
        for choices in parts:
            out = [prefix + c for prefix in out for c in choices]
        return set(out)
