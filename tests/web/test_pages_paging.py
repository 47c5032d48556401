"""Pages and APIs stay one page long whatever the number of versions (issue 15, point 4).

A catalog with 300 versions of one model and a dozen other models: one real publish through
the registry, then copies of that document with new version numbers written through the
store's ``upsert_many`` (as ``bench/bench_scale.py fill`` does). Every list is walked by
its cursor: every version exactly once, newest first, pages of the size asked for, the
count, the next link, bad cursors, and the size of the HTML.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from catalog.domain.keys import version_key
from catalog.domain.queries import encode_cursor
from catalog.domain.registry import Registry
from catalog.domain.tokens import create_token
from catalog.store import open_store
from catalog.web import versions as versions_view
from tests.models import matmul_model

BIG = "credit-default-online-learner"  # a realistic name: it is in every row's links
VERSIONS = 300
OTHERS = [f"m-{i:02d}" for i in range(11)]
MAX_HTML = 200_000


def _metric(version: int) -> float:
    return round(0.5 + version / (2 * VERSIONS), 4)


def build(path: Path) -> None:
    """Write the catalog: BIG with VERSIONS versions, and one version of each of OTHERS."""
    store = open_store(f"embedded://{path}")
    reg = Registry(store)
    reg.publish(BIG, matmul_model(4, 2), metadata={"metrics": {"accuracy": _metric(1)}})
    first, _ = store.get(reg.ks.models, version_key(BIG, 1))
    copies: dict[str, Any] = {}
    for v in range(2, VERSIONS + 1):
        doc = copy.deepcopy(first)
        doc |= {
            "version": v,
            "createdAt": f"2026-01-01T{v // 3600:02d}:{v // 60 % 60:02d}:{v % 60:02d}Z",
            "lineage": {"parent": v - 1, "batchId": f"b{v}", "rowsSeen": 10 * v},
        }
        doc["metadata"] = doc["metadata"] | {"metrics": {"accuracy": _metric(v)}}
        copies[version_key(BIG, v)] = doc
    for name in OTHERS:
        copies[version_key(name, 1)] = copy.deepcopy(first) | {"name": name}
    store.upsert_many(reg.ks.models, copies)
    aliases = {"latest": VERSIONS, "production": VERSIONS - 1}
    store.upsert(reg.ks.aliases, BIG, {"name": BIG, "aliases": aliases, "maxVersion": VERSIONS})
    for name in OTHERS:
        entry = {"name": name, "aliases": {"latest": 1}, "maxVersion": 1}
        store.upsert(reg.ks.aliases, name, entry)
    store.close()


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("paging") / "catalog.sqlite3"
    build(path)
    return path


@pytest.fixture
def client(catalog_file) -> Iterator[Client]:
    """A client of the 300-version catalog (read only: every test shares the file)."""
    with override_settings(CATALOG_STORE=f"embedded://{catalog_file}"):
        yield Client()


def walk_json(client: Client, url: str) -> list[dict[str, Any]]:
    """Follow ``nextUrl`` from ``url``; return each page's JSON body."""
    pages = []
    while url:
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.content[:300])
        body = answer.json()
        pages.append(body)
        assert len(pages) < 100, "the pages do not end"
        url = body["nextUrl"]
        if url:
            assert body["next"] and f"cursor={body['next']}" in url
    return pages


def html(answer: Any) -> str:
    assert answer.status_code == 200, answer.content[:300]
    assert len(answer.content) <= MAX_HTML, len(answer.content)
    return answer.content.decode()


def next_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)"[^>]*rel="next"', page)
    return unescape(found.group(1)).split("#")[0] if found else None


# -- the versions page ----------------------------------------------------------------------


def test_the_versions_json_pages_hold_every_version_once_newest_first(client):
    pages = walk_json(client, f"/models/{BIG}/versions?format=json&limit=70")
    assert [len(p["history"]) for p in pages] == [70, 70, 70, 70, 20]
    assert all(p["total"] == VERSIONS for p in pages)
    versions = [r["version"] for p in pages for r in p["history"]]
    assert versions == list(range(VERSIONS, 0, -1))
    assert all(r["metric"] == _metric(r["version"]) for p in pages for r in p["history"])
    assert pages[-1]["next"] is None and pages[-1]["nextUrl"] is None


def test_the_versions_json_pages_hold_the_full_learning_curve_at_the_largest_page_size(client):
    pages = walk_json(client, f"/models/{BIG}/versions?format=json&limit=1000")
    assert len(pages) == 1 and len(pages[0]["history"]) == VERSIONS


def test_the_versions_page_is_paged_and_says_how_many(client):
    url: str | None = f"/models/{BIG}/versions"
    seen: list[int] = []
    pages = 0
    while url:
        page = html(client.get(url))
        pages += 1
        assert f"{VERSIONS} versions" in page
        rows = [int(v) for v in re.findall(r'<tr[^>]*data-version="(\d+)"', page)]
        assert len(rows) == versions_view.VERSIONS_PAGE
        seen.extend(rows)
        url = next_link(page)
        assert pages < 20
    assert seen == list(range(VERSIONS, 0, -1))
    assert pages == VERSIONS // versions_view.VERSIONS_PAGE
    # The last row of each page links its diff to the first row of the next page.
    first = html(client.get(f"/models/{BIG}/versions"))
    older = VERSIONS - versions_view.VERSIONS_PAGE
    assert f"?a={older}&amp;b={older + 1}" in first


def test_a_writers_page_stays_one_small_page_whatever_limit_it_asks(client, db):
    client.force_login(User.objects.create_user("writer", is_staff=True))
    page = html(client.get(f"/models/{BIG}/versions", {"limit": 1000}))
    assert "Promote</button>" in page
    assert len(re.findall(r"<tr[^>]*data-version=", page)) == versions_view.VERSIONS_PAGE
    twin = client.get(f"/models/{BIG}/versions", {"limit": 1000, "format": "json"}).json()
    assert len(twin["history"]) == VERSIONS


def test_the_learning_curve_draws_a_bounded_window(client, monkeypatch):
    # a window just as long as the history: every version
    monkeypatch.setattr(versions_view, "CURVE_SAMPLED", VERSIONS - versions_view.CURVE_RECENT)
    page = html(client.get(f"/models/{BIG}/versions"))
    assert page.count('class="dot"') == VERSIONS
    monkeypatch.setattr(versions_view, "CURVE_RECENT", 40)
    monkeypatch.setattr(versions_view, "CURVE_SAMPLED", 30)
    page = html(client.get(f"/models/{BIG}/versions"))
    assert page.count('class="dot"') == 70
    assert "the newest 40 and 30 older ones sampled evenly of 300" in page
    dots = [int(v) for v in re.findall(r"<title>v(\d+):", page)]
    # The newest 40, and 30 of the 260 older ones from v1 to v260, evenly spaced.
    older = [1 + round(i * 259 / 29) for i in range(30)]
    assert dots == older + list(range(VERSIONS - 39, VERSIONS + 1))
    assert older[0] == 1 and older[-1] == VERSIONS - 40
    # A later page draws the same curve, not its own rows.
    later = html(client.get(next_link(page)))
    assert [int(v) for v in re.findall(r"<title>v(\d+):", later)] == dots


@pytest.mark.parametrize("recent", [30, 50, 51, 52, 100])
def test_the_first_page_reuses_its_rows_for_the_curve_and_draws_the_same(
    client, monkeypatch, recent
):
    """The first page's newest rows serve the curve's newest (the rest read after them);
    a later page reads the newest itself: both draw the same dots."""
    monkeypatch.setattr(versions_view, "CURVE_RECENT", recent)
    monkeypatch.setattr(versions_view, "CURVE_SAMPLED", 40)
    first = html(client.get(f"/models/{BIG}/versions"))
    dots = [int(v) for v in re.findall(r"<title>v(\d+):", first)]
    assert dots[-recent:] == list(range(VERSIONS - recent + 1, VERSIONS + 1))
    assert len(dots) == recent + 40
    later = html(client.get(next_link(first)))
    assert [int(v) for v in re.findall(r"<title>v(\d+):", later)] == dots


def test_a_history_just_over_the_window_draws_every_version(client, monkeypatch):
    monkeypatch.setattr(versions_view, "CURVE_RECENT", 200)
    monkeypatch.setattr(versions_view, "CURVE_SAMPLED", 150)  # the 100 older ones fit
    page = html(client.get(f"/models/{BIG}/versions?cursor=" + encode_cursor([250])))
    assert [int(v) for v in re.findall(r"<title>v(\d+):", page)] == list(range(1, VERSIONS + 1))


# -- the model page, the model list, diff, OIP metadata --------------------------------------


def test_the_model_page_lists_the_newest_versions_and_counts_the_rest(client):
    body = client.get(f"/models/{BIG}/", {"format": "json"}).json()
    assert [v["version"] for v in body["versions"]] == list(range(VERSIONS, VERSIONS - 10, -1))
    assert body["versionCount"] == VERSIONS and body["versionsUrl"] == f"/models/{BIG}/versions"
    assert body["versions"][1]["aliases"] == ["production"]
    page = html(client.get(f"/models/{BIG}/"))
    assert f"and {VERSIONS - 10} older versions" in page


def test_the_model_list_pages_hold_every_model_once_by_name(client):
    pages = walk_json(client, "/models/?format=json&limit=5")
    assert [len(p["models"]) for p in pages] == [5, 5, 2]
    assert [m["name"] for p in pages for m in p["models"]] == sorted([BIG, *OTHERS])
    assert all(p["total"] == 1 + len(OTHERS) for p in pages)
    big = next(m for p in pages for m in p["models"] if m["name"] == BIG)
    assert (big["version"], big["versions"]) == (VERSIONS, VERSIONS)


def test_the_model_list_sends_the_same_few_statements_whatever_the_page_size(client, monkeypatch):
    from catalog.store import get_store

    store = get_store()
    sent: list[str] = []
    query = store.query
    monkeypatch.setattr(
        store,
        "query",
        lambda statement, *a, **k: sent.append(statement) or query(statement, *a, **k),
    )
    small = client.get("/models/", {"limit": 2, "format": "json"}).json()
    few = list(sent)
    sent.clear()
    whole = client.get("/models/", {"limit": 12, "format": "json"}).json()
    assert len(small["models"]) == 2 and len(whole["models"]) == 12
    # names, their listing fields, their version counts (one GROUP BY), the model count
    assert sorted(sent) == sorted(few) and len(sent) == 4
    assert {m["name"]: m["versions"] for m in whole["models"]} == {BIG: VERSIONS} | dict.fromkeys(
        OTHERS, 1
    )


def test_the_model_list_page_links_the_next_page(client):
    page = html(client.get("/models/", {"limit": 5}))
    assert f"{1 + len(OTHERS)} models" in page
    seen = re.findall(r'<h2><a href="/models/([^/]+)/">', page)
    link = next_link(page)
    while link:
        page = html(client.get(link))
        seen += re.findall(r'<h2><a href="/models/([^/]+)/">', page)
        link = next_link(page)
    assert seen == sorted([BIG, *OTHERS])
    assert "First models" in page


def test_the_default_diff_compares_the_newest_two_and_offers_a_bounded_menu(client):
    page = html(client.get(f"/models/{BIG}/diff"))
    menu = re.search(r'<select id="id_a" name="a">(.*?)</select>', page, re.S).group(1)
    offered = [int(v) for v in re.findall(r'value="(\d+)"', menu)]
    assert offered == list(range(VERSIONS, VERSIONS - versions_view.DIFF_CHOICES, -1))
    assert 'value="299" selected' in menu and menu.count("selected") == 1
    menu_b = re.search(r'<select id="id_b" name="b">(.*?)</select>', page, re.S).group(1)
    assert f'<option value="{VERSIONS}" selected>v{VERSIONS}</option>' in menu_b
    assert menu_b.count("selected") == 1
    old = html(client.get(f"/models/{BIG}/diff", {"a": 1, "b": 2}))
    menu = re.search(r'<select id="id_a" name="a">(.*?)</select>', old, re.S).group(1)
    assert 'value="1" selected' in menu and 'value="2"' in menu


def test_the_oip_metadata_lists_the_newest_100_versions(client):
    body = client.get(f"/v2/models/{BIG}").json()
    assert body["versions"] == [str(v) for v in range(VERSIONS - 99, VERSIONS + 1)]
    assert body["parameters"] == {"version": str(VERSIONS)}


def test_the_prediction_page_of_the_newest_version_is_small(client):
    page = html(client.get(f"/models/{BIG}/predict"))
    assert f"v{VERSIONS}" in page


# -- bad cursors and page sizes --------------------------------------------------------------

BAD_PAGES = [
    ("cursor", "!!"),
    ("cursor", "bm90IGpzb24"),  # base64 of "not json"
    ("cursor", "a key of the wrong type"),
    ("cursor", encode_cursor([1, 2])),
    ("limit", "0"),
    ("limit", "1001"),
    ("limit", "ten"),
    ("limit", "²"),
]


@pytest.mark.parametrize("param,value", BAD_PAGES)
@pytest.mark.parametrize("path", [f"/models/{BIG}/versions", "/models/"])
def test_a_bad_cursor_or_page_size_is_a_400(client, path, param, value):
    if value == "a key of the wrong type":  # versions page by number, models by name
        value = encode_cursor(["v3"] if "versions" in path else [3])
    twin = client.get(path, {param: value, "format": "json"})
    assert twin.status_code == 400
    body = twin.json()
    assert body["status"] == 400 and param in body["error"]
    page = client.get(path, {param: value})
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    assert param in page.content.decode()


def test_a_cursor_of_the_audit_log_is_checked_too(client):
    answer = client.get(f"/models/{BIG}/versions", {"audit": "!!", "format": "json"})
    assert answer.status_code == 400 and "cursor" in answer.json()["error"]


def test_the_alias_moves_are_paged_newest_first(catalog_store, monkeypatch):
    from catalog.domain.registry import get_registry

    reg = get_registry()
    for seed in range(3):
        reg.publish("mm", matmul_model(4, 2, seed=seed))
    moves = [1, 2, 3, 1, 2]
    for version in moves:
        reg.set_alias("mm", "production", version)
    monkeypatch.setattr(versions_view, "AUDIT_PAGE", 2)
    url, seen, client = "/models/mm/versions?format=json", [], Client()
    while url:
        body = client.get(url).json()
        assert len(body["audit"]) <= 2
        seen += [a["to"] for a in body["audit"]]
        url = body["auditNextUrl"]
    assert seen == moves[::-1]
    page = html(client.get("/models/mm/versions"))
    assert "Older moves" in page


# -- logged predictions ---------------------------------------------------------------------


@pytest.fixture
def logged(catalog_store, db) -> tuple[Registry, str]:
    """A catalog with 7 logged predictions of ``mm`` and one of another model; a staff token."""
    from catalog.domain.registry import get_registry

    reg = get_registry()
    reg.publish("mm", matmul_model(4, 2))
    reg.store.ensure_keyspace(reg.ks.predictions)
    for i in range(7):
        doc = {"id": f"p{i}", "model": "mm", "version": 1, "at": f"2026-01-01T00:00:0{i % 3}Z"}
        reg.store.insert(reg.ks.predictions, f"p{i}", doc | {"outputs": [], "inputs": [i]})
    reg.store.insert(reg.ks.predictions, "q0", {"id": "q0", "model": "other", "at": "2027"})
    User.objects.create_user("alice", is_staff=True)
    return reg, create_token("alice")


def test_logged_predictions_are_paged_newest_first(logged):
    _, token = logged
    client = Client(headers={"Authorization": f"Bearer {token}"})
    pages = walk_json(client, "/api/models/mm/predictions?limit=3")
    rows = [r for p in pages for r in p["predictions"]]
    assert [len(p["predictions"]) for p in pages] == [3, 3, 1]
    assert [(r["at"][-3:], r["id"]) for r in rows] == sorted(
        ((f"0{i % 3}Z", f"p{i}") for i in range(7)), reverse=True
    )
    assert all("inputs" not in r for r in rows)
    bad = client.get("/api/models/mm/predictions", {"cursor": "!!"})
    assert bad.status_code == 400 and bad.json()["status"] == 400


def test_logged_predictions_are_for_writers_only(logged):
    answer = Client().get("/api/models/mm/predictions")
    assert answer.status_code == 401 and answer["Content-Type"].startswith("application/json")
