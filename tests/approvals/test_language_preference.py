"""The language a user picks is saved for them and applies on any browser they log in from."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from approvals.models import UserPreference

MIDDLEWARE_LINE = "approvals.middleware.UserLanguageMiddleware"


@pytest.fixture(autouse=True)
def user_language_middleware(settings):
    """The middleware right after AuthenticationMiddleware, as lanebridge/settings.py should list it."""
    if MIDDLEWARE_LINE not in settings.MIDDLEWARE:
        at = settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
        settings.MIDDLEWARE = [*settings.MIDDLEWARE[:at], MIDDLEWARE_LINE, *settings.MIDDLEWARE[at:]]


@pytest.fixture(autouse=True, scope="module")
def compiled_messages():
    # The .mo is built at set-up and git-ignored; build it here too so the tests stand alone.
    call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)


def test_a_second_browser_gets_the_language_the_user_chose_in_the_first(demo_users):
    first = Client()
    assert first.login(username="manager", password="demo")
    response = first.post("/language/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"

    second = Client()  # no language cookie: would be English by itself
    assert second.login(username="manager", password="demo")
    body = second.get("/").content.decode()
    assert '<html lang="zh-hans">' in body
    assert "收件箱" in body


def test_choosing_saves_the_preference_and_sets_the_browser_cookie(client, demo_users, settings):
    client.force_login(demo_users["sales"])
    response = client.post("/language/", {"language": "zh-hans", "next": "/"})
    assert UserPreference.objects.get(user=demo_users["sales"]).language == "zh-hans"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"

    client.post("/language/", {"language": "en", "next": "/"})
    assert UserPreference.objects.get(user=demo_users["sales"]).language == "en"
    assert '<html lang="en">' in client.get("/").content.decode()


def test_the_saved_language_wins_over_the_browser_cookie(client, demo_users, settings):
    UserPreference.objects.create(user=demo_users["finance"], language="zh-hans")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(demo_users["finance"])
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


def test_users_without_a_preference_keep_the_browser_language(client, demo_users, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(demo_users["finance"])
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


def test_a_visitor_who_is_not_logged_in_only_gets_the_cookie(client, settings, db):
    response = client.post("/language/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert not UserPreference.objects.exists()
    assert '<html lang="zh-hans">' in client.get("/accounts/login/").content.decode()


def test_a_language_not_offered_is_not_saved(client, demo_users):
    client.force_login(demo_users["sales"])
    client.post("/language/", {"language": "fr", "next": "/"})
    assert not UserPreference.objects.exists()
    assert '<html lang="en">' in client.get("/").content.decode()


def test_it_only_allows_post(client, demo_users):
    client.force_login(demo_users["sales"])
    assert client.get("/language/").status_code == 405


def test_the_switcher_posts_to_the_saving_view(client, demo_users):
    client.force_login(demo_users["sales"])
    assert 'action="/language/"' in client.get("/").content.decode()
