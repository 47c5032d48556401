"""Hot swap under load: clients keep predicting while new versions are published.

Four client threads send OIP requests for ``latest`` through the configured app while the
main thread publishes five new versions. Every request must succeed, and each client must
see the version numbers only go up, ending on the newest.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np
from django.test import Client

from catalog.domain.registry import get_registry
from tests.models import matmul_model

CLIENTS = 4
NEW_VERSIONS = 5


def test_clients_never_fail_and_never_go_back_while_versions_are_published(catalog_store):
    reg = get_registry()
    reg.publish("mm", matmul_model(4, 2, seed=0))
    body = json.dumps(
        {
            "inputs": [
                {"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [1.0, 2.0, 3.0, 4.0]}
            ]
        }
    )
    done = threading.Event()
    seen: list[list[tuple[int, str]]] = [[] for _ in range(CLIENTS)]

    def predict(log: list[tuple[int, str]]) -> None:
        client = Client()
        while True:
            finished = done.is_set()  # one more round after the last publish
            answer = client.post("/v2/models/mm/infer", body, content_type="application/json")
            version = answer.json().get("model_version", "?") if answer.status_code == 200 else "?"
            log.append((answer.status_code, version))
            if finished:
                return

    threads = [threading.Thread(target=predict, args=(log,)) for log in seen]
    for t in threads:
        t.start()
    try:
        while not all(seen):  # every client is predicting before the first publish
            time.sleep(0.002)
        for seed in range(1, NEW_VERSIONS + 1):
            version = reg.publish("mm", matmul_model(4, 2, seed=seed)).version
            # The next request of every client is served by the new version.
            deadline = time.monotonic() + 60
            while not all(log and log[-1][1] == str(version) for log in seen):
                assert time.monotonic() < deadline, "a client never got the new version"
                time.sleep(0.002)
    finally:
        done.set()
        for t in threads:
            t.join()

    for log in seen:
        assert [s for s, _ in log if s != 200] == []
        versions = [int(v) for _, v in log]
        assert versions == sorted(versions), "a client saw an older version after a newer one"
        assert versions[-1] == NEW_VERSIONS + 1
    for log in seen:  # every client was served by every version
        assert np.unique([v for _, v in log]).size == NEW_VERSIONS + 1
