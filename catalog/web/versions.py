"""A model's versions: history, learning curve, weight drift, alias moves, and diffs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from catalog.domain import weights
from catalog.domain.queries import Page as HistoryPage
from catalog.domain.queries import encode_cursor
from catalog.domain.registry import LATEST, ModelNotFound, Registry, get_registry
from catalog.store import Conflict
from catalog.web import charts, history, modeldiff
from catalog.web.browse import version_context
from catalog.web.forms import DiffForm, PromoteForm, RollbackForm
from catalog.web.history_table import RowLinks, history_rows
from catalog.web.listing import Skipped, next_url, page_request
from catalog.web.permissions import can_write, read_access, write_access
from catalog.web.responses import error_response, json_response, wants_json
from catalog.web.twins import Page, twin
from inference.learning_history import history_at, learning_history

# Alias moves shown per page of the audit log.
AUDIT_PAGE = 50
# Versions per page of the history table (and at most on the HTML page; the JSON twin takes
# ``?limit=`` up to queries.MAX_PAGE).
VERSIONS_PAGE = 50
# The learning curve draws the newest CURVE_RECENT versions and, of a longer history,
# CURVE_SAMPLED older versions sampled evenly from the oldest on (the whole history's shape
# at a bounded cost); the JSON pages hold every version. The newest are the history table's
# page, read once for both; 150 points is about as many as the chart's 650 units of width
# show apart (a dot is 8 wide). 250 points (100 and 150) cost the page a fifth more.
CURVE_RECENT = VERSIONS_PAGE
CURVE_SAMPLED = 100
# Versions offered in the diff form's menus (the newest ones, and the two compared).
DIFF_CHOICES = 100
# The alias the rollback button moves.
SERVING_ALIAS = "production"


@require_safe
@read_access
@twin
def versions(request: HttpRequest, name: str) -> Page:
    """Return a page of the history of a model, newest first (``?cursor=`` continues),
    with its learning curve (the newest versions and older ones sampled: ``_curve``), weight
    drift and audit log.
    """
    reg = get_registry()
    ctx = version_context(reg, name, LATEST)
    skipped = Skipped(f"versions of {name}")
    cursor, size = page_request(request, VERSIONS_PAGE, html_max=VERSIONS_PAGE)
    # One row more than the page: the version before the last row, for its diff link. The
    # HTML first page reads the learning curve's newest versions with it, in one statement.
    curve_too = cursor is None and not wants_json(request)
    limit = max(size + 1, CURVE_RECENT) if curve_too else size + 1
    page = learning_history(reg, name, cursor=cursor, limit=limit, newest_first=True)
    rows = _newest_first(page.items[: size + 1], name, skipped)
    shown = rows[:size]
    next_cursor = encode_cursor([shown[-1]["version"]]) if len(rows) > size else None
    total = reg.version_count(name)
    drift_version = _drift_version(request, reg, name, ctx["info"]["version"])
    previous = reg.previous_version(name, drift_version)
    drift: list[dict[str, Any]] = []
    if previous is not None:
        drift = weights.weight_drift(reg, name, previous, drift_version)
    audit = reg.alias_history(name, cursor=request.GET.get("audit") or None, limit=AUDIT_PAGE)
    current = ctx["aliases"].get(SERVING_ALIAS)
    target = reg.rollback_target(name, SERVING_ALIAS, current)
    data = {
        "name": name,
        "total": total,
        "history": shown,
        "next": next_cursor,
        "nextUrl": next_url(request, next_cursor),
        "aliases": ctx["aliases"],
        "drift": {"version": drift_version, "previous": previous, "initializers": drift},
        "audit": audit.items,
        "auditNext": audit.next,
        "auditNextUrl": next_url(request, audit.next, param="audit"),
        "rollback": {"alias": SERVING_ALIAS, "from": current, "to": target},
        "skipped": skipped.count,
    }

    def html() -> dict[str, Any]:
        curve, sampled = _curve(reg, name, page if curve_too else None)
        metric_names = {r.get("metricName") for r in curve if r.get("metric") is not None}
        older = [r["version"] for r in rows[1:]] + [None]
        current_rows = [r | {"older": o} for r, o in zip(shown, older, strict=False)]
        writer = can_write(request.user)
        links = RowLinks(
            model_url=reverse("model-detail", args=[name]),
            diff_url=reverse("model-diff", args=[name]),
            promote_url=reverse("model-promote", args=[name]),
            serving_alias=SERVING_ALIAS,
            serving=current,
            can_write=writer,
            csrf_token=get_token(request) if writer else "",
        )
        return ctx | {
            "tab": "versions",
            "total": total,
            "rows": current_rows,
            "history_rows": history_rows(current_rows, links),
            "next_url": data["nextUrl"],
            "first_url": request.path if cursor else None,
            "metric_name": ", ".join(sorted(n for n in metric_names if n)) or "metric",
            "curve": charts.line_chart([(r["version"], r.get("metric")) for r in reversed(curve)]),
            "curve_points": len(curve),
            "curve_recent": len(curve) - sampled,
            "curve_sampled": sampled,
            "drift_version": drift_version,
            "drift_previous": previous,
            "drift": charts.bars(drift, "l2"),
            "drift_rows": drift,
            "audit": audit.items,
            "audit_next": audit.next,
            "serving_alias": SERVING_ALIAS,
            "serving": current,
            "rollback_to": target,
            "movable_aliases": sorted({SERVING_ALIAS, *ctx["aliases"]} - {LATEST}),
            "can_write": writer,
            "skipped": skipped.count,
        }

    return Page("catalog/versions.html", data, html)


def _newest_first(items: list[dict[str, Any]], name: str, skipped: Skipped) -> list[dict[str, Any]]:
    rows = history.with_metric(history.listable_rows(items, name, skipped))
    return rows[::-1]


def _curve(reg: Registry, name: str, first: HistoryPage | None) -> tuple[list[dict[str, Any]], int]:
    """Return the rows the learning curve draws, newest first, and how many of them were
    sampled: every version of a short history; of a longer one, the newest CURVE_RECENT and
    CURVE_SAMPLED older versions evenly spaced from the oldest (a version numbers' gap, where
    versions were deleted, draws no point). ``first``: the newest versions, already read."""
    skipped = Skipped(f"learning curve of {name}")
    recent = _newest(reg, name, first)
    if recent.next is None or not recent.items:
        return _newest_first(recent.items, name, skipped), 0
    below = min(r["version"] for r in recent.items)
    oldest = learning_history(reg, name, limit=1).items
    first_version = oldest[0]["version"] if oldest else below
    if below - first_version <= CURVE_SAMPLED:  # the older versions fit: every one of them
        older = learning_history(reg, name, cursor=encode_cursor([below]), limit=CURVE_SAMPLED,
                                 newest_first=True).items  # fmt: skip
        return _newest_first(recent.items + older, name, skipped), 0
    span = below - 1 - first_version
    wanted = sorted(
        {first_version + round(i * span / (CURVE_SAMPLED - 1)) for i in range(CURVE_SAMPLED)}
    )
    older = history_at(reg, name, wanted)
    return _newest_first(recent.items + older, name, skipped), len(older)


def _newest(reg: Registry, name: str, known: HistoryPage | None) -> HistoryPage:
    """Return the newest CURVE_RECENT rows of the history, newest first, as
    ``learning_history`` does, taking those of ``known`` (its newest rows) and reading only
    the rest."""
    if known is None or not known.items:
        return learning_history(reg, name, limit=CURVE_RECENT, newest_first=True)
    items = known.items[:CURVE_RECENT]
    if len(items) == CURVE_RECENT:
        return HistoryPage(items, encode_cursor([items[-1]["version"]]))
    if known.next is None:
        return HistoryPage(items)
    more = learning_history(
        reg,
        name,
        cursor=encode_cursor([items[-1]["version"]]),
        limit=CURVE_RECENT - len(items),
        newest_first=True,
    )
    return HistoryPage(items + more.items, more.next)


def _drift_version(request: HttpRequest, reg: Registry, name: str, latest: int) -> int:
    try:
        wanted = int(request.GET.get("v", latest))
    except ValueError:
        return latest
    if wanted == latest:
        return latest
    try:
        reg.document(name, wanted)
    except ModelNotFound:
        return latest
    return wanted


def _done(request: HttpRequest, name: str, payload: dict[str, Any], text: str) -> HttpResponse:
    if wants_json(request):
        return json_response(payload)
    messages.success(request, text)
    return redirect(reverse("model-versions", args=[name]))


def _refused(request: HttpRequest, name: str, status: int, text: str) -> HttpResponse:
    if wants_json(request):
        return error_response(request, status, text)
    messages.error(request, text)
    return redirect(reverse("model-versions", args=[name]))


@require_POST
@write_access
def promote(request: HttpRequest, name: str) -> HttpResponse:
    """Point an alias at a version, if it still points where the page showed it."""
    form = PromoteForm(request.POST)
    if not form.is_valid():
        return error_response(request, 400, form.errors.as_text())
    data = form.cleaned_data
    if data["alias"] == LATEST:
        return _refused(request, name, 400, "'latest' always follows the newest version.")
    try:
        previous = get_registry().set_alias(
            name,
            data["alias"],
            data["version"],
            expected=data["expected"],
            user=request.user.get_username(),
        )
    except Conflict:
        return _refused(
            request, name, 409, f"{data['alias']} moved while you were looking; check it again."
        )
    payload = {"alias": data["alias"], "version": data["version"], "previous": previous}
    return _done(request, name, payload, f"{data['alias']} now points at v{data['version']}.")


@require_POST
@write_access
def rollback(request: HttpRequest, name: str) -> HttpResponse:
    """Point an alias back at the version it had before its last move (from the audit log)."""
    form = RollbackForm(request.POST)
    if not form.is_valid():
        return error_response(request, 400, form.errors.as_text())
    alias, expected = form.cleaned_data["alias"], form.cleaned_data["expected"]
    reg = get_registry()
    target = reg.rollback_target(name, alias, expected)
    if target is None:
        return _refused(request, name, 409, f"{alias} has no earlier version to go back to.")
    try:
        reg.set_alias(name, alias, target, expected=expected, user=request.user.get_username())
    except Conflict:
        return _refused(request, name, 409, f"{alias} moved while you were looking.")
    payload = {"alias": alias, "version": target, "previous": expected}
    return _done(request, name, payload, f"Rolled {alias} back to v{target}.")


def _pair(reg: Registry, name: str, form: DiffForm) -> tuple[int, int]:
    b = form.cleaned_data["b"] or reg.resolve(name, LATEST)
    a = form.cleaned_data["a"] or reg.previous_version(name, b) or b
    return a, b


@require_safe
@read_access
@twin
def diff(request: HttpRequest, name: str) -> HttpResponse | Page:
    """Return what changed between two versions (?a=old&b=new; default the newest two)."""
    form = DiffForm(request.GET)
    if not form.is_valid():
        return error_response(request, 400, form.errors.as_text())
    reg = get_registry()
    a, b = _pair(reg, name, form)
    old, new = reg.document(name, a), reg.document(name, b)
    changes = modeldiff.compare(reg, name, old, new)
    ctx = version_context(reg, name, b) | {
        "tab": "diff",
        "a": a,
        "b": b,
        "changes": changes,
        "numbers": _diff_choices(reg, name, a, b),
        "old": old,
        "new": new,
    }
    return Page("catalog/diff.html", {"name": name} | changes, ctx)


def _diff_choices(reg: Registry, name: str, a: int, b: int) -> list[int]:
    """Return the versions the diff form offers, newest first: the newest DIFF_CHOICES
    and the two compared."""
    return sorted({*reg.version_numbers(name, limit=DIFF_CHOICES), a, b}, reverse=True)
