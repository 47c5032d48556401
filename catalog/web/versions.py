"""A model's versions: history, learning curve, weight drift, alias moves, and diffs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from catalog.domain import weights
from catalog.domain.registry import LATEST, Registry, get_registry
from catalog.store import Conflict
from catalog.web import charts, history, modeldiff
from catalog.web.browse import version_context
from catalog.web.forms import DiffForm, PromoteForm, RollbackForm
from catalog.web.listing import Skipped
from catalog.web.permissions import can_write, read_access, write_access
from catalog.web.responses import error_response, json_response, wants_json
from catalog.web.twins import Page, twin
from inference.learning_history import all_history

# Alias moves shown per page of the audit log.
AUDIT_PAGE = 50
# The alias the rollback button moves.
SERVING_ALIAS = "production"


def _previous(versions: list[int], version: int) -> int | None:
    older = [v for v in versions if v < version]
    return max(older) if older else None


@require_GET
@read_access
@twin
def versions(request: HttpRequest, name: str) -> Page:
    """Return the history of a model: versions, learning curve, weight drift, audit log."""
    reg = get_registry()
    ctx = version_context(reg, name, LATEST)
    skipped = Skipped(f"versions of {name}")
    rows = history.with_metric(history.listable_rows(all_history(reg, name), name, skipped))
    numbers = [r["version"] for r in rows]
    drift_version = _drift_version(request, numbers, ctx["info"]["version"])
    previous = _previous(numbers, drift_version)
    drift: list[dict[str, Any]] = []
    if previous is not None:
        drift = weights.weight_drift(reg, name, previous, drift_version)
    audit = reg.alias_history(name, cursor=request.GET.get("audit") or None, limit=AUDIT_PAGE)
    current = ctx["aliases"].get(SERVING_ALIAS)
    target = reg.rollback_target(name, SERVING_ALIAS, current)
    data = {
        "name": name,
        "history": rows,
        "aliases": ctx["aliases"],
        "drift": {"version": drift_version, "previous": previous, "initializers": drift},
        "audit": audit.items,
        "auditNext": audit.next,
        "rollback": {"alias": SERVING_ALIAS, "from": current, "to": target},
        "skipped": skipped.count,
    }
    metric_names = {r.get("metricName") for r in rows if r.get("metric") is not None}
    ctx |= {
        "tab": "versions",
        "rows": [
            r | {"older": numbers[i - 1] if i else None} for i, r in reversed(list(enumerate(rows)))
        ],
        "metric_name": ", ".join(sorted(n for n in metric_names if n)) or "metric",
        "curve": charts.line_chart([(r["version"], r.get("metric")) for r in rows]),
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
        "can_write": can_write(request.user),
        "skipped": skipped.count,
    }
    return Page("catalog/versions.html", data, ctx)


def _drift_version(request: HttpRequest, numbers: list[int], latest: int) -> int:
    try:
        wanted = int(request.GET.get("v", latest))
    except ValueError:
        return latest
    return wanted if wanted in numbers else latest


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
    numbers = sorted((v["version"] for v in reg.list_versions(name)), reverse=True)
    if not numbers:
        reg.resolve(name)  # raises ModelNotFound
    b = form.cleaned_data["b"] or numbers[0]
    a = form.cleaned_data["a"] or _previous(numbers, b) or b
    return a, b


@require_GET
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
        "numbers": [v["version"] for v in reg.list_versions(name)],
        "old": old,
        "new": new,
    }
    return Page("catalog/diff.html", {"name": name} | changes, ctx)
