"""A WSGI fast path for ``POST /v2/models/NAME[/versions/V]/infer``, in front of Django.

Measured on a warm iris model (bench/bench_serving.py), Django's request handling (the
middleware stack, request and response objects, URL resolution, the request signals)
cost more than parsing, running and encoding the prediction itself. The infer route
needs none of it when reads are public and the request carries no credentials: no
session, no CSRF (the API is CSRF-exempt), no user. So this wrapper answers exactly
those requests itself, with what Django would have done that matters:

- the Host header is checked against ALLOWED_HOSTS (else Django answers, with its 400);
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413, as Django does;
- the same handler (``infer_http.infer_body``, whose plain requests take
  ``inference.oip_plain``'s one pass), the same error mapping and JSON errors;
- the same security headers as SecurityHeadersMiddleware adds to an API response.

Everything else, including infer requests with an ``Authorization`` header or when
CATALOG_PUBLIC_READS is off, goes to Django unchanged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.http.request import split_domain_port, validate_host

from catalog.domain import limits
from catalog.domain.registry import get_registry
from catalog.web import security
from catalog.web.serving import infer_http
from inference import oip_binary, statuses, warm

INFER_PATH = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?/infer")
# The headers SecurityHeadersMiddleware gives an API response (not under /netron/).
SECURITY_HEADERS = [
    *security.HEADERS.items(),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", security.PAGE_CSP),
]
_STATUS_LINES = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}
logger = logging.getLogger("django.request")
warm_logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class InferFastPath:
    """Answer anonymous OIP infer requests directly; hand everything else to ``app``."""

    def __init__(self, app: WSGIApp):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            match = INFER_PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None and self._eligible(environ):
                return self._infer(environ, start_response, match)
        return self.app(environ, start_response)

    def _eligible(self, environ: dict[str, Any]) -> bool:
        gate = _gate()
        if "HTTP_AUTHORIZATION" in environ or not gate.public_reads:
            return False
        if gate.ssl_redirect and not gate.secure_enough(environ):
            return False  # Django's SecurityMiddleware redirects it to HTTPS
        length = environ.get("CONTENT_LENGTH", "")
        if not length or not length.isdigit():
            return False  # chunked or missing: Django knows what to do
        return gate.host_allowed(environ)

    def _infer(
        self, environ: dict[str, Any], start_response: StartResponse, match: re.Match[str]
    ) -> Iterable[bytes]:
        name, version = match.groups()
        if not (name.isascii() and (version is None or version.isascii())):
            try:
                name, version = _segment(name), _segment(version)
            except UnicodeError:  # not UTF-8 (or not latin-1 text): Django's answer
                return self.app(environ, start_response)
        length = int(environ["CONTENT_LENGTH"])
        limit = _gate().max_body
        header_length = None
        try:
            if limit is not None and length > limit:
                status, body = 413, infer_http.error_body(413, "the request body is too large")
            else:
                data = environ["wsgi.input"].read(length) if length else b""
                body, header_length = infer_http.infer_body(
                    get_registry(), name, version, data, environ.get(oip_binary.ENVIRON_KEY)
                )
                status = 200
        except Exception as exc:
            mapped = statuses.status_and_message(exc)
            if mapped is None or mapped[0] >= 500:
                logger.error(
                    "Internal Server Error: %s",
                    environ.get("PATH_INFO"),
                    exc_info=mapped is None,
                    extra={"status_code": mapped[0] if mapped else 500},
                )
            status, message = mapped or (500, "internal server error")
            body = infer_http.error_body(status, message)
        headers = [
            ("Content-Type", infer_http.content_type(header_length)),
            ("Content-Length", str(len(body))),
            *SECURITY_HEADERS,
        ]
        if header_length is not None:
            headers.append((oip_binary.HEADER, str(header_length)))
        start_response(_STATUS_LINES[status], headers)
        return [body]


def _segment(value: str | None) -> str | None:
    """Return a PATH_INFO segment as Django reads it (WSGI gives UTF-8 bytes as latin-1)."""
    return None if value is None else value.encode("latin-1").decode("utf-8")


@dataclass(frozen=True)
class _Gate:
    """The settings the fast path checks on every request, read once (``_gate``)."""

    public_reads: bool
    ssl_redirect: bool
    proxy_ssl_header: tuple[str, str] | None
    allowed_hosts: tuple[str, ...]
    max_body: int | None

    def host_allowed(self, environ: dict[str, Any]) -> bool:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        known = _hosts_seen.get((host, self.allowed_hosts))
        if known is None:
            domain, _ = split_domain_port(host)
            known = bool(domain) and validate_host(domain, self.allowed_hosts)
            if len(_hosts_seen) < MAX_HOSTS_SEEN:  # bounded: Host headers are client input
                _hosts_seen[(host, self.allowed_hosts)] = known
        return known

    def secure_enough(self, environ: dict[str, Any]) -> bool:
        """Return False for a plain-HTTP request that SECURE_SSL_REDIRECT must send to HTTPS."""
        if not self.ssl_redirect or environ.get("wsgi.url_scheme") == "https":
            return True
        header = self.proxy_ssl_header
        if not header:
            return False
        return environ.get(header[0], "").split(",")[0].strip() == header[1]


@limits.derived
def _gate() -> _Gate:
    allowed = limits.setting("ALLOWED_HOSTS", [])
    if limits.setting("DEBUG", False) and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # what Django allows then
    header = limits.setting("SECURE_PROXY_SSL_HEADER")
    return _Gate(
        public_reads=limits.public_reads(),
        ssl_redirect=bool(limits.setting("SECURE_SSL_REDIRECT", False)),
        proxy_ssl_header=tuple(header) if header else None,  # type: ignore[arg-type]
        allowed_hosts=tuple(allowed),
        max_body=limits.setting("DATA_UPLOAD_MAX_MEMORY_SIZE"),
    )


# (Host header, ALLOWED_HOSTS) -> allowed? (validate_host costs ~10 µs).
_hosts_seen: dict[tuple[str, tuple[str, ...]], bool] = {}
MAX_HOSTS_SEEN = 64


def wrap(app: WSGIApp, warm_sessions: bool = True) -> WSGIApp:
    """Return ``app`` (Django's WSGI handler) behind the infer fast path.

    With ``warm_sessions``, first build the sessions inference.warm names (within
    CATALOG_WARM_SECONDS), so that the worker takes no request before they are ready.
    """
    if warm_sessions:
        try:
            warmed = warm.warm_up(get_registry())
        except Exception as e:  # e.g. the store is down: start anyway, build on demand
            warm_logger.warning("no sessions warmed: %s", e)
            warmed = []
        if warmed:
            warm_logger.info("warmed %s", ", ".join(f"{n} v{v}" for n, v in warmed))
    return InferFastPath(app)
