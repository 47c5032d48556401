"""Couchbase's reserved words: refused unescaped where Couchbase refuses them, fine escaped."""

from __future__ import annotations

import pytest

from catalog import sqlpp
from catalog.sqlpp import SqlppSyntaxError
from catalog.sqlpp.keywords import KEYWORDS, RESERVED

DOC = [{"at": 1, "user": "u", "order": 2, "value": 3, "type": "t", "name": "n"}]


class Docs:
    def keyspace_exists(self, keyspace):
        return keyspace.split(".")[0] == "audit"

    def scan(self, keyspace):
        for i, d in enumerate(DOC):
            yield str(i), d, 1

    def fetch(self, keyspace, keys):
        return []


def run(statement: str) -> list:
    return sqlpp.execute(statement, source=Docs())


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT a.at FROM audit a",  # AT is reserved since Couchbase 7.2
        "SELECT a.name FROM audit a ORDER BY a.at DESC",
        "SELECT a.value FROM audit a",
        "SELECT at FROM audit a",
        "SELECT a.name FROM audit AS at",
        "SELECT x FROM audit a LET select = 1",
        "SELECT a.name FROM audit a WHERE ANY at IN [1] SATISFIES at = 1 END",
        "SELECT a.x.self FROM audit a",
    ],
)
def test_a_reserved_word_is_refused_unescaped(statement):
    with pytest.raises(SqlppSyntaxError):
        run(statement)


def test_escaped_reserved_words_and_permitted_keywords_work():
    rows = run("SELECT a.`at`, a.`value`, a.`user`, a.user AS u2, a.type, a.`order` FROM audit a")
    assert rows == [{"at": 1, "value": 3, "user": "u", "u2": "u", "type": "t", "order": 2}]
    assert run("SELECT `at`.name FROM audit AS `at`") == [{"name": "n"}]
    assert run("SELECT RAW a.name FROM audit a ORDER BY a.`at` DESC") == ["n"]


def test_the_keyword_list_is_couchbases():
    assert {"AT", "SELF", "VALUE", "STRING", "PATH", "LEVEL", "WINDOW"} <= RESERVED
    assert {"USER", "TYPE", "DEFAULT", "SOURCE", "ORDER"} & RESERVED == set()
    assert len(KEYWORDS) == 238
