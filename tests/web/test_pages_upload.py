"""Publishing: the upload page and the API (POST/DELETE /api/models/NAME/versions)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from catalog.domain.registry import get_registry
from catalog.domain.tokens import create_token
from tests.models import matmul_model


def onnx_file(name: str = "model.onnx", seed: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, matmul_model(4, 2, seed=seed).SerializeToString())


@pytest.fixture
def writer(client, db, settings, catalog_store):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("alice", password="pw", is_staff=True)
    User.objects.create_user("carol", password="pw")
    client.login(username="alice", password="pw")
    return client


def test_upload_publishes_and_goes_to_the_new_version(writer):
    assert writer.get("/upload").status_code == 200
    page = writer.post(
        "/upload",
        {
            "file": onnx_file(),
            "name": "uploaded",
            "description": "From the browser",
            "tags": "a, b, a",
            "task": "regression",
            "framework": "onnx",
            "format": "binary",
            "alias": "staging",
        },
    )
    assert page.status_code == 302 and page["Location"] == "/models/uploaded/v/1/"
    doc = get_registry().document("uploaded", 1)
    assert doc["format"] == "binary"
    assert doc["metadata"]["tags"] == ["a", "b"]
    assert doc["metadata"]["task"] == "regression"
    assert get_registry().aliases("uploaded")["staging"] == 1


def test_upload_errors_are_shown_at_the_form_and_nothing_is_stored(writer):
    bad = writer.post(
        "/upload",
        {"file": SimpleUploadedFile("x.onnx", b"not onnx"), "name": "broken", "format": "json"},
    )
    assert bad.status_code == 400
    assert 'id="id_file-error"' in bad.content.decode() or 'id="file-error"' in bad.content.decode()
    bad_name = writer.post("/upload", {"file": onnx_file(), "name": "no spaces", "format": "json"})
    assert bad_name.status_code == 400 and "use letters, digits" in bad_name.content.decode()
    assert get_registry().list_models() == []


@override_settings(CATALOG_MAX_UPLOAD_MB=0)
def test_upload_refuses_files_over_the_limit(writer):
    page = writer.post("/upload", {"file": onnx_file(), "name": "big", "format": "json"})
    assert page.status_code == 400 and "the limit is 0 MB" in page.content.decode()
    api = writer.post(
        "/api/models/big/versions",
        matmul_model(4, 2).SerializeToString(),
        content_type="application/octet-stream",
    )
    assert api.status_code == 413
    assert get_registry().list_models() == []


def test_upload_needs_a_writer(client, writer):
    client.logout()
    assert client.get("/upload").status_code == 302  # to the login page
    client.login(username="carol", password="pw")
    assert client.get("/upload").status_code == 403


def test_the_api_publishes_a_raw_body_with_a_token(client, writer):
    token = create_token("alice")
    response = client.post(
        "/api/models/raw/versions?tags=x,y&task=regression&alias=production",
        matmul_model(4, 2).SerializeToString(),
        content_type="application/octet-stream",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert response.json() | {"url": None} == {"name": "raw", "version": 1, "url": None}
    assert response["Location"] == "/models/raw/v/1/"
    assert get_registry().document("raw", 1)["metadata"]["tags"] == ["x", "y"]
    assert get_registry().aliases("raw")["production"] == 1


def test_the_api_publishes_multipart_and_refuses_bad_models(client, writer):
    token = create_token("alice")
    auth = {"Authorization": f"Bearer {token}"}
    ok = client.post(
        "/api/models/multi/versions",
        {"file": onnx_file(), "description": "multipart", "format": "json"},
        headers=auth,
    )
    assert ok.status_code == 201 and ok.json()["version"] == 1
    bad = client.post(
        "/api/models/multi/versions",
        b"junk",
        content_type="application/octet-stream",
        headers=auth,
    )
    assert bad.status_code == 400 and bad.json()["error"]
    empty = client.post(
        "/api/models/multi/versions", b"", content_type="application/octet-stream", headers=auth
    )
    assert empty.status_code == 400
    named = client.post(
        "/api/models/bad%20name/versions",
        b"x",
        content_type="application/octet-stream",
        headers=auth,
    )
    assert named.status_code == 400


def test_the_api_needs_a_writer_and_csrf_for_sessions(client, writer, db):
    from django.test import Client

    anonymous = Client().post(
        "/api/models/m/versions", b"x", content_type="application/octet-stream"
    )
    assert anonymous.status_code == 401
    strict = Client(enforce_csrf_checks=True)
    strict.login(username="alice", password="pw")
    refused = strict.post("/api/models/m/versions", b"x", content_type="application/octet-stream")
    assert refused.status_code == 403


def test_delete_a_version_through_the_api(client, writer):
    reg = get_registry()
    reg.publish("gone", matmul_model(4, 2))
    reg.publish("gone", matmul_model(4, 2, seed=1))
    reg.set_alias("gone", "production", 1)
    token = create_token("alice")
    auth = {"Authorization": f"Bearer {token}"}
    in_use = client.delete("/api/models/gone/versions/1", headers=auth)
    assert in_use.status_code == 409
    forced = client.delete("/api/models/gone/versions/1?force=1", headers=auth)
    assert forced.status_code == 200 and forced.json()["removedAliases"] == ["production"]
    assert [v["version"] for v in reg.list_versions("gone")] == [2]
