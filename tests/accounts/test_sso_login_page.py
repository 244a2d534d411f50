"""The login page offers single sign-on only when a provider is configured, in English and Chinese."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def compiled_messages():
    # The .mo is built at set-up and git-ignored; build it here too so the tests stand alone.
    call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)


@pytest.fixture
def oidc_configured(settings):
    settings.OIDC_RP_CLIENT_ID = "lanebridge"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "http://127.0.0.1:9/authorize"


def test_without_a_provider_the_login_page_has_no_sso_button(client, db):
    body = client.get("/accounts/login/").content.decode()

    assert "Sign in with SSO" not in body
    assert "/oidc/authenticate/" not in body


def test_without_a_provider_the_sso_pages_are_not_found(client, db):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_with_a_provider_the_login_page_offers_sso_and_keeps_where_to_go_next(client, db, oidc_configured):
    body = client.get("/accounts/login/?next=/processes/").content.decode()

    assert "Sign in with SSO" in body
    assert 'action="/oidc/authenticate/"' in body
    assert '<input type="hidden" name="next" value="/processes/">' in body


def test_the_sso_button_and_its_failure_notice_are_in_chinese(client, db, oidc_configured):
    body = client.get("/accounts/login/?sso=failed", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "使用单点登录" in body
    assert "单点登录未能让您登录" in body


def test_sso_sends_the_browser_to_the_provider_with_state_nonce_and_pkce(client, db, oidc_configured):
    response = client.get("/oidc/authenticate/")

    assert response.status_code == 302
    assert response.url.startswith("http://127.0.0.1:9/authorize?")
    for parameter in ("client_id=lanebridge", "state=", "nonce=", "code_challenge=", "redirect_uri="):
        assert parameter in response.url


def backends_for(environment: dict) -> str:
    """AUTHENTICATION_BACKENDS as a fresh process reads them from this environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "LDAP_"))}
    env.update(environment, DJANGO_SETTINGS_MODULE="lanebridge.settings")
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.AUTHENTICATION_BACKENDS)"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout


def test_ldap_and_oidc_are_off_until_their_environment_is_set():
    assert "LDAPBackend" not in backends_for({})
    assert "OIDCBackend" not in backends_for({})
    configured = backends_for({
        "LDAP_SERVER_URI": "ldap://directory.example.org",
        "LDAP_USER_SEARCH_BASE": "ou=people,dc=example,dc=org",
        "OIDC_RP_CLIENT_ID": "lanebridge",
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://sso.example.org/authorize",
    })
    assert "accounts.ldap.LDAPBackend" in configured
    assert "accounts.sso.OIDCBackend" in configured


def test_a_mapping_or_ldap_setting_that_cannot_work_stops_the_start(settings):
    from django.core.checks import run_checks

    settings.LANEBRIDGE_SSO_GROUP_ROLES = "cn=sales,ou=groups,dc=example,dc=org"
    settings.LANEBRIDGE_LDAP = {
        "SERVER_URI": "ldap://127.0.0.1:9",
        "USER_SEARCH_BASE": "ou=people,dc=example,dc=org",
        "GROUP_SEARCH_BASE": "ou=groups,dc=example,dc=org",
        "GROUP_TYPE": "groupOfPeople",
    }

    errors = {error.id: error.msg for error in run_checks()}

    assert '"cn=sales,ou=groups,dc=example,dc=org" is not "provider-group:Role"' in errors["accounts.E001"]
    assert 'LDAP_GROUP_TYPE "groupOfPeople" is not one of groupOfNames' in errors["accounts.E002"]


def test_ldap_without_a_way_to_find_people_stops_the_start(settings):
    from django.core.checks import run_checks

    settings.LANEBRIDGE_LDAP = {"SERVER_URI": "ldap://127.0.0.1:9"}

    errors = {error.id: error.msg for error in run_checks()}

    assert "set LDAP_USER_SEARCH_BASE or LDAP_USER_DN_TEMPLATE" in errors["accounts.E002"]


def test_oidc_without_its_endpoints_stops_the_start(settings):
    from django.core.checks import run_checks

    settings.OIDC_RP_CLIENT_ID = "lanebridge"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://sso.example.org/authorize"

    errors = {error.id: error.msg for error in run_checks()}

    assert errors["accounts.E003"] == (
        "OIDC_RP_CLIENT_ID is set: set OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT, OIDC_OP_JWKS_ENDPOINT too"
    )
