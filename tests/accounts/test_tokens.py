"""API tokens are kept hashed, expire, can be revoked, and keep working with the old header."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import ApiToken

pytestmark = pytest.mark.django_db

URL = "/api/v1/instances/"


def client_with(secret: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {secret}")


def all_stored_text() -> str:
    """Every value of every row of every table, as text."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            parts.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(parts)


def test_the_secret_is_not_stored_only_its_sha256_and_a_prefix(make_user):
    token, secret = tokens.create_token(make_user("analyst", "Analyst"), "crm")
    assert secret not in all_stored_text()
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == tokens.digest(secret) and len(stored.digest) == 64
    assert secret.startswith(stored.prefix) and len(stored.prefix) < 12
    assert client_with(secret).get(URL).status_code == 200


def test_a_user_may_have_several_tokens_that_all_work(make_user):
    user = make_user("analyst", "Analyst")
    secrets = [tokens.create_token(user, name)[1] for name in ("crm", "shop", "script")]
    assert len(set(secrets)) == 3
    assert [client_with(secret).get(URL).status_code for secret in secrets] == [200, 200, 200]


def test_an_unknown_token_gets_401(make_user):
    response = client_with("lb_not-a-token").get(URL)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token."}


def test_a_token_works_until_it_expires(make_user, monkeypatch):
    _token, secret = tokens.create_token(make_user("analyst", "Analyst"), expires_days=1)
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now + datetime.timedelta(hours=23))
    assert client_with(secret).get(URL).status_code == 200
    monkeypatch.setattr(timezone, "now", lambda: now + datetime.timedelta(days=1, seconds=1))
    response = client_with(secret).get(URL)
    assert response.status_code == 401
    assert response.json() == {"error": "Token expired."}


def test_a_revoked_token_is_refused_from_then_on(make_user):
    token, secret = tokens.create_token(make_user("analyst", "Analyst"))
    assert client_with(secret).get(URL).status_code == 200
    assert tokens.revoke_token(token) is True
    assert tokens.revoke_token(token) is False
    response = client_with(secret).get(URL)
    assert response.status_code == 401
    assert response.json() == {"error": "Token revoked."}


def test_a_token_of_a_deactivated_user_is_refused(make_user):
    user = make_user("analyst", "Analyst")
    _token, secret = tokens.create_token(user)
    user.is_active = False
    user.save()
    assert client_with(secret).get(URL).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(make_user, django_assert_num_queries):
    token, _secret = tokens.create_token(make_user("analyst", "Analyst"))
    start = timezone.now()
    tokens.touch(token, start)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == start
    with django_assert_num_queries(0):
        tokens.touch(token, start + datetime.timedelta(seconds=59))
    tokens.touch(token, start + datetime.timedelta(seconds=61))
    assert ApiToken.objects.get(pk=token.pk).last_used_at == start + datetime.timedelta(seconds=61)


def test_using_a_token_notes_when_it_was_last_used(make_user):
    token, secret = tokens.create_token(make_user("analyst", "Analyst"))
    assert token.last_used_at is None
    client_with(secret).get(URL)
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_unknown_scopes_are_refused_by_name(make_user):
    with pytest.raises(tokens.InvalidScope, match="'instances:delete'"):
        tokens.create_token(make_user("analyst", "Analyst"), scopes=["read", "instances:delete"])
    assert not ApiToken.objects.exists()
