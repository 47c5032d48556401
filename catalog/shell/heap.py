"""The startup heap of a worker, set aside from the cyclic garbage collector.

A process that has loaded Django, the catalog, onnxruntime and the ONNX converters holds
about 170,000 objects the collector tracks, and each full collection walks all of them:
150-170 ms, about once every 30 requests of the versions page at 100,002 versions (5.5-6.2
ms a request on average, against 0.7-1.0 ms with the startup heap frozen; measured in
process). Those objects live as long as the process, so once the application is loaded they
are frozen (``gc.freeze``): later collections walk only what requests made.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver


def freeze_startup_heap() -> None:
    """Load the URL configuration (every view: now, not on the first request), collect the
    garbage of loading, then freeze what is left."""
    get_resolver().url_patterns  # noqa: B018
    gc.collect()
    gc.freeze()
