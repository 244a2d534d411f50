"""Security headers: a Content-Security-Policy on every answer; HTTPS settings with LANEBRIDGE_HTTPS=1."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.wsgi_server import wsgi_server

pytestmark = pytest.mark.django_db(transaction=True)

STRONG_KEY = secrets.token_urlsafe(50)
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "lanebridge.example.com,127.0.0.1",
              "LANEBRIDGE_HTTPS": "1"}


@pytest.fixture
def operator(make_user):
    return make_user("operator", "Operator", is_staff=True)


@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/processes/", "/api/v1/instances/", "/api/docs/",
                                 "/admin/", "/no/such/page/"])
def test_every_answer_carries_the_content_security_policy(operator, url):
    client = Client()
    client.force_login(operator)
    response = client.get(url)
    assert response.status_code in (200, 302, 404)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy


def template_files() -> list[Path]:
    roots = [settings.BASE_DIR / "templates", *settings.BASE_DIR.glob("*/templates")]
    return sorted(path for root in roots for path in root.rglob("*.html") if ".venv" not in path.parts)


INLINE = [
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on… event handler attribute"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_template_holds_code_the_policy_would_block():
    """Styles and scripts live in static/ files: inline ones would be refused by the browser."""
    assert len(template_files()) > 10
    found = [f"{path.relative_to(settings.BASE_DIR)}: {what}" for path in template_files()
             for pattern, what in INLINE if pattern.search(path.read_text())]
    assert found == []


def test_the_swagger_ui_start_script_is_served_as_a_file(operator):
    client = Client()
    client.force_login(operator)
    page = client.get("/api/docs/").content.decode()
    script = re.search(r'<script src="([^"]*script=[^"]*)"', page).group(1).replace("&amp;", "&")
    response = client.get(script)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in response.content


def get(host: str, port: int, path: str, method: str = "GET", body: str | None = None,
        **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request(method, path, body=body, headers={"Host": "lanebridge.example.com", **headers})
    response = connection.getresponse()
    response.text = response.read().decode()
    connection.close()
    return response


def test_with_https_on_plain_http_is_redirected_and_https_gets_hsts_and_secure_cookies(operator):
    with wsgi_server(**PRODUCTION) as (host, port):
        plain = get(host, port, "/accounts/login/")
        assert plain.status == 301
        assert plain.headers["Location"] == "https://lanebridge.example.com/accounts/login/"

        # Behind the TLS proxy, which says so in X-Forwarded-Proto.
        secure = get(host, port, "/accounts/login/", **{"X-Forwarded-Proto": "https"})
        assert secure.status == 200
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        cookie = secure.headers["Set-Cookie"]
        assert cookie.startswith("csrftoken=") and "Secure" in cookie.split("; ")
        assert "Content-Security-Policy" in secure.headers

        # Logging in over HTTPS: the session cookie is sent back over HTTPS only.
        csrf_cookie = cookie.split(";")[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', secure.text).group(1)
        login = get(host, port, "/accounts/login/", "POST", f"csrfmiddlewaretoken={token}&username=operator"
                    "&password=demo", **{"X-Forwarded-Proto": "https", "Cookie": csrf_cookie,
                                         "Content-Type": "application/x-www-form-urlencoded",
                                         "Referer": "https://lanebridge.example.com/accounts/login/"})
        assert login.status == 302, login.text[:500]
        session = [c for c in login.headers.get_all("Set-Cookie") if c.startswith("sessionid=")]
        assert session and "Secure" in session[0].split("; ")


def test_without_https_nothing_is_redirected_nor_pinned(db):
    with wsgi_server(**{**PRODUCTION, "LANEBRIDGE_HTTPS": "0"}) as (host, port):
        response = get(host, port, "/accounts/login/")
        assert response.status == 200
        assert "Strict-Transport-Security" not in response.headers
        assert "Secure" not in response.headers["Set-Cookie"].split("; ")


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    return subprocess.run([sys.executable, "manage.py", *args], env={**environment, **env},
                           cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)


def test_the_deploy_check_passes_with_the_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_without_https():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, "LANEBRIDGE_HTTPS": "0"})
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr
