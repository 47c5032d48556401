"""OIP routes tritonclient calls beyond the core protocol: config, repository index, stats.

- ``GET /v2/models/NAME[/versions/V]/config``: a Triton model configuration
  (``inference.oip_config``).
- ``POST /v2/repository/index``: every stored version, state ``READY``.
- ``GET /v2/models/NAME[/versions/V]/stats``: counts and durations of this process only
  (``"scope": "process"``: each web worker and the gRPC server count their own requests).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from catalog.domain.registry import get_registry
from catalog.web.permissions import read_access
from catalog.web.serving.api import api
from inference import oip, oip_config, stats
from inference.serving import version_ref
from inference.sessions import load_model


@api("GET")
@read_access
def config(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    """Return the model configuration of a version (latest when none is named)."""
    model = load_model(get_registry(), name, version_ref(version))
    return JsonResponse(oip_config.model_config(model))


@api("POST")
@read_access
def index(request: HttpRequest) -> HttpResponse:
    """Return the repository index (a body of ``{"ready": true}`` changes nothing)."""
    if request.body and not isinstance(oip.parse_json(request.body), dict):
        raise oip.ProtocolError('send {} or {"ready": true}')
    return JsonResponse(oip_config.repository_index(get_registry()), safe=False)


@api("GET")
@read_access
def statistics(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    """Return this process's inference statistics of a model (one version, or all)."""
    reg = get_registry()
    if version is not None:
        versions = [reg.resolve(name, version_ref(version))]
    else:
        reg.resolve(name, None)  # 404 for an unknown model
        versions = sorted(stats.snapshot(name).versions)
    return JsonResponse(stats.statistics(name, versions))
