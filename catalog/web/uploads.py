"""Multipart uploads refused while they stream in, not after they were read whole.

Django keeps a large uploaded file on disk and lets the view read it; the views then read
it into memory (a CSV to predict over, a model to publish). ``LimitedUploadHandler`` runs
first among the upload handlers and raises ``UploadTooLarge`` (a RequestDataTooBig: 413
JSON or page, ``catalog.web.errors``) as soon as the declared request length, or the bytes
of the files received so far, pass the limit of the route:

- model uploads (the upload page, ``POST /api/models/<name>/versions``): CATALOG_MAX_UPLOAD_MB;
- every other form (CSV and .npy files): CATALOG_MAX_FILE_UPLOAD_MB.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler

MIB = 2**20
# URL names of the routes that take a model file.
MODEL_UPLOAD_ROUTES = {"upload", "api-publish"}
# Bytes of multipart framing and form fields allowed on top of the file limit.
FORM_OVERHEAD_BYTES = 256 * 1024


class UploadTooLarge(RequestDataTooBig):
    """A multipart upload is over the limit of its route."""


def upload_limit(request: Any) -> int:
    """Return the most file bytes one multipart request to this route may carry."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name in MODEL_UPLOAD_ROUTES:
        return int(getattr(settings, "CATALOG_MAX_UPLOAD_MB", 200)) * MIB
    return int(getattr(settings, "CATALOG_MAX_FILE_UPLOAD_MB", 32)) * MIB


class LimitedUploadHandler(FileUploadHandler):
    """Count the bytes of uploaded files and stop the upload once past the limit."""

    def __init__(self, request: Any = None):
        super().__init__(request)
        self.limit = upload_limit(request)
        self.received = 0

    def _refuse(self) -> None:
        raise UploadTooLarge(f"the upload is larger than {self.limit / MIB:g} MB")

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        """Refuse before reading anything when the declared length is over the limit."""
        if content_length > self.limit + FORM_OVERHEAD_BYTES:
            self._refuse()
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        """Pass the chunk on to the next handler, unless the files are now over the limit."""
        self.received += len(raw_data)
        # The slack lets a file just over the limit reach the form, which says so itself.
        if self.received > self.limit + FORM_OVERHEAD_BYTES:
            self._refuse()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        """Leave the file to the handlers after this one."""
        return None
