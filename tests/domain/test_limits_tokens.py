"""Limits, switches and API tokens: each getter, default and edge a caller relies on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import RequestFactory

from catalog.domain import cas, limits
from catalog.domain.models import APIToken
from catalog.domain.tokens import (
    SHOWN_CHARS,
    TOKEN_PREFIX,
    TokenError,
    bearer_token,
    create_token,
    digest,
    user_for_token,
)
from tests.clock import shift_store_clock

MIB = 2**20


def test_each_getter_reads_its_setting_in_its_unit(settings):
    settings.CATALOG_QUERY_CONCURRENCY = 3
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    settings.CATALOG_SESSION_CACHE_MB = 2
    settings.CATALOG_METADATA_MAX_KB = 3
    settings.CATALOG_MAX_UPLOAD_MB = 5
    assert limits.query_concurrency() == 3
    assert limits.max_body_bytes() == 4096
    assert limits.session_cache_bytes() == 2 * MIB
    assert limits.metadata_max_bytes() == 3 * 1024
    assert limits.max_upload_bytes() == 5 * MIB


def test_an_empty_or_missing_setting_means_the_default(settings):
    settings.CATALOG_MAX_BATCH = ""
    assert limits.max_batch() == 10_000
    del settings.CATALOG_MAX_BATCH
    assert limits.max_batch() == 10_000
    settings.CATALOG_MAX_BATCH = "12"
    assert limits.max_batch() == 12


def test_switches_default_to_public_reads_and_no_prediction_log(settings):
    del settings.CATALOG_PUBLIC_READS
    del settings.CATALOG_PREDICTION_LOG
    assert limits.public_reads() is True
    assert limits.prediction_log_on() is False
    settings.CATALOG_PUBLIC_READS, settings.CATALOG_PREDICTION_LOG = False, True
    assert limits.public_reads() is False
    assert limits.prediction_log_on() is True


def test_describe_lists_every_limit_with_its_value_and_doc(settings):
    settings.CATALOG_QUERY_MAX_ROWS = 7
    rows = {row["setting"]: row for row in limits.describe()}
    assert rows["CATALOG_QUERY_MAX_ROWS"]["value"] == 7
    assert rows["CATALOG_QUERY_MAX_ROWS"]["doc"] == "SQL++ rows returned"
    assert set(rows) == {lim.setting for lim in limits.ALL}


def test_a_cas_update_keeps_the_expiry_it_is_told_to_keep(store, monkeypatch):
    clock = shift_store_clock(monkeypatch)
    ks = "ml.catalog.predictions"
    store.insert(ks, "p", {"n": 0}, expiry=10)
    cas.update(store, ks, "p", lambda d: {"n": 1}, expiry=lambda d: 10 - clock.offset - d["n"])
    clock.offset = 9
    assert store.get(ks, "p")[0] == {"n": 1}
    clock.offset = 11
    assert not store.exists(ks, "p")  # a replace without the expiry would have kept it


@pytest.mark.django_db
def test_a_token_is_stored_as_its_digest_with_its_name_and_prefix():
    User.objects.create_user("alice")
    token = create_token("alice", name="laptop")
    assert token.startswith(TOKEN_PREFIX) and len(token) > 40
    row = APIToken.objects.get()
    assert row.digest == digest(token) and row.name == "laptop"
    assert row.prefix == token[:SHOWN_CHARS]
    assert token not in (row.digest, row.prefix)


@pytest.mark.django_db
def test_a_token_for_an_unknown_or_inactive_user_is_refused():
    with pytest.raises(TokenError, match="no user named 'nobody'"):
        create_token("nobody")
    User.objects.create_user("gone", is_active=False)
    with pytest.raises(TokenError, match="user 'gone' is inactive"):
        create_token("gone")


@pytest.mark.django_db
def test_user_for_token_finds_only_active_users():
    alice = User.objects.create_user("alice")
    token = create_token("alice")
    assert user_for_token(token) == alice
    assert user_for_token(token + "x") is None
    alice.is_active = False
    alice.save()
    assert user_for_token(token) is None


def test_bearer_token_reads_only_the_bearer_scheme():
    rf = RequestFactory()
    assert bearer_token(rf.get("/", HTTP_AUTHORIZATION="Bearer mct_abc")) == "mct_abc"
    assert bearer_token(rf.get("/", HTTP_AUTHORIZATION="bearer  mct_abc ")) == "mct_abc"
    assert bearer_token(rf.get("/", HTTP_AUTHORIZATION="Basic dXNlcjpwdw==")) is None
    assert bearer_token(rf.get("/", HTTP_AUTHORIZATION="Bearer ")) is None
    assert bearer_token(rf.get("/")) is None


@pytest.mark.django_db
def test_a_token_created_without_a_name_has_an_empty_one():
    User.objects.create_user("alice")
    create_token("alice")
    assert APIToken.objects.get().name == ""


@pytest.mark.django_db
def test_a_token_and_its_user_are_read_in_one_query(django_assert_num_queries):
    User.objects.create_user("alice")
    token = create_token("alice")
    user_for_token(token)  # records its first use
    with django_assert_num_queries(1):  # the token row joined with its user
        assert user_for_token(token).username == "alice"


@pytest.mark.django_db
def test_use_is_recorded_at_most_once_a_minute(monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from catalog.domain import tokens

    User.objects.create_user("alice")
    token = create_token("alice")
    start = timezone.now()
    monkeypatch.setattr(tokens.timezone, "now", lambda: start)
    user_for_token(token)
    assert APIToken.objects.get().last_used == start
    for seconds, recorded in ((30, start), (60, start), (60.5, start + timedelta(seconds=60.5))):
        moment = start + timedelta(seconds=seconds)
        monkeypatch.setattr(tokens.timezone, "now", lambda moment=moment: moment)
        user_for_token(token)
        assert APIToken.objects.get().last_used == recorded, seconds
