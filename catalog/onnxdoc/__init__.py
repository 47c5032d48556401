"""ModelProto <-> ONNX-JSON document, tensor externalization to chunks, and the summary.

Pure conversion: no Django, no store. The registry writes ``chunks`` to the ``tensors``
collection and passes a ``fetch_chunk(key) -> bytes`` to read them back; it may return
None or raise KeyError for a missing chunk, or raise DocumentError (re-raised with the
field path); any other exception passes through unchanged.
"""

from __future__ import annotations

from catalog.onnxdoc.convert import (
    ModelDocument,
    chunk_keys,
    document_to_model,
    model_to_document,
    parse_document,
)
from catalog.onnxdoc.errors import DocumentError
from catalog.onnxdoc.summary import summarize, tensor_stats
from catalog.onnxdoc.tensors import (
    CHUNK_SIZE,
    CHUNK_THRESHOLD,
    chunk_key,
    join_chunks,
    split_bytes,
)

__all__ = [
    "CHUNK_SIZE",
    "CHUNK_THRESHOLD",
    "DocumentError",
    "ModelDocument",
    "chunk_key",
    "chunk_keys",
    "document_to_model",
    "join_chunks",
    "model_to_document",
    "parse_document",
    "split_bytes",
    "summarize",
    "tensor_stats",
]
