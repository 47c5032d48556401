"""Who may read and write: public reads, login, permissions, API tokens, CSRF, error pages."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client, RequestFactory, override_settings

from catalog.domain.models import APIToken
from catalog.domain.registry import get_registry
from catalog.domain.tokens import TokenError, create_token, revoke_tokens
from catalog.web import errors
from catalog.web.permissions import can_write


@pytest.fixture
def users(db, settings):
    """Return a staff writer, a user granted catalog.publish, and a read-only user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    staff = User.objects.create_user("alice", password="pw-alice", is_staff=True)
    publisher = User.objects.create_user("bob", password="pw-bob")
    publisher.user_permissions.add(Permission.objects.get(codename="publish"))
    reader = User.objects.create_user("carol", password="pw-carol")
    return {"staff": staff, "publisher": publisher, "reader": reader}


def move(client: Client, version: int, **headers: str):
    return client.post(
        "/api/models/mm/aliases/production",
        {"version": version},
        content_type="application/json",
        headers=headers,
    )


def test_reads_are_public_by_default(client, published):
    assert client.get("/models/mm/").status_code == 200
    assert client.get("/api/query?statement=SELECT+1").status_code == 200


@override_settings(CATALOG_PUBLIC_READS=False)
def test_private_reads_need_a_login_or_a_token(client, published, users):
    page = client.get("/models/mm/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/?next=")
    assert client.get("/models/mm/?format=json").status_code == 401
    assert client.get("/api/query?statement=SELECT+1").status_code == 401
    token = create_token("carol")
    api = client.get("/api/query?statement=SELECT+1", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    client.login(username="carol", password="pw-carol")
    assert client.get("/models/mm/").status_code == 200


def test_login_and_logout_through_the_pages(client, published, users):
    form = client.get("/accounts/login/")
    assert form.status_code == 200 and b"csrfmiddlewaretoken" in form.content
    bad = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert bad.status_code == 200 and b'role="alert"' in bad.content
    ok = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice"})
    assert ok.status_code == 302
    home = client.get("/models/")
    assert b"alice" in home.content and b"Log out" in home.content
    assert client.post("/accounts/logout/").status_code == 302
    assert b"Log in" in client.get("/models/").content


def test_the_login_form_is_csrf_protected(published, users):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 403


def test_tokens_are_returned_once_and_stored_hashed(users):
    token = create_token("alice", name="ci")
    row = APIToken.objects.get()
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.digest, row.prefix) and token.startswith(row.prefix)
    assert create_token("alice") != token
    with pytest.raises(TokenError):
        create_token("nobody")
    assert revoke_tokens("alice") == 2


def test_a_token_of_a_writer_moves_an_alias(published, users):
    client = Client(enforce_csrf_checks=True)
    for username in ("alice", "bob"):
        token = create_token(username)
        response = move(client, 1, Authorization=f"Bearer {token}")
        assert response.status_code == 200, response.content
        assert get_registry().aliases("mm")["production"] == 1
        move(client, 2, Authorization=f"Bearer {token}")
    audit = get_registry().store.query(
        "SELECT RAW a.`user` FROM audit a ORDER BY a.`at`", query_context="ml.catalog"
    )
    assert audit == ["alice", "alice", "bob", "bob"]
    assert APIToken.objects.filter(last_used__isnull=False).count() == 2


def test_writes_are_refused_without_the_right_credentials(published, users):
    client = Client(enforce_csrf_checks=True)
    assert move(client, 1).status_code == 401
    assert move(client, 1, Authorization="Bearer mct_not-a-token").status_code == 401
    reader = create_token("carol")
    refused = move(client, 1, Authorization=f"Bearer {reader}")
    assert refused.status_code == 403 and refused.json()["error"]
    bobs = create_token("bob")
    assert move(client, 1, Authorization=f"Bearer {bobs}").status_code == 200
    assert "production" in get_registry().aliases("mm")
    # A deactivated user's own token stops working at once, and so does their session.
    users["publisher"].is_active = False
    users["publisher"].save()
    refused = move(client, 2, Authorization=f"Bearer {bobs}")
    assert refused.status_code == 401 and refused.json()["error"]
    assert get_registry().aliases("mm")["production"] == 1


def test_session_writes_need_the_csrf_token(published, users):
    client = Client(enforce_csrf_checks=True)
    client.login(username="alice", password="pw-alice")
    assert move(client, 1).status_code == 403
    client.get("/models/")  # the logout form on every page sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    assert move(client, 1, **{"X-CSRFToken": csrf}).status_code == 200


def test_alias_api_errors_are_json(published, users):
    token = create_token("alice")
    auth = {"Authorization": f"Bearer {token}"}
    client = Client()
    assert move(client, 9, **auth).status_code == 404
    stale = client.post(
        "/api/models/mm/aliases/production",
        {"version": 1, "expected": 2},
        content_type="application/json",
        headers=auth,
    )
    assert stale.status_code == 409 and "points at" in stale.json()["error"]
    removed = client.delete("/api/models/mm/aliases/latest", headers=auth)
    assert removed.status_code == 400


def test_error_pages_are_friendly_html_or_json(client, published):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and b"find that" in page.content
    assert client.get("/api/nothing").json()["status"] == 404
    request = RequestFactory().get("/models/")
    assert b"Something went wrong" in errors.server_error(request).content
    # Django calls the handlers with the exception
    assert errors.bad_request(request, SuspiciousOperation("x")).status_code == 400
    assert errors.permission_denied(request, PermissionDenied()).status_code == 403


def test_an_inactive_user_may_not_write_even_when_staff(users):
    """can_write is checked on whatever user a backend hands over (some admit inactive ones)."""
    staff = users["staff"]
    assert can_write(staff)
    staff.is_active = False
    assert not can_write(staff)


def test_an_inactive_users_session_is_dropped(published, users):
    client = Client()
    client.login(username="alice", password="pw-alice")
    users["staff"].is_active = False
    users["staff"].save()
    page = client.post(
        "/api/models/mm/aliases/production", {"version": 1}, content_type="application/json"
    )
    assert page.status_code == 401
    assert "production" not in get_registry().aliases("mm")
