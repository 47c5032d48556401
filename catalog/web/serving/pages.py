"""Pages: try a model on one input (prediction page) or on a CSV (batch page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from catalog.domain.registry import InvalidName, ModelNotFound, Registry, get_registry
from catalog.web.permissions import read_access
from catalog.web.serving import present
from catalog.web.serving.forms import MAX_UPLOAD_BYTES, PredictForm, feature_names
from catalog.web.twins import Page, twin
from inference.batch import predict_csv
from inference.oip import ProtocolError, parse_infer_request
from inference.predict import InferenceFailed, classifier_outputs, infer
from inference.sessions import LoadedModel, load_model


class BatchForm(forms.Form):
    """A CSV to predict over."""

    file = forms.FileField(label="CSV file", help_text="A header row with the feature names.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES * 3:
            raise forms.ValidationError("The file is too large.")
        return upload


def _model_or_404(reg: Registry, name: str, ref: str | None) -> LoadedModel:
    try:
        return load_model(reg, name, ref)
    except (ModelNotFound, InvalidName) as e:
        raise Http404(str(e)) from None


def _page_context(reg: Registry, model: LoadedModel, ref: str | None) -> dict[str, Any]:
    return {
        "model": model,
        "ref": ref,
        "aliases": sorted(a for a, v in reg.aliases(model.name).items() if v == model.version),
        "classifier": classifier_outputs(model),
        "infer_url": present.infer_url(model),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@read_access
@twin
def predict_page(request: HttpRequest, name: str, ref: str | None = None) -> Page:
    """Return the prediction form of a model version, and the prediction on POST."""
    reg = get_registry()
    model = _model_or_404(reg, name, ref)
    if request.method == "POST":
        form = PredictForm(model, request.POST, request.FILES)
    else:
        form = PredictForm(model)
    ctx = _page_context(reg, model, ref) | {"form": form, "result": None}
    if request.method == "POST" and form.is_valid():
        try:
            prediction = infer(reg, name, model.version, parse_infer_request(form.oip_request))
            ctx["result"] = present.result(prediction, form.oip_request)
        except ProtocolError as e:
            form.add_error(form.field_for_input(e.field), str(e))
        except InferenceFailed as e:
            form.add_error(None, str(e))
    ctx["request_json"] = (
        ctx["result"]["request_json"] if ctx["result"] else present.example_request(model)
    )
    if request.method == "POST" and form.errors:
        errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
        data = {"error": next(iter(errors.values()))[0], "status": 400, "errors": errors}
        return Page("inference/predict.html", data, ctx, status=400)
    return Page("inference/predict.html", _form_json(model), ctx)


def _form_json(model: LoadedModel) -> dict[str, Any]:
    from catalog.web.serving.forms import sample_row

    names = feature_names(model)
    return {
        "name": model.name,
        "version": model.version,
        "inputs": [
            {"name": s.name, "datatype": s.datatype, "shape": s.oip_shape()} for s in model.inputs
        ],
        "featureNames": names,
        "sampleRow": sample_row(model, len(names)) if names else None,
        "inferUrl": present.infer_url(model),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@read_access
@twin
def batch_page(request: HttpRequest, name: str, ref: str | None = None) -> HttpResponse | Page:
    """Return the batch form; on POST, the uploaded CSV with prediction columns."""
    reg = get_registry()
    model = _model_or_404(reg, name, ref)
    form = BatchForm(request.POST, request.FILES) if request.method == "POST" else BatchForm()
    if request.method == "POST" and form.is_valid():
        try:
            result = predict_csv(reg, name, model.version, form.cleaned_data["file"].read())
        except (ProtocolError, InferenceFailed) as e:
            form.add_error("file", str(e))
        else:
            response = HttpResponse(result.csv, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
            return response
    features = model.metadata.get("featureNames") or feature_names(model)
    ctx = _page_context(reg, model, ref) | {"form": form, "features": features}
    if form.errors:
        errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
        data = {"error": next(iter(errors.values()))[0], "status": 400, "errors": errors}
        return Page("inference/batch.html", data, ctx, status=400)
    data = {"name": model.name, "version": model.version, "features": features}
    return Page("inference/batch.html", data, ctx)
