"""Message classes of ``inference.proto``, compiled at run time with grpcio-tools.

No generated code is committed or imported: ``protoc`` (from grpcio-tools) compiles the
.proto into a descriptor set once per process (about 0.1 s), and the message classes are
built from it in a private descriptor pool. A private pool, because the names are the
specification's (``inference.ModelInferRequest``...) and would clash with another copy
of the same protocol in the default pool, such as tritonclient's in the same process.
The service is registered by name with grpc's generic handlers (server.py).
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PROTO = Path(__file__).with_name("inference.proto")
SERVICE = "inference.GRPCInferenceService"
# RPC name -> (request message, response message).
METHODS = {
    "ServerLive": ("ServerLiveRequest", "ServerLiveResponse"),
    "ServerReady": ("ServerReadyRequest", "ServerReadyResponse"),
    "ModelReady": ("ModelReadyRequest", "ModelReadyResponse"),
    "ServerMetadata": ("ServerMetadataRequest", "ServerMetadataResponse"),
    "ModelMetadata": ("ModelMetadataRequest", "ModelMetadataResponse"),
    "ModelInfer": ("ModelInferRequest", "ModelInferResponse"),
    "ModelConfig": ("ModelConfigRequest", "ModelConfigResponse"),
    "ModelStatistics": ("ModelStatisticsRequest", "ModelStatisticsResponse"),
    "RepositoryIndex": ("RepositoryIndexRequest", "RepositoryIndexResponse"),
}


class ProtoCompileError(RuntimeError):
    """protoc could not compile inference.proto (grpcio-tools missing or a broken file)."""


@functools.cache
def descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """Return inference.proto compiled by grpcio-tools' protoc."""
    try:
        from grpc_tools import protoc
    except ImportError as e:  # pragma: no cover - grpcio-tools is a dependency
        raise ProtoCompileError("install grpcio-tools to serve gRPC") from e
    with tempfile.TemporaryDirectory(prefix="catalog-grpc-") as tmp:
        out = Path(tmp) / "inference.desc"
        status = protoc.main(
            ["protoc", f"-I{PROTO.parent}", f"--descriptor_set_out={out}", PROTO.name]
        )
        if status != 0 or not out.exists():
            raise ProtoCompileError(f"protoc failed on {PROTO} (exit {status})")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


@functools.cache
def pool() -> descriptor_pool.DescriptorPool:
    """Return a private descriptor pool holding inference.proto."""
    private = descriptor_pool.DescriptorPool()
    for file in descriptor_set().file:
        private.Add(file)
    return private


@functools.cache
def message(name: str) -> Any:
    """Return the message class of ``inference.NAME`` (nested names with dots)."""
    return message_factory.GetMessageClass(pool().FindMessageTypeByName(f"inference.{name}"))


def method_path(rpc: str) -> str:
    """Return the HTTP/2 path of an RPC, e.g. /inference.GRPCInferenceService/ModelInfer."""
    return f"/{SERVICE}/{rpc}"
