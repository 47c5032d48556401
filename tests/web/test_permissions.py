"""The access checks, answer by answer: status, body, headers (what a client relies on)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from catalog.domain.tokens import create_token
from catalog.web.permissions import can_write

INVALID_TOKEN = 'Bearer realm="catalog", error="invalid_token"'


def test_an_unknown_token_is_a_json_401_even_for_a_page(published):
    for path in ("/models/", "/models/mm/", "/workbench"):
        answer = Client().get(path, headers={"Authorization": "Bearer mct_nope"})
        assert answer.status_code == 401, path
        assert answer["Content-Type"].startswith("application/json")
        assert answer.json() == {"error": "Unknown or revoked API token.", "status": 401}
        assert answer["WWW-Authenticate"] == INVALID_TOKEN


def test_an_unknown_token_is_refused_on_a_write_route(published):
    answer = Client().post(
        "/api/models/mm/aliases/production",
        {"version": 1},
        content_type="application/json",
        headers={"Authorization": "Bearer mct_nope"},
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "Unknown or revoked API token."
    assert answer["WWW-Authenticate"] == INVALID_TOKEN
    assert "production" not in published.aliases("mm")


def test_private_reads_send_browsers_to_the_login_page(published, settings):
    settings.CATALOG_PUBLIC_READS = False
    answer = Client().get("/models/mm/?tab=1")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/?next=/models/mm/%3Ftab%3D1"


def test_private_reads_answer_api_clients_with_a_json_401(published, settings):
    settings.CATALOG_PUBLIC_READS = False
    answer = Client().get("/models/?format=json")
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "Log in or send an API token to read the catalog.",
        "status": 401,
    }
    assert answer["WWW-Authenticate"] == 'Bearer realm="catalog"'
    token = create_token(User.objects.create_user("reader").username)
    ok = Client().get("/models/?format=json", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["models"][0]["name"] == "mm"


def test_an_anonymous_write_is_a_json_401_that_asks_for_a_token(published):
    answer = Client().post(
        "/api/models/mm/aliases/production", {"version": 1}, content_type="application/json"
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "Send an API token (Authorization: Bearer ...)."
    assert answer["WWW-Authenticate"] == 'Bearer realm="catalog"'


def test_api_writes_with_a_token_need_no_csrf_token(published):
    User.objects.create_user("writer", is_staff=True)
    token = create_token("writer")
    answer = Client(enforce_csrf_checks=True).post(
        "/api/models/mm/aliases/production",
        {"version": 1},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    assert published.aliases("mm")["production"] == 1


def test_only_authenticated_active_writers_can_write(db):
    assert not can_write(None)
    assert not can_write(object())  # no is_authenticated at all
    writer = User.objects.create_user("w", is_staff=True)
    assert can_write(writer)
    reader = User.objects.create_user("r")
    assert not can_write(reader)


def test_a_version_written_in_other_digits_is_not_found_not_a_crash(published):
    for version in ("³", "²", "١"):  # str.isdigit() is true for these; int() refuses some
        answer = Client().get(f"/v2/models/mm/versions/{version}")
        assert answer.status_code == 404, version
        assert answer.json()["status"] == 404


def test_private_reads_send_a_browsers_head_request_to_the_login_page_too(published, settings):
    settings.CATALOG_PUBLIC_READS = False
    answer = Client().head("/models/mm/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/?next=/models/mm/"


def test_api_write_makes_a_csrf_exempt_view_that_runs_for_a_writer(db):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from catalog.web.permissions import api_write

    seen = []

    def view(request, name):
        seen.append((request.user.username, name))
        return HttpResponse("done")

    wrapped = api_write(view)
    assert wrapped.csrf_exempt is True and wrapped.__name__ == "view"
    User.objects.create_user("writer", is_staff=True)
    request = RequestFactory().post(
        "/x", headers={"Authorization": f"Bearer {create_token('writer')}"}
    )
    response = wrapped(request, name="mm")
    assert response.status_code == 200 and seen == [("writer", "mm")]
