"""Couchbase FTS (bleve) query strings, parsed into a small query tree.

The lexer and grammar follow bleve's ``query_string.y``: clauses are separated by spaces;
``+`` makes a clause required and ``-`` excluded, otherwise it is optional ("should": when
there is no required clause, at least one optional clause must match); ``field:`` scopes a
clause; ``"..."`` is a phrase; ``*`` and ``?`` make a wildcard, ``/re/`` a regexp; ``~N``
is fuzzy (default 1); ``field:>N``, ``>=``, ``<``, ``<=`` are numeric ranges (a quoted
value makes a date range); ``^N`` boosts a clause; ``\\`` escapes a reserved character.
Malformed input raises SearchError with what went wrong and where.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from catalog.search.results import SearchError

# Characters a backslash escapes; before any other character the backslash stays.
RESERVED = set('+-=&|><!(){}[]^"~*?:\\/ ')
# bleve refuses edit distances above 2.
MAX_FUZZINESS = 2


@dataclass
class Match:
    """Analysed text: any of its terms (``fuzziness`` edits allowed); ``number`` if numeric."""

    text: str
    field: str | None = None
    fuzziness: int = 0
    number: float | None = None
    boost: float = 1.0


@dataclass
class Phrase:
    """Analysed text whose terms must appear in order, next to each other."""

    text: str
    field: str | None = None
    boost: float = 1.0


@dataclass
class Wildcard:
    """A term pattern with ``*`` (any run) and ``?`` (one character), not analysed."""

    pattern: str
    field: str | None = None
    boost: float = 1.0


@dataclass
class Regexp:
    """A term matching a regular expression as a whole, not analysed."""

    pattern: str
    field: str | None = None
    boost: float = 1.0


@dataclass
class Range:
    """A numeric range (or a date range when ``dates``; bounds are then epoch seconds)."""

    field: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    dates: bool = False
    boost: float = 1.0


Leaf = Match | Phrase | Wildcard | Regexp | Range


@dataclass
class Boolean:
    """The whole query string: required, optional and excluded clauses."""

    must: list[Leaf] = field(default_factory=list)
    should: list[Leaf] = field(default_factory=list)
    must_not: list[Leaf] = field(default_factory=list)

    def is_empty(self) -> bool:
        """Return whether the query has no clause at all."""
        return not (self.must or self.should or self.must_not)


@dataclass
class Token:
    kind: str  # STRING PHRASE NUMBER PLUS MINUS COLON GT LT EQ BOOST TILDE
    text: str
    pos: int


def _fail(message: str, pos: int | None = None) -> SearchError:
    where = f" at position {pos + 1}" if pos is not None else ""
    return SearchError(f"invalid query string{where}: {message}")


def _unescape(ch: str) -> str:
    return ch if ch in RESERVED else "\\" + ch


_OPS = {"+": "PLUS", "-": "MINUS", ":": "COLON", ">": "GT", "<": "LT", "=": "EQ"}


def tokenize(text: str) -> list[Token]:
    """Return the tokens of a query string, as bleve's lexer cuts them."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            start, i, buf = i, i + 1, []
            while True:
                if i >= n:
                    raise _fail("unterminated quote", start)
                if text[i] == "\\" and i + 1 < n:
                    buf.append(_unescape(text[i + 1]))
                    i += 2
                elif text[i] == '"':
                    i += 1
                    break
                else:
                    buf.append(text[i])
                    i += 1
            tokens.append(Token("PHRASE", "".join(buf), start))
        elif ch in _OPS:
            tokens.append(Token(_OPS[ch], ch, i))
            i += 1
        elif ch in "^~":
            # like bleve, the boost or fuzziness runs up to the next space
            start, i = i, i + 1
            j = i
            while j < n and not text[j].isspace():
                j += 1
            value = text[i:j]
            if j == n and value.endswith("\\"):  # bleve drops a backslash that ends the input
                value = value[:-1]
            tokens.append(Token("BOOST" if ch == "^" else "TILDE", value, start))
            i = j
        else:
            start, buf, number, dot = i, [], True, False
            while i < n and not text[i].isspace() and text[i] not in ":^~":
                c = text[i]
                if c == "\\" and i + 1 < n:
                    buf.append(_unescape(text[i + 1]))
                    number = False
                    i += 2
                    continue
                if c == "\\":  # bleve drops a backslash that ends the input
                    i += 1
                    continue
                if c == "." and not dot:
                    dot = True
                elif not c.isdigit():
                    number = False
                buf.append(c)
                i += 1
            word = "".join(buf)
            kind = "NUMBER" if number and text[start].isdigit() else "STRING"
            if word:
                tokens.append(Token(kind, word, start))
    return tokens


def _number(token: Token) -> float:
    value = float(token.text)
    if not math.isfinite(value):
        raise _fail(f"{token.text!r} is not a finite number", token.pos)
    return value


def parse_date(text: str, pos: int | None = None) -> float:
    """Return the epoch seconds of an RFC 3339 date or date-time (UTC when no zone)."""
    value = text.strip()
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00") if value else value)
    except ValueError:
        raise _fail(
            f'invalid time {text!r}: use a date such as "2026-01-31" or "2026-01-31T10:00:00Z"',
            pos,
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


class _Parser:
    def __init__(self, tokens: list[Token], text: str):
        self.tokens, self.i, self.text = tokens, 0, text

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self, *kinds: str) -> Token | None:
        token = self.peek()
        if token is not None and token.kind in kinds:
            self.i += 1
            return token
        return None

    def expect(self, what: str, *kinds: str) -> Token:
        token = self.take(*kinds)
        if token is None:
            found = self.peek()
            if found is None:
                raise _fail(f"expected {what} at the end of the query", len(self.text) - 1)
            raise _fail(f"expected {what}, found {found.text!r}", found.pos)
        return token

    def parse(self) -> Boolean:
        query = Boolean()
        while self.peek() is not None:
            prefix = self.take("PLUS", "MINUS")
            leaf = self.base()
            boost = self.take("BOOST")
            if boost is not None:
                leaf.boost = self.boost(boost)
            if prefix is None:
                query.should.append(leaf)
            elif prefix.kind == "PLUS":
                query.must.append(leaf)
            else:
                query.must_not.append(leaf)
        return query

    def boost(self, token: Token) -> float:
        try:
            value = float(token.text or "1")
        except ValueError:
            value = math.nan
        if not math.isfinite(value):  # bleve takes negative boosts too (negative scores)
            raise _fail(f"invalid boost {token.text!r}: use ^ and a number, e.g. ^2", token.pos)
        return value

    def fuzziness(self, token: Token) -> int:
        try:
            value = float(token.text or "1")
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise _fail(f"invalid fuzziness {token.text!r}: use ~ alone or ~1, ~2", token.pos)
        if int(value) > MAX_FUZZINESS:
            raise _fail(f"fuzziness {int(value)} is over the maximum of {MAX_FUZZINESS}", token.pos)
        return int(value)

    def base(self) -> Leaf:
        token = self.peek()
        if token is None:
            raise _fail("a + or - needs a clause after it", len(self.text) - 1)
        if token.kind == "STRING" and (nxt := self.peek(1)) is not None and nxt.kind == "COLON":
            self.i += 2
            return self.scoped(token.text, token)
        self.i += 1
        if token.kind == "STRING":
            return self.string(token, None)
        if token.kind == "NUMBER":
            self.no_tilde(token)
            return Match(token.text, None, number=_number(token))
        if token.kind == "PHRASE":
            self.no_tilde(token)
            return Phrase(token.text, None)
        raise _fail(f"unexpected {token.text!r}", token.pos)

    def no_tilde(self, token: Token) -> None:
        tilde = self.peek()
        if tilde is not None and tilde.kind == "TILDE":
            raise _fail(f"~ applies to a single word, not to {token.text!r}", tilde.pos)

    def string(self, token: Token, name: str | None) -> Leaf:
        text = token.text
        tilde = self.take("TILDE")
        if tilde is not None:
            return Match(text, name, fuzziness=self.fuzziness(tilde))
        if text == "/":
            raise _fail("a lone / starts a regular expression that never ends", token.pos)
        if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
            return Regexp(text[1:-1], name)
        if "*" in text or "?" in text:
            return Wildcard(text, name)
        return Match(text, name)

    def scoped(self, name: str, name_token: Token) -> Leaf:
        value = self.peek()
        if value is None or value.kind not in ("STRING", "NUMBER", "PHRASE", "GT", "LT"):
            where = value.pos if value is not None else len(self.text) - 1
            raise _fail(f"'{name}:' needs a word, a \"phrase\" or a range after it", where)
        self.i += 1
        if value.kind == "STRING":
            return self.string(value, name)
        if value.kind == "NUMBER":
            self.no_tilde(value)
            return Match(value.text, name, number=_number(value))
        if value.kind == "PHRASE":
            self.no_tilde(value)
            return Phrase(value.text, name)
        inclusive = self.take("EQ") is not None
        negative = self.take("MINUS") is not None
        bound = self.peek()
        if (
            bound is None
            or bound.kind not in ("NUMBER", "PHRASE")
            or (negative and bound.kind == "PHRASE")
        ):
            where = bound.pos if bound is not None else len(self.text) - 1
            raise _fail(
                f"'{name}:{value.text}{'=' if inclusive else ''}' needs a number"
                ' or a quoted date after it, e.g. paramCount:>1000 or createdAt:>"2026-01-01"',
                where,
            )
        self.i += 1
        if bound.kind == "PHRASE":
            number, dates = parse_date(bound.text, bound.pos), True
        else:
            number, dates = _number(bound) * (-1 if negative else 1), False
        if value.kind == "GT":
            return Range(name, low=number, low_inclusive=inclusive, dates=dates)
        return Range(name, high=number, high_inclusive=inclusive, dates=dates)


def parse(text: str) -> Boolean:
    """Return the query tree of a Couchbase FTS query string; raise SearchError if malformed."""
    if not isinstance(text, str):
        raise SearchError(f"query string must be a string, not {type(text).__name__}")
    tokens = tokenize(text)
    if text and not tokens:  # bleve's parser refuses blanks ("" alone matches nothing)
        raise _fail("the query has nothing to search for", 0)
    return _Parser(tokens, text).parse()
