"""The registry's paged lists: models by name, versions newest first, counts, neighbours,
and the last move of an alias, each read by one named statement of queries.py."""

from __future__ import annotations

import pytest

from catalog.domain.queries import InvalidCursor, InvalidLimit, encode_cursor, parse_limit
from catalog.domain.registry import Registry
from tests.models import matmul_model

ONLINE = "breast-cancer-online"  # 6 versions in the demo catalog


def walk(read) -> list[list]:
    """Return the items of every page ``read(cursor)`` gives, page by page."""
    pages, cursor = [], None
    while True:
        page = read(cursor)
        pages.append(page.items)
        if page.next is None:
            return pages
        cursor = page.next


def test_versions_pages_walk_every_version_once_newest_first(demo_registry: Registry):
    reg = demo_registry
    pages = walk(lambda c: reg.versions_page(ONLINE, cursor=c, limit=4))
    assert [[v["version"] for v in p] for p in pages] == [[6, 5, 4, 3], [2, 1]]
    assert reg.list_versions(ONLINE) == [v for p in pages for v in p]
    assert pages[0][0]["aliases"] == ["latest"] and pages[0][0]["opTypes"]


def test_a_full_last_page_ends_with_an_empty_one(demo_registry: Registry):
    pages = walk(lambda c: demo_registry.versions_page(ONLINE, cursor=c, limit=3))
    assert [[v["version"] for v in p] for p in pages] == [[6, 5, 4], [3, 2, 1], []]


def test_models_pages_walk_every_model_once_by_name(demo_registry: Registry):
    reg = demo_registry
    pages = walk(lambda c: reg.models_page(cursor=c, limit=5))
    names = [m["name"] for p in pages for m in p]
    assert names == sorted(names) and len(names) == len(set(names)) == reg.model_count()
    assert all(len(p) == 5 for p in pages[:-1]) and len(pages[-1]) < 5
    online = next(m for p in pages for m in p if m["name"] == ONLINE)
    assert (online["version"], online["versions"]) == (6, 6)
    assert reg.list_models() == [m for p in pages for m in p]


def test_counts_and_neighbours(demo_registry: Registry):
    reg = demo_registry
    assert reg.version_count(ONLINE) == 6 and reg.version_count("never-published") == 0
    assert reg.version_counts([ONLINE, "iris-svc", "absent"]) == {
        ONLINE: 6,
        "iris-svc": 1,
        "absent": 0,
    }
    assert reg.previous_version(ONLINE, 6) == 5 and reg.previous_version(ONLINE, 1) is None
    assert reg.version_numbers(ONLINE, limit=2, before=4) == [2, 3]


def test_a_deleted_model_leaves_the_list_and_the_count(demo_registry: Registry):
    reg = demo_registry
    before = reg.model_count()
    reg.publish("gone", matmul_model(2, 2))
    assert reg.model_count() == before + 1
    reg.delete_version("gone", 1)
    assert reg.model_count() == before
    assert "gone" not in [m["name"] for m in reg.list_models()]


def test_rollback_reads_the_last_move_of_that_alias_only(demo_registry: Registry):
    reg = demo_registry
    reg.set_alias(ONLINE, "production", 2)
    reg.set_alias(ONLINE, "production", 5)
    for v in (1, 3, 4):  # moves of another alias after it: not read
        reg.set_alias(ONLINE, "staging", v)
    assert reg.rollback_target(ONLINE, "production", 5) == 2
    assert reg.rollback_target(ONLINE, "production", 4) is None  # moved since the page
    assert reg.rollback_target(ONLINE, "staging", 4) == 3
    assert reg.rollback_target(ONLINE, "canary", None) is None


@pytest.mark.parametrize(
    "cursor", ["!!", encode_cursor(["six"]), encode_cursor([6, 5]), encode_cursor({"v": 6})]
)
def test_a_versions_cursor_that_was_not_handed_out_is_refused(demo_registry, cursor):
    with pytest.raises(InvalidCursor, match="invalid cursor"):
        demo_registry.versions_page(ONLINE, cursor=cursor)


def test_page_sizes_are_whole_numbers_up_to_the_largest_page():
    assert parse_limit(None, 50) == 50 and parse_limit("", 50) == 50
    assert parse_limit("1", 50) == 1 and parse_limit("1000", 50) == 1000
    for bad in ("0", "1001", "-1", "2.5", "ten", "²", " 5"):
        with pytest.raises(InvalidLimit, match="limit must be"):
            parse_limit(bad, 50)
