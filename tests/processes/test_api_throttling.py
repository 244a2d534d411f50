"""The API answers 429 with Retry-After past LANEBRIDGE_API_THROTTLE requests per user (anonymous: per address)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.tokens import create_token
from lanebridge.security import throttle_rate
from processes.throttles import AnonThrottle
from tests.wsgi_server import wsgi_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rates(settings):
    """Set the user and anonymous rates for this test."""

    def set_rates(user: str | None, anon: str | None = None) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": user, "anon": anon}}

    return set_rates


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_past_the_rate_a_user_gets_429_with_retry_after_and_others_are_not_held_up(make_user, rates):
    rates("3/min")
    busy, other = client_for(make_user("busy", "Operator")), client_for(make_user("other", "Operator"))
    assert [busy.get("/api/v1/instances/").status_code for _ in range(3)] == [200, 200, 200]
    refused = busy.get("/api/v1/instances/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "throttled" in refused.json()["error"]
    assert other.get("/api/v1/instances/").status_code == 200


def test_with_the_throttle_off_nothing_is_refused(make_user, rates):
    rates(None)
    client = client_for(make_user("busy", "Operator"))
    assert {client.get("/api/v1/instances/").status_code for _ in range(30)} == {200}


def test_callers_without_credentials_are_counted_per_address(rates):
    rates("1000/min", "2/min")
    throttle, view = AnonThrottle(), None
    office, elsewhere = (RequestFactory().get("/", REMOTE_ADDR=ip) for ip in ("10.0.0.1", "10.0.0.2"))
    office.user = elsewhere.user = AnonymousUser()
    assert [throttle.allow_request(office, view) for _ in range(3)] == [True, True, False]
    assert 0 < throttle.wait() <= 60
    assert throttle.allow_request(elsewhere, view)


@pytest.mark.parametrize("value, rate", [("1200/min", "1200/min"), (" 20/second ", "20/second"), ("off", None),
                                         ("0", None), ("", None)])
def test_the_rate_is_read_from_the_environment(monkeypatch, value, rate):
    monkeypatch.setenv("LANEBRIDGE_API_THROTTLE", value)
    assert throttle_rate("LANEBRIDGE_API_THROTTLE", "1200/min") == rate


def test_the_rate_set_in_the_environment_holds_on_a_real_server(make_user, tmp_path):
    _, secret = create_token(make_user("client", "Operator"))
    # Its own var/ directory, so the server's counts start from nothing.
    with wsgi_server(LANEBRIDGE_API_THROTTLE="2/min", LANEBRIDGE_VAR=str(tmp_path)) as (host, port):
        answers = []
        for _ in range(3):
            connection = http.client.HTTPConnection(host, port, timeout=30)
            connection.request("GET", "/api/v1/instances/", headers={"Authorization": f"Token {secret}"})
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.getheader("Retry-After")))
            connection.close()
    assert [status for status, _ in answers] == [200, 200, 429]
    assert 1 <= int(answers[2][1]) <= 60


def test_a_rate_that_does_not_parse_stops_the_start_naming_the_variable():
    environment = {**os.environ, "LANEBRIDGE_API_THROTTLE": "1200 per minute"}
    result = subprocess.run([sys.executable, "manage.py", "check"], env=environment, cwd=settings.BASE_DIR,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ImproperlyConfigured: LANEBRIDGE_API_THROTTLE='1200 per minute': write requests per period" in result.stderr
