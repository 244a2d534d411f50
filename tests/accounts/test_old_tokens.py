"""Keys made by DRF's authtoken before tokens were hashed keep working, and are no longer stored in clear."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from accounts.models import ApiToken

# Migrations run outside a test transaction, as they do for real.
pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0001_tokens_and_audit")]
AFTER = [("accounts", "0002_hash_old_tokens")]
OLD_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # the shape of a DRF authtoken key: 40 hex digits


@pytest.fixture
def old_table():
    """authtoken's table as an installation before this change has it, with one key."""
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE authtoken_token ("key" varchar(40) NOT NULL PRIMARY KEY, '
                       'created timestamp NOT NULL, user_id integer NOT NULL)')
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE authtoken_token")


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_an_old_key_authenticates_after_the_migration_and_is_gone_from_the_database(make_user, old_table):
    migrate(BEFORE)
    analyst = make_user("analyst", "Analyst")
    created = datetime.datetime(2026, 3, 1, 12, 0)
    with connection.cursor() as cursor:
        cursor.execute('INSERT INTO authtoken_token ("key", created, user_id) VALUES (%s, %s, %s)',
                       [OLD_KEY, created, analyst.pk])
    client = APIClient(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert client.get("/api/v1/instances/").status_code == 401

    migrate(AFTER)

    assert client.get("/api/v1/instances/").status_code == 200
    token = ApiToken.objects.get()
    assert (token.user, token.prefix, token.scopes, token.name) == (analyst, OLD_KEY[:8], [], "migrated")
    assert token.created_at == created.replace(tzinfo=datetime.UTC)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)


def test_the_migration_does_nothing_without_the_old_table(make_user):
    make_user("analyst", "Analyst")
    migrate(BEFORE)
    migrate(AFTER)
    assert not ApiToken.objects.exists()
