"""Fixtures every suite uses: roles, users and API clients."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from processes.roles import DEMO_LANE_ROLES, ensure_roles

BPMN_DIR = Path(__file__).parent / "bpmn"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """A fresh file test database for SQLite, so threads in one test share it (in-memory ones cannot)."""
    from django.conf import settings

    default = settings.DATABASES["default"]
    if default["ENGINE"].endswith("sqlite3"):
        default.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _no_erp_watcher_in_scheduler_passes(settings):
    """A scheduler pass in a test reads no ERP unless the test says so (a developer's own ERP may be running)."""
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "WATCH_SECONDS": 0}


@pytest.fixture(autouse=True)
def _forget_live_workflows():
    """Each test's database is rolled back and reuses instance ids: workflows kept in memory must not outlive it."""
    from engine import live

    yield
    live.forget()


@pytest.fixture(autouse=True)
def _forget_api_request_counts():
    """Tests reuse user ids within the throttle's minute: one test's requests must not count against the next."""
    from django.core.cache import caches
    from django.core.cache.backends.filebased import FileBasedCache

    yield
    # Only the embedded file cache: Redis (scaled suite) also holds the broker's queues, and there
    # PostgreSQL never reuses a user id anyway.
    if isinstance(caches["throttle"], FileBasedCache):
        caches["throttle"].clear()


@pytest.fixture
def roles(db):
    """The product roles and the demo lane roles as groups."""
    ensure_roles()
    for name in DEMO_LANE_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture
def make_user(roles):
    """Create a user in the given groups: make_user("manager", "Manager")."""

    def make(username: str, *groups: str, **extra) -> User:
        user = User.objects.create_user(username, f"{username}@example.com", "demo", **extra)
        user.groups.add(*Group.objects.filter(name__in=groups))
        return user

    return make


@pytest.fixture
def api_as():
    """An API client logged in as the given user."""

    def client_for(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for
