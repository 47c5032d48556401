"""The versions page's history rows, written in Python: the markup the template had, every
value escaped, the write actions only for writers and not on the serving version."""

from __future__ import annotations

from catalog.web.history_table import RowLinks, history_rows

LINKS = RowLinks(
    model_url="/models/m/",
    diff_url="/models/m/diff",
    promote_url="/models/m/promote",
    serving_alias="production",
    serving=2,
    can_write=True,
    csrf_token="tok",
)


def _row(**fields: object) -> dict[str, object]:
    return {
        "version": 3,
        "createdAt": "2026-11-25T03:02:32.536Z",
        "metric": 0.93456,
        "rowsSeen": 12000,
        "parent": 2,
        "batchId": "b3",
        "aliases": ["latest"],
        "older": 2,
    } | fields


def test_a_row_links_its_version_parent_diff_and_drift_and_shows_its_numbers() -> None:
    html = history_rows([_row()], LINKS)
    assert html.startswith('<tr data-version="3"><td><a href="/models/m/v/3/">v3</a></td>')
    assert '<time datetime="2026-11-25T03:02:32.536Z">2026-11-25 03:02 UTC</time>' in html
    assert '<td class="num">0.9346</td><td class="num">12,000</td>' in html
    assert '<td><a href="/models/m/v/2/">v2</a></td><td><code>b3</code></td>' in html
    assert '<span class="alias">latest</span>' in html
    assert 'href="/models/m/diff?a=2&amp;b=3" aria-label="Diff v2 to v3">Diff</a> · ' in html
    assert 'href="?v=3#drift-title"' in html
    assert '<input type="hidden" name="csrfmiddlewaretoken" value="tok">' in html
    assert '<input type="hidden" name="version" value="3"><input type="hidden"' in html


def test_every_value_from_a_document_is_escaped() -> None:
    hostile = '<script>alert("x")</script>'
    html = history_rows(
        [
            _row(
                batchId=hostile,
                aliases=[hostile],
                createdAt=hostile,
                metric=hostile,
                parent=hostile,
            )
        ],
        LINKS,
    )
    assert "<script>" not in html
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 6


def test_the_serving_version_is_marked_and_only_writers_get_the_promote_form() -> None:
    html = history_rows([_row(version=2, older=1)], LINKS)
    assert html.startswith('<tr class="current" data-version="2">')
    assert "<form" not in html  # already serving
    reader = RowLinks(**{**LINKS.__dict__, "can_write": False, "csrf_token": ""})
    assert "<form" not in history_rows([_row()], reader)


def test_missing_fields_show_a_dash_and_the_oldest_row_has_no_diff() -> None:
    html = history_rows([_row(parent=None, batchId=None, metric=None, older=None)], LINKS)
    assert html.count('<span class="muted">—</span>') == 2
    assert '<td class="num">—</td>' in html
    assert "Diff" not in html
