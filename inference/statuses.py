"""Every domain error's HTTP status and message, in one table shared by the web (pages, the
catalog API, learning, OIP over HTTP), the infer fast path and the gRPC service (which turns
the status into a gRPC code). The web adds only what exists on the web (upload limits).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig

from catalog.domain.jsonbody import JsonBodyError
from catalog.domain.model_input import ModelInputError
from catalog.domain.queries import InvalidCursor
from catalog.domain.registry import (
    AliasInUse,
    InvalidName,
    ModelNotFound,
    ModelTooLarge,
    RegistryError,
)
from catalog.onnxdoc import DocumentError
from catalog.sqlpp.slots import StatementsBusy
from catalog.store import (
    Conflict,
    InvalidArgument,
    NotFound,
    QueryError,
    SearchError,
    StoreError,
    StoreUnavailable,
)
from inference.learning import AlreadyLearning, DuplicateBatch, NoLearningState
from inference.oip import ProtocolError
from inference.predict import InferenceFailed
from inference.prediction_log import PredictionNotFound
from inference.state import UntrustedState

# Exception class -> HTTP status. The first class of an exception's MRO found here wins,
# so a subclass listed on its own (NoLearningState) beats its base (RegistryError).
# None: the exception carries its own ``status`` (InferenceFailed: 400, 503, ...).
STATUS_OF: dict[type[BaseException], int | None] = {
    # the thing asked for does not exist
    ModelNotFound: 404,
    InvalidName: 404,  # no model can have that name, so there is no such page
    PredictionNotFound: 404,
    NoLearningState: 404,
    NotFound: 404,
    # someone else changed it first, or it is in use
    AliasInUse: 409,
    Conflict: 409,
    DuplicateBatch: 409,
    AlreadyLearning: 409,
    # over a limit
    RequestDataTooBig: 413,
    ModelTooLarge: 413,
    # the request is wrong
    JsonBodyError: 400,
    InvalidCursor: 400,
    ProtocolError: 400,
    RegistryError: 400,  # LearningError, PolicyError, InvalidModel, ...
    QueryError: 400,
    SearchError: 400,
    InvalidArgument: 400,
    ModelInputError: 400,
    # the server's own data is broken: a handled 500 that says what is wrong
    DocumentError: 500,
    UntrustedState: 500,
    # too many statements at once: try again shortly
    StatementsBusy: 429,
    # the store does not answer
    StoreUnavailable: 503,
    StoreError: 503,
    InferenceFailed: None,
}

# Exception class -> how its message is written ("{}" is the exception's text).
MESSAGE_OF: dict[type[BaseException], str] = {
    RequestDataTooBig: "the request body is too large",
    DocumentError: "the stored document is damaged: {}",
    StoreUnavailable: "the document store is unavailable: {}",
    StoreError: "the document store failed: {}",
}


def _first_known(exc: BaseException, table: dict[type[BaseException], Any]) -> Any:
    for cls in type(exc).__mro__:
        if cls in table:
            return cls
    return None


def status_of(exc: BaseException, table: dict | None = None) -> int | None:
    """Return the HTTP status of a domain error, or None for an unexpected exception."""
    table = STATUS_OF if table is None else table
    cls = _first_known(exc, table)
    if cls is None:
        return None
    status = table[cls]
    return int(getattr(exc, "status", 500)) if status is None else status


def message_of(exc: BaseException, table: dict | None = None) -> str:
    """Return the message a client sees for a domain error."""
    table = MESSAGE_OF if table is None else table
    cls = _first_known(exc, table)
    text = str(exc) or type(exc).__name__
    return table[cls].format(text) if cls is not None else text


def status_and_message(exc: BaseException) -> tuple[int, str] | None:
    """Return (HTTP status, message) of a domain error, or None for a server bug."""
    status = status_of(exc)
    return None if status is None else (status, message_of(exc))
