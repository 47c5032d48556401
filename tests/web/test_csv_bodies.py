"""CSV bodies with bare carriage returns or binary noise: a 400 or a result, never a 500.

Found by schemathesis: ``POST /api/models/mm/v/1/predict.csv`` with a text/csv body holding a
lone ``\\r`` inside a field made Python's csv module raise, and the API answered 500.
"""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.domain.registry import get_registry
from tests.models import matmul_model

BODIES = [
    "\x10´Ï1BçÃd\rdøt\u0094F".encode(),
    b"a\rb",
    b"x0,x1,x2,x3\r1,2,3,4\r",
    b'x0,x1,x2,x3\n"1,2,3,4',
    b"x0,x1,x2,x3\n1,2\x00,3,4",
]


@pytest.fixture
def mm(catalog_store):
    get_registry().publish("mm", matmul_model(4, 2))


@pytest.mark.parametrize("body", BODIES)
def test_a_csv_batch_never_fails_the_server(mm, body):
    answer = Client().post("/api/models/mm/v/1/predict.csv", body, content_type="text/csv")
    assert answer.status_code in (200, 400), answer.content[:200]
    if answer.status_code == 400:
        assert answer.json()["error"]


def test_carriage_returns_end_rows_as_newlines_do(mm):
    answer = Client().post(
        "/api/models/mm/v/1/predict.csv", b"x0,x1,x2,x3\r1,2,3,4\r", content_type="text/csv"
    )
    assert answer.status_code == 200
    lines = answer.content.decode().strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("1,2,3,4")
