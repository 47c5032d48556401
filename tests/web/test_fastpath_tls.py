"""The infer fast path in front of Django keeps Django's HTTPS redirect (CATALOG_TLS)."""

from __future__ import annotations

import io
import json
from wsgiref.util import setup_testing_defaults

from django.core.wsgi import get_wsgi_application

from catalog.domain.registry import get_registry
from catalog.web.serving import fastpath
from tests.models import matmul_model

BODY = json.dumps(
    {"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
).encode()


def call(application, **extra: str) -> tuple[str, dict[str, str], bytes]:
    environ: dict = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/v2/models/mm/infer",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(BODY)),
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(BODY),
        **extra,
    }
    setup_testing_defaults(environ)
    answer: dict = {}

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], body


def test_plain_http_infer_is_redirected_when_tls_is_on(catalog_store, settings):
    get_registry().publish("mm", matmul_model(4, 2))
    plain = fastpath.wrap(get_wsgi_application(), warm_sessions=False)
    assert call(plain)[0].startswith("200")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A server started with TLS on (Django reads the redirect setting when it starts).
    tls = fastpath.wrap(get_wsgi_application(), warm_sessions=False)
    status, headers, _ = call(tls)
    assert status.startswith("301") and headers["Location"].startswith("https://")
    status, _, body = call(tls, HTTP_X_FORWARDED_PROTO="https")
    assert status.startswith("200") and json.loads(body)["model_name"] == "mm"
