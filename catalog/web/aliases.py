"""Moving aliases: the API (bearer token or session + CSRF)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.http import require_http_methods

from catalog.domain.jsonbody import JsonBodyError, decode_json
from catalog.domain.registry import get_registry
from catalog.web.forms import AliasMoveForm
from catalog.web.permissions import api_write
from catalog.web.responses import error_response, json_response


def _body(request: HttpRequest) -> QueryDict | dict:
    if request.content_type == "application/json":
        data = decode_json(request.body or b"{}")
        if not isinstance(data, dict):
            raise JsonBodyError("send a JSON object {version, expected}")
        return data
    return request.POST


@api_write
@require_http_methods(["POST", "PUT", "DELETE"])
def api_alias(request: HttpRequest, name: str, alias: str) -> HttpResponse:
    """Move an alias (POST/PUT {version, expected?}) or remove it (DELETE)."""
    reg = get_registry()
    user = request.user.get_username()
    if request.method == "DELETE":
        reg.remove_alias(name, alias, user=user)
        return json_response({"name": name, "alias": alias, "version": None})
    data = _body(request)
    form = AliasMoveForm(data)
    if not form.is_valid():
        return error_response(request, 400, form.errors.as_text(), force_json=True)
    previous = reg.set_alias(
        name,
        alias,
        form.cleaned_data["version"],
        expected=form.cleaned_data["expected"],
        user=user,
    )
    return json_response(
        {
            "name": name,
            "alias": alias,
            "version": form.cleaned_data["version"],
            "previous": previous,
        }
    )
