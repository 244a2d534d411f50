"""The token page lists your tokens, makes one (its secret shown once) and revokes them, in both languages."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import ApiToken, AuditEvent
from engine.deploy import deploy
from tests.conftest import BPMN_DIR

pytestmark = pytest.mark.django_db

PAGE = "/accounts/tokens/"


@pytest.fixture
def analyst(make_user):
    deploy((BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn")
    return make_user("analyst", "Analyst")


@pytest.fixture
def browser(analyst) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    return client


def csrf(client: Client) -> str:
    page = client.get(PAGE).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_the_page_needs_a_login():
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_is_linked_from_the_header(browser):
    assert f'href="{PAGE}"' in browser.get("/").content.decode()


def test_it_lists_only_my_tokens_with_prefix_scopes_and_dates(browser, analyst, make_user):
    mine, _ = tokens.create_token(analyst, "CRM", ["read"], expires_days=30)
    theirs, _ = tokens.create_token(make_user("sales", "Sales"), "shop")
    page = browser.get(PAGE).content.decode()
    assert "CRM" in page and f"{mine.prefix}…" in page and ">read<" in page
    assert mine.expires_at.strftime("%Y-%m-%d") in page
    assert theirs.prefix not in page and "shop" not in page


def test_creating_a_token_shows_its_secret_once_and_the_api_accepts_it(browser, analyst):
    response = browser.post(PAGE, {"csrfmiddlewaretoken": csrf(browser), "name": "shop", "expires_days": "7",
                                   "scopes": ["read"], "start_processes": ["approval"]})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]
    secret = re.search(r'<code id="secret">([^<]+)</code>', response.content.decode()).group(1)
    token = ApiToken.objects.get(user=analyst)
    assert (token.name, token.scopes) == ("shop", ["read", "instances:start:approval"])
    assert secret not in browser.get(PAGE).content.decode()
    api = APIClient(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/instances/").status_code == 200


def test_a_post_without_the_csrf_token_is_refused(browser):
    assert browser.post(PAGE, {"name": "shop"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_bad_input_is_shown_on_the_form(browser):
    response = browser.post(PAGE, {"csrfmiddlewaretoken": csrf(browser), "expires_days": "0"})
    assert response.status_code == 400
    assert "expires_days" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_stops_the_token_and_is_audited(browser, analyst):
    token, secret = tokens.create_token(analyst, "shop")
    response = browser.post(f"/accounts/tokens/{token.pk}/revoke/", {"csrfmiddlewaretoken": csrf(browser)})
    assert response.status_code == 302
    assert APIClient(HTTP_AUTHORIZATION=f"Token {secret}").get("/api/v1/instances/").status_code == 401
    assert ">revoked<" in browser.get(PAGE).content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.TOKEN_REVOKED)
    assert (event.user, event.object) == (analyst, f"token {token.prefix}… of analyst")


def test_nobody_revokes_someone_elses_token(browser, make_user):
    token, secret = tokens.create_token(make_user("sales", "Sales"))
    response = browser.post(f"/accounts/tokens/{token.pk}/revoke/", {"csrfmiddlewaretoken": csrf(browser)})
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_revoking_needs_a_post(browser, analyst):
    token, _ = tokens.create_token(analyst)
    assert browser.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_the_page_speaks_chinese(analyst):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(analyst)
    page = client.get(PAGE).content.decode()
    assert "API 令牌" in page and "创建令牌" in page and "启动任何流程的实例" in page


def test_someone_who_may_start_nothing_is_not_offered_processes_to_start(browser, make_user):
    assert "Start only these processes" in browser.get(PAGE).content.decode()  # the analyst may start approval
    client = Client()
    client.force_login(make_user("clerk"))
    assert "Start only these processes" not in client.get(PAGE).content.decode()
    assert client.post(PAGE, {"name": "x", "scopes": ["read"]}).status_code == 200
    assert ApiToken.objects.get().scopes == ["read"]
