"""Terms for the embedded search: analysis, edit distance, wildcard and vocabulary expansion."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import re2

from catalog.search.results import SearchError, SearchLimitExceeded

# bleve's Unicode word rules (UAX #29) keep "package's", "model.onnx" and "1,000.5" whole,
# where FTS5 would cut them: standard-analysed text is indexed with such a joining mark
# replaced by a private character FTS5 keeps inside words, and put back for display.
_JOINERS = {".": "\ue000", ":": "\ue001", "'": "\ue002", "\u2019": "\ue003", ",": "\ue004"}
_JOINERS[";"] = "\ue005"
# Stands between the values of an array in an FTS5 column: a token no phrase crosses.
ARRAY_GAP = "\ue00f"
_SHOWN = str.maketrans({v: k for k, v in _JOINERS.items()} | {ARRAY_GAP: "\u00b7"})
_BETWEEN_LETTERS = re.compile(r"(?<=[^\W\d_])([.:'\u2019])(?=[^\W\d_])")
_BETWEEN_DIGITS = re.compile(r"(?<=\d)([.,;'\u2019])(?=\d)")
_KEPT = "_" + "".join(_JOINERS.values()) + ARRAY_GAP
# FTS5 tokenizers standing in for Couchbase's analyzers ("keyword" does not tokenize).
# bleve's unicode tokenizer keeps "conv_1" whole (UAX #29), hence tokenchars '_'.
TOKENIZERS = {
    "standard": f"unicode61 remove_diacritics 0 tokenchars '{_KEPT}'",
    "en": f"porter unicode61 remove_diacritics 0 tokenchars '_{ARRAY_GAP}'",
}
# bleve stops a query from expanding past this many terms (Couchbase: bleveMaxClauseCount).
MAX_EXPANSION = 1024
# Terms all the fuzzy, wildcard and regexp clauses of one query may expand to, together.
MAX_QUERY_EXPANSION = 4096
# Time limit of one search, in seconds.
SEARCH_TIMEOUT_S = 5.0
# Candidates compared between two looks at the clock.
_CHECK_EVERY = 256
# How many vocabularies stay cached (one per connection state).
VOCAB_CACHE_SIZE = 8

T = TypeVar("T")

_WORD = re.compile(r"[\w\ue000-\ue00f]+")

# bleve's stop_en token filter: the Snowball English list, applied by "standard" and "en".
_STOP_EN = """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which who
    whom this that these those am is are was were be been being have has had having do does did
    doing would should could ought i'm you're he's she's it's we're they're i've you've we've
    they've i'd you'd he'd she'd we'd they'd i'll you'll he'll she'll we'll they'll isn't aren't
    wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't shan't shouldn't
    can't cannot couldn't mustn't let's that's who's what's here's there's when's where's why's
    how's a an the and but if or because as until while of at by for with about against between
    into through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some
    such no nor not only own same so than too very"""
STOP_WORDS = frozenset(_STOP_EN.split())


def joined(text: str) -> str:
    """Return ``text`` with the marks UAX #29 keeps inside a word made FTS5 word characters."""
    text = _BETWEEN_LETTERS.sub(lambda m: _JOINERS[m.group(1)], text)
    return _BETWEEN_DIGITS.sub(lambda m: _JOINERS[m.group(1)], text)


def shown(text: str) -> str:
    """Return indexed text (or a term) as the user wrote it."""
    return text.translate(_SHOWN)


def is_stop(term: str) -> bool:
    """Return whether bleve's stop filter drops a term."""
    return shown(term) in STOP_WORDS


def words(text: str, join: bool = True) -> list[str]:
    """Return the lower-cased tokens of ``text`` as the FTS5 tokenizers cut them.

    ``join``: as the standard analyzer (UAX #29 joins); the ``en`` tables do not join.
    """
    return _WORD.findall((joined(text) if join else text).lower())


def match_terms(text: str, join: bool = True) -> list[str]:
    """Return the tokens a match query searches (stop words dropped, as bleve does)."""
    return [w for w in words(text, join) if not is_stop(w)]


def indexed(vocabulary: Iterable[str]) -> set[str]:
    """Return the terms of an FTS5 vocabulary that bleve's index holds (no stop words)."""
    return {t for t in vocabulary if t != ARRAY_GAP and not is_stop(t)}


def quote(term: str) -> str:
    """Return ``term`` as an FTS5 string literal."""
    return '"' + term.replace('"', '""') + '"'


def within(a: str, b: str, distance: int) -> bool:
    """Return whether ``a`` and ``b`` are at most ``distance`` edits apart.

    An edit is an insertion, a deletion, a substitution or the transposition of two
    neighbours, as bleve's Levenshtein automaton counts them (``lael~2`` finds "real").
    """
    if abs(len(a) - len(b)) > distance:
        return False
    if a == b:
        return True
    if distance == 0:
        return False
    if distance == 1:
        if len(a) == len(b):
            diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
            return len(diffs) == 1 or (
                len(diffs) == 2
                and diffs[1] == diffs[0] + 1
                and a[diffs[0]] == b[diffs[1]]
                and a[diffs[1]] == b[diffs[0]]
            )
        short, long = (a, b) if len(a) < len(b) else (b, a)
        i = 0
        while i < len(short) and short[i] == long[i]:
            i += 1
        return short[i:] == long[i + 1 :]
    before: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if before is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > distance:
            return False
        before, previous = previous, current
    return previous[-1] <= distance


class Budget:
    """What one query may still spend: time before its deadline, terms its expansions add."""

    def __init__(
        self, timeout_s: float = SEARCH_TIMEOUT_S, max_terms: int = MAX_QUERY_EXPANSION
    ) -> None:
        self.timeout_s, self.max_terms = timeout_s, max_terms
        self.deadline = time.monotonic() + timeout_s
        self.terms_left = max_terms

    def expired(self) -> bool:
        """Return whether the deadline has passed."""
        return time.monotonic() > self.deadline

    def check(self) -> None:
        """Raise SearchLimitExceeded once the deadline has passed."""
        if self.expired():
            raise SearchLimitExceeded(
                f"the search ran over its time limit of {self.timeout_s:g} s;"
                " use fewer fuzzy, wildcard or regexp terms"
            )

    def spend(self, count: int) -> None:
        """Count ``count`` expanded terms; raise SearchLimitExceeded past the query's budget."""
        self.terms_left -= count
        if self.terms_left < 0:
            raise SearchLimitExceeded(
                f"the query's fuzzy, wildcard and regexp terms expand to more than"
                f" {self.max_terms} terms in all; make them more specific or use fewer"
            )


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


_RE2_OPTIONS = _re2_options()


def wildcard_regex(pattern: str) -> Any:
    """Return an RE2 regex for a bleve wildcard (``*`` any run, ``?`` one character)."""
    parts = (
        "." if c == "?" else ".*" if c == "*" else c if c.isalnum() else f"\\x{{{ord(c):x}}}"
        for c in pattern
    )
    return re2.compile("(?s)" + "".join(parts), _RE2_OPTIONS)


def user_regex(pattern: str) -> Any:
    """Return the RE2 regex of a ``/.../`` query (linear time, Go's syntax), or raise SearchError."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as e:
        detail = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise SearchError(f"invalid regular expression /{pattern}/: {detail}") from None


def expand(
    candidates: Iterable[str],
    *,
    fuzzy: tuple[str, int] | None = None,
    regex: Any = None,
    budget: Budget | None = None,
) -> list[str]:
    """Return the candidate terms within an edit distance of a term, or matching a regex."""
    if fuzzy is not None:
        term, distance = fuzzy

        def keep(t: str) -> bool:
            return within(term, t, distance)
    elif regex is not None:

        def keep(t: str) -> bool:
            return regex.fullmatch(t) is not None
    else:

        def keep(t: str) -> bool:
            return True

    out: list[str] = []
    for i, candidate in enumerate(candidates):
        if budget is not None and i % _CHECK_EVERY == 0:
            budget.check()
        if keep(candidate):
            out.append(candidate)
    if len(out) > MAX_EXPANSION:
        raise SearchError(
            f"the query expands to {len(out)} terms, over the limit of {MAX_EXPANSION};"
            " make the wildcard, regexp or fuzzy term more specific"
        )
    if budget is not None:
        budget.spend(len(out))
    return out


class Remembered:
    """Values worked out from the index alone, kept under a state that changes with every
    write (``VocabCache.state``), at most ``size`` of them: the oldest go first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """Return the value remembered under ``key``, or ``make()``'s, remembered."""
        found = self._entries.get(key)
        if found is None:
            found = make()
            with self._lock:
                if len(self._entries) >= self.size:
                    self._entries.pop(next(iter(self._entries)))
                self._entries[key] = found
        return found


class VocabCache:
    """Per-column vocabularies of the FTS5 tables, valid until the next write."""

    def __init__(self) -> None:
        self._entries = Remembered(VOCAB_CACHE_SIZE)

    @staticmethod
    def state(conn: sqlite3.Connection, given: Hashable | None = None) -> Hashable:
        """Return ``given`` (the store's change token, which no other connection or write
        shares), else the connection's own view of the file's changes."""
        if given is not None:
            return given
        data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        files = tuple(r[2] for r in conn.execute("PRAGMA database_list"))
        return (id(conn), files, data_version, conn.total_changes)

    def columns(
        self, conn: sqlite3.Connection, table: str, state: Hashable | None = None
    ) -> dict[str, list[str]]:
        """Return {column: terms} of an FTS5 table's vocabulary."""

        def read() -> dict[str, list[str]]:
            out: dict[str, list[str]] = {}
            for term, column in conn.execute(f"SELECT term, col FROM {table}_vocab"):
                out.setdefault(column, []).append(term)
            return out

        return self._entries.get((self.state(conn, state), table), read)

    def terms(
        self,
        conn: sqlite3.Connection,
        table: str,
        columns: Iterable[str],
        state: Hashable | None = None,
    ) -> set[str]:
        """Return the distinct terms of some columns of an FTS5 table."""
        vocab = self.columns(conn, table, state)
        out: set[str] = set()
        for column in columns:
            out.update(vocab.get(column, ()))
        return out


_tokens: dict[tuple[str, str], list[str]] = {}


def porter(conn: sqlite3.Connection, text: str) -> list[str]:
    """Return the terms the "en" tokenizer (FTS5 porter) makes of ``text``."""
    return tokens(conn, "en", text)


def tokens(conn: sqlite3.Connection, analyzer: str, text: str) -> list[str]:
    """Return the terms the FTS5 tokenizer of an analyzer ("en", "standard") makes of ``text``."""
    cached = _tokens.get((analyzer, text))
    if cached is not None:
        return cached
    tokenizer = TOKENIZERS[analyzer].replace("'", "''")
    name = "fts_stemmer" if analyzer == "en" else f"fts_tokens_{analyzer}"
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{name} USING fts5(x, tokenize='{tokenizer}')"
    )
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{name}_vocab"
        f" USING fts5vocab(temp, {name}, 'instance')"
    )
    conn.execute(f"DELETE FROM temp.{name}")
    conn.execute(f"INSERT INTO temp.{name} (x) VALUES (?)", (text,))
    found = [r[0] for r in conn.execute(f"SELECT term FROM temp.{name}_vocab ORDER BY offset")]
    conn.execute(f"DELETE FROM temp.{name}")
    if len(_tokens) > 10_000:
        _tokens.clear()
    _tokens[(analyzer, text)] = found
    return found
