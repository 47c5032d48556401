"""The gRPC inference server: the same registry, session cache, limits and tokens as HTTP.

Each RPC resolves names, aliases and versions like the HTTP routes (``latest`` when the
version is empty), checks access like ``read_access`` (a bearer token in the
``authorization`` metadata, required when CATALOG_PUBLIC_READS is off) and maps errors to
gRPC status codes: 400 -> INVALID_ARGUMENT, 401 -> UNAUTHENTICATED, 404 -> NOT_FOUND,
413 -> RESOURCE_EXHAUSTED, 503 -> UNAVAILABLE, anything else -> INTERNAL. Tensors come
in ``raw_input_contents`` (the clients' default) or typed ``contents``; outputs are
always returned in ``raw_output_contents``, as Triton does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from django.conf import settings

from catalog.domain import limits
from catalog.domain.registry import get_registry
from catalog.store import StoreError
from inference import oip_config, oip_plain, serving, stats, statuses
from inference.grpc import protocol
from inference.grpc.convert import (
    infer_request,
    infer_response,
    metadata_response,
    model_config_response,
    plain_tensors,
    statistics_response,
)
from inference.oip import ProtocolError
from inference.serving import EXTENSIONS, SERVER_NAME, SERVER_VERSION
from inference.sessions import load_model

logger = logging.getLogger(__name__)

STATUS_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}
DEFAULT_PORT = 8001
# Request threads per process: as many as gunicorn's (2). Python runs one thread at a time,
# so more threads only contend: on 2 cores, 2 gave a lower p50 than 4 and 8 (1.27, 1.32,
# 1.41 ms; bench/results/serving.md). Scale with --workers, one process per core.
DEFAULT_THREADS = 2


class Unauthenticated(Exception):
    """A missing, unknown or revoked token where one is needed."""


def check_access(context: grpc.ServicerContext) -> None:
    """Raise Unauthenticated unless reads are public or the metadata holds a valid token."""
    token = None
    for key, value in context.invocation_metadata():
        if key == "authorization":
            scheme, _, rest = value.partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                token = rest.strip()
    if token is None:
        if limits.public_reads():
            return
        raise Unauthenticated("send an API token: authorization: Bearer <token>")
    from catalog.domain.tokens import user_for_token

    if user_for_token(token) is None:
        raise Unauthenticated("unknown or revoked API token")


def _rpc(handler: Callable[[Any, grpc.ServicerContext], Any], *, guarded: bool = True):
    """Wrap an RPC handler: access check, errors as gRPC status codes."""

    def run(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            if guarded:
                check_access(context)
            return handler(request, context)
        except Unauthenticated as e:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(e))
        except Exception as e:
            mapped = statuses.status_and_message(e)
            if mapped is None:
                logger.exception("gRPC %s failed", handler.__name__)
                context.abort(grpc.StatusCode.INTERNAL, "internal server error")
            status, message = mapped
            if status >= 500 and status != 503:
                logger.error("gRPC %s: %s", handler.__name__, message)
            context.abort(STATUS_CODES.get(status, grpc.StatusCode.INTERNAL), message)

    run.__name__ = handler.__name__
    return run


def server_live(request: Any, context: grpc.ServicerContext) -> Any:
    return protocol.message("ServerLiveResponse")(live=True)


def server_ready(request: Any, context: grpc.ServicerContext) -> Any:
    reg = get_registry()
    try:
        reg.store.exists(reg.ks.aliases, "__ready__")
    except StoreError:
        return protocol.message("ServerReadyResponse")(ready=False)
    return protocol.message("ServerReadyResponse")(ready=True)


def server_metadata(request: Any, context: grpc.ServicerContext) -> Any:
    return protocol.message("ServerMetadataResponse")(
        name=SERVER_NAME, version=SERVER_VERSION, extensions=list(EXTENSIONS)
    )


def model_ready(request: Any, context: grpc.ServicerContext) -> Any:
    load_model(get_registry(), request.name, _ref(request.version))
    return protocol.message("ModelReadyResponse")(ready=True)


def model_metadata(request: Any, context: grpc.ServicerContext) -> Any:
    reg = get_registry()
    model = load_model(reg, request.name, _ref(request.version))
    return metadata_response(model, oip_config.model_versions(reg, request.name))


def model_config(request: Any, context: grpc.ServicerContext) -> Any:
    model = load_model(get_registry(), request.name, _ref(request.version))
    return model_config_response(oip_config.model_config(model))


def model_statistics(request: Any, context: grpc.ServicerContext) -> Any:
    reg = get_registry()
    if not request.name:
        raise ProtocolError("name the model whose statistics you want")
    if request.version:
        versions = [reg.resolve(request.name, _ref(request.version))]
    else:
        reg.resolve(request.name, None)
        versions = sorted(stats.snapshot(request.name).versions)
    return statistics_response(stats.statistics(request.name, versions))


def repository_index(request: Any, context: grpc.ServicerContext) -> Any:
    index = protocol.message("RepositoryIndexResponse")
    entry = protocol.message("RepositoryIndexResponse.ModelIndex")
    return index(models=[entry(**row) for row in oip_config.repository_index(get_registry())])


def model_infer(request: Any, context: grpc.ServicerContext) -> Any:
    reg = get_registry()
    tensors = plain_tensors(request)
    if tensors is not None:  # the common request, in one pass (inference.oip_plain)
        ref = _ref(request.model_version)
        prediction = oip_plain.predict_tensors(
            reg, request.model_name, ref, tensors, request.id or None
        )
        if prediction is not None:
            return infer_response(prediction)
    parsed = infer_request(request)
    prediction = serving.run(reg, request.model_name, request.model_version, parsed)
    return infer_response(prediction)


def _ref(version: str) -> int | str | None:
    return serving.version_ref(version)


HANDLERS: dict[str, Callable[[Any, grpc.ServicerContext], Any]] = {
    "ServerLive": _rpc(server_live, guarded=False),
    "ServerReady": _rpc(server_ready, guarded=False),
    "ServerMetadata": _rpc(server_metadata, guarded=False),
    "ModelReady": _rpc(model_ready),
    "ModelMetadata": _rpc(model_metadata),
    "ModelConfig": _rpc(model_config),
    "ModelStatistics": _rpc(model_statistics),
    "RepositoryIndex": _rpc(repository_index),
    "ModelInfer": _rpc(model_infer),
}


def service_handler() -> grpc.GenericRpcHandler:
    """Return the generic handler of inference.GRPCInferenceService."""
    methods = {}
    for rpc, (request_name, response_name) in protocol.METHODS.items():
        methods[rpc] = grpc.unary_unary_rpc_method_handler(
            HANDLERS[rpc],
            request_deserializer=protocol.message(request_name).FromString,
            response_serializer=protocol.message(response_name).SerializeToString,
        )
    return grpc.method_handlers_generic_handler(protocol.SERVICE, methods)


def max_message_bytes() -> int:
    """Return the largest request accepted: the HTTP API's body limit."""
    limit = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
    return int(limit) if limit else 64 * 2**20


def build_server(address: str, threads: int = DEFAULT_THREADS) -> tuple[grpc.Server, int]:
    """Return a started gRPC server listening on ``address`` and the port it bound."""
    limit = max_message_bytes()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grpc-infer"),
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", -1),
            ("grpc.so_reuseport", 1),
        ],
    )
    server.add_generic_rpc_handlers((service_handler(),))
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    server.start()
    return server, port
