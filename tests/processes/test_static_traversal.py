"""A path that climbs out of /static/ answers 404 and shows nothing, under every server the project runs on."""

from __future__ import annotations

import http.client

import pytest

from tests.wsgi_server import gunicorn_server, wsgi_server

pytestmark = pytest.mark.django_db(transaction=True)

# Sent exactly as written: http.client does not normalise "..", unlike browsers and most HTTP clients.
CLIMBING = [
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc/passwd",
    "/static/..%252f..%252f..%252fetc/passwd",
    "/static/vendor/../../../../../etc/passwd",
    "/static/..\\..\\..\\..\\etc\\passwd",
    "/static//etc/passwd",
    "/static/lanebridge/../../lanebridge/settings.py",
    "/static/%2e%2e/lanebridge/settings.py",
]


def raw_get(host: str, port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def assert_no_climbing(host: str, port: int) -> None:
    # The server does serve static files: a 404 below means the path was refused, not that nothing is served.
    status, body = raw_get(host, port, "/static/lanebridge/base.css")
    assert status == 200 and b"font" in body
    for path in CLIMBING:
        status, body = raw_get(host, port, path)
        assert status == 404, path
        assert b"root:" not in body and b"SECRET_KEY" not in body, path


@pytest.mark.parametrize("debug", ["0", "1"])
def test_climbing_out_of_static_is_404_on_a_plain_wsgi_server(debug):
    with wsgi_server(DEBUG=debug) as (host, port):
        assert_no_climbing(host, port)


def test_climbing_out_of_static_is_404_under_gunicorn():
    with gunicorn_server() as (host, port):
        assert_no_climbing(host, port)
