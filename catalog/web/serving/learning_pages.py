"""Online learning in the browser: "New online model" and a learning model's Learn tab.

- ``/learning/new``: upload a first CSV, choose the estimator, its parameters and the
  label column (the page's script lists the CSV's columns), start learning.
- ``/models/NAME/learn``: the model's learning state, learning curve and last steps, and
  a form for the next batch; ``?format=json`` is its JSON twin (``learning_status``).
Both call the same domain functions as ``catalog learn`` and the HTTP API.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from catalog.domain.registry import LATEST, RegistryError, get_registry
from catalog.web import charts
from catalog.web.browse import version_context
from catalog.web.permissions import can_write, read_access, write_access
from catalog.web.responses import json_response, wants_json
from inference.estimators import ESTIMATORS, spec_from_mapping
from inference.learning import DuplicateBatch, learn_csv_bytes
from inference.learning_start import learning_status, recent_history, start_from_csv

# Largest CSV the pages accept (bytes).
MAX_CSV_BYTES = 20 * 2**20
# Newest versions the Learn tab's curve shows (the Versions tab has them all, paged).
CURVE_VERSIONS = 200


def _estimator_choices() -> list[tuple[str, str]]:
    return [(n, f"{n} ({mode})") for n, (_, mode) in ESTIMATORS.items()]


class StartForm(forms.Form):
    """The first CSV and the estimator specification."""

    name = forms.RegexField(
        regex=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        max_length=200,
        help_text="Letters, digits, '.', '_' and '-'.",
        error_messages={"invalid": "use letters, digits, '.', '_' and '-'"},
    )
    file = forms.FileField(label="First rows (CSV with a header row)")
    label = forms.CharField(
        max_length=200,
        label="Label column",
        help_text="The column to predict; every other column is a numeric feature.",
    )
    estimator = forms.ChoiceField(choices=_estimator_choices, initial="SGDClassifier")
    params = forms.CharField(
        required=False,
        max_length=2000,
        label="Hyperparameters (JSON)",
        help_text='e.g. {"C": 1.0} for SVC; checked against the estimator\'s own parameters.',
    )
    scaler = forms.ChoiceField(
        choices=[("none", "None"), ("standard", "StandardScaler")], initial="none"
    )
    holdout = forms.FloatField(
        required=False,
        min_value=0.01,
        max_value=0.9,
        initial=0.2,
        label="Holdout fraction",
        help_text="Rows of the first CSV kept aside to evaluate every version.",
    )
    holdout_file = forms.FileField(
        required=False, label="or a holdout CSV", help_text="Used instead of the fraction."
    )
    policy = forms.ChoiceField(
        choices=[
            ("no-worse", "No worse than production"),
            ("always", "Always"),
            ("never", "Never"),
        ],
        initial="no-worse",
        label="Promote to production",
    )
    window = forms.IntegerField(
        required=False,
        min_value=1,
        label="Window (refit estimators)",
        help_text="Refit on the last N rows only; empty: on every row learned.",
    )


class BatchForm(forms.Form):
    """The next batch of rows."""

    file = forms.FileField(label="Next batch (CSV with the same columns)")
    batch_id = forms.CharField(
        required=False, max_length=200, label="Batch id", help_text="Default: a content hash."
    )


def _read(upload: Any) -> bytes:
    if upload.size > MAX_CSV_BYTES:
        raise RegistryError(f"the CSV is over {MAX_CSV_BYTES // 2**20} MB")
    return upload.read()


@require_http_methods(["GET", "HEAD", "POST"])
@write_access
def new_model(request: HttpRequest) -> HttpResponse:
    """Return the "New online model" form, or start learning and go to the Learn tab."""
    if request.method in ("GET", "HEAD"):
        return _new_page(request, StartForm())
    form = StartForm(request.POST, request.FILES)
    if not form.is_valid():
        return _new_page(request, form, status=400)
    data = form.cleaned_data
    try:
        spec = spec_from_mapping(
            {
                "estimator": data["estimator"],
                "params": data["params"],
                "scaler": data["scaler"],
                "label": data["label"],
                "holdout": data["holdout"],
                "policy": data["policy"],
                "window": data["window"],
            }
        )
        holdout = data["holdout_file"]
        result = start_from_csv(
            get_registry(),
            data["name"],
            spec,
            _read(data["file"]),
            holdout_csv=_read(holdout) if holdout is not None else None,
            user=request.user.get_username(),
        )
    except RegistryError as e:  # LearningError and the rest: shown on the form, nothing stored
        form.add_error(None, str(e))
        return _new_page(request, form, status=400)
    messages.success(request, _step_sentence(result, started=True))
    return redirect(reverse("model-learn", args=[result.name]) + f"?step={result.version}")


def _new_page(request: HttpRequest, form: StartForm, status: int = 200) -> HttpResponse:
    ctx = {"form": form, "estimators": [(n, m) for n, (_, m) in ESTIMATORS.items()]}
    return render(request, "inference/learning_new.html", ctx, status=status)


@require_safe
@read_access
def learn_page(request: HttpRequest, name: str) -> HttpResponse:
    """Return a learning model's Learn tab: state, learning curve, last steps, next batch."""
    reg = get_registry()
    status = learning_status(reg, name)
    if wants_json(request):
        return json_response(status)
    return _learn_page(request, name, status, BatchForm())


def _learn_page(
    request: HttpRequest, name: str, status: dict[str, Any], form: BatchForm, code: int = 200
) -> HttpResponse:
    reg = get_registry()
    metric = status.get("metric") or "metric"
    history = recent_history(reg, name, CURVE_VERSIONS)
    rows = [r | {"value": r["metric"].get(metric)} for r in history]
    points = [(r["version"], r["value"]) for r in rows]
    ctx = version_context(reg, name, LATEST)
    step = request.GET.get("step")
    shown = next((r for r in rows if str(r["version"]) == step), None)
    ctx |= {
        "tab": "learn",
        "learning": status,
        "metric_name": metric,
        "curve": charts.line_chart([(v, m) for v, m in points if m is not None]),
        "steps": list(reversed(rows))[:20],
        "step": shown,
        "form": form,
        "params_json": json.dumps((status.get("spec") or {}).get("params") or {}),
        "can_write": can_write(request.user),
    }
    return render(request, "inference/learn.html", ctx, status=code)


@require_POST
@write_access
def learn_batch(request: HttpRequest, name: str) -> HttpResponse:
    """Learn the uploaded batch; go back to the Learn tab showing the new version."""
    reg = get_registry()
    status = learning_status(reg, name)
    form = BatchForm(request.POST, request.FILES)
    if not form.is_valid():
        return _learn_page(request, name, status, form, 400)
    try:
        result = learn_csv_bytes(
            reg,
            name,
            _read(form.cleaned_data["file"]),
            None,
            batch_id=form.cleaned_data["batch_id"] or None,
            user=request.user.get_username(),
        )
    except (RegistryError, DuplicateBatch) as e:
        form.add_error(None, str(e))
        return _learn_page(request, name, status, form, 400)
    messages.success(request, _step_sentence(result))
    return redirect(reverse("model-learn", args=[name]) + f"?step={result.version}")


def _step_sentence(result: Any, started: bool = False) -> str:
    metric = ", ".join(f"{k} {v:.4g}" for k, v in result.metric.items()) or "no metric"
    moved = (
        f"production moved to version {result.version}"
        if result.promoted
        else f"production stays at version {result.production} ({result.reason})"
    )
    what = "Started learning: " if started else ""
    return f"{what}version {result.version} learned {result.batch_size} rows ({metric}); {moved}."
