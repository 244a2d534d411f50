"""An SSO session ends with the provider's: logout reaches the provider, and an expired ID token is checked again."""

import re

from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session

from tests.accounts.test_sso_oidc import sign_in_with_sso

PAGE = "/processes/"


def expire_id_token(username: str) -> None:
    """Make the user's Lanebridge session look as if the ID token's renewal time had passed."""
    user_id = str(User.objects.get(username=username).pk)
    sessions = [SessionStore(session_key=s.session_key) for s in Session.objects.all()]
    mine = [s for s in sessions if s.get("_auth_user_id") == user_id]
    assert mine, f"{username} has no session"
    for session in mine:
        session["oidc_id_token_expiration"] = 0
        session.save()


def log_out(browser, base_url: str):
    page = browser.get(f"{base_url}{PAGE}", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return browser.post(f"{base_url}/accounts/logout/", data={"csrfmiddlewaretoken": csrf},
                        headers={"Referer": f"{base_url}{PAGE}"}, timeout=30)


def test_logging_out_of_an_sso_session_also_ends_the_login_at_the_provider(transactional_db, live_server, oidc_on):
    oidc_on.set_user("mei", "mei-pass", groups=["lanebridge-ops"])
    browser = sign_in_with_sso(live_server.url, "mei", "mei-pass").browser

    answer = log_out(browser, live_server.url)

    assert [r.url.split("?")[0] for r in answer.history][1:] == [f"{oidc_on.url}/o/logout/"]
    assert answer.url == f"{live_server.url}/accounts/login/"
    # The provider forgot her too: signing in again asks for her password instead of passing straight through.
    again = browser.get(f"{live_server.url}/oidc/authenticate/", params={"next": PAGE}, timeout=30)
    assert again.url.startswith(oidc_on.url)
    assert "Log in at the provider" in again.text


def test_a_local_user_logs_out_without_visiting_the_provider(transactional_db, client, oidc_on):
    User.objects.create_user("local", password="local-pass")
    client.login(username="local", password="local-pass")

    answer = client.post("/accounts/logout/")

    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/"


def test_an_expired_id_token_is_renewed_silently_while_the_provider_login_stands(
        transactional_db, live_server, oidc_on):
    oidc_on.set_user("tao", "tao-pass", groups=["lanebridge-ops"])
    browser = sign_in_with_sso(live_server.url, "tao", "tao-pass").browser
    expire_id_token("tao")

    answer = browser.get(f"{live_server.url}{PAGE}", timeout=30)

    assert any(r.url.startswith(f"{oidc_on.url}/o/authorize/") and "prompt=none" in r.url for r in answer.history)
    assert answer.url == f"{live_server.url}{PAGE}"
    assert answer.status_code == 200


def test_a_user_whose_provider_login_ended_is_logged_out_when_the_id_token_expires(
        transactional_db, live_server, oidc_on):
    oidc_on.set_user("ana", "ana-pass", groups=["lanebridge-ops"])
    browser = sign_in_with_sso(live_server.url, "ana", "ana-pass").browser
    assert browser.get(f"{live_server.url}{PAGE}", timeout=30).url == f"{live_server.url}{PAGE}"
    # The provider ends every login it holds (a person disabled there, a password changed).
    oidc_on.manage("shell", "-c", "from django.contrib.sessions.models import Session; Session.objects.all().delete()")
    expire_id_token("ana")

    answer = browser.get(f"{live_server.url}{PAGE}", timeout=30)

    assert answer.url.startswith(f"{live_server.url}/accounts/login/")
    later = browser.get(f"{live_server.url}{PAGE}", timeout=30, allow_redirects=False)
    assert later.status_code == 302 and later.headers["Location"].startswith("/accounts/login/")


def test_the_api_is_not_sent_to_the_provider_when_the_id_token_expires(transactional_db, live_server, oidc_on):
    oidc_on.set_user("kim", "kim-pass", groups=["lanebridge-ops"])
    browser = sign_in_with_sso(live_server.url, "kim", "kim-pass").browser
    expire_id_token("kim")

    answer = browser.get(f"{live_server.url}/api/v1/instances/", timeout=30, allow_redirects=False)

    assert answer.status_code == 200
