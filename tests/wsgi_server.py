"""The project's WSGI application served by a real HTTP server in a child process, on the test database."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import connection

SERVE = """
from wsgiref.simple_server import WSGIRequestHandler, make_server

from lanebridge.wsgi import application


class Handler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", 0, application, handler_class=Handler)
print(server.server_port, flush=True)
server.serve_forever()
"""


def database_environment() -> dict[str, str]:
    """Environment variables that point a child process at the database this test uses."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"SQLITE_PATH": db["NAME"]}
    return {"DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
                            f"{db['PORT'] or 5432}/{db['NAME']}"}


@contextlib.contextmanager
def wsgi_server(**env: str) -> Iterator[tuple[str, int]]:
    """Serve `lanebridge.wsgi.application` with the given extra environment; yields (host, port)."""
    environment = {**os.environ, **database_environment(), **env}
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen([sys.executable, "-c", SERVE], env=environment, cwd=settings.BASE_DIR,
                                stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            port = proc.stdout.readline().strip()
            if not port:
                proc.wait(timeout=10)
                log.seek(0)
                raise RuntimeError(f"the server did not start: {log.read()[-2000:]}")
            yield "127.0.0.1", int(port)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn_server(**env: str) -> Iterator[tuple[str, int]]:
    """Serve the application under gunicorn with the project's gunicorn settings (one worker); yields (host, port)."""
    port = free_port()
    environment = {**os.environ, **database_environment(), "LANEBRIDGE_WEB_BIND": f"127.0.0.1:{port}",
                   "LANEBRIDGE_WEB_WORKERS": "1", "LANEBRIDGE_WEB_THREADS": "2", **env}
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "python:lanebridge.gunicorn"],
                                env=environment, cwd=settings.BASE_DIR, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while not _answers("127.0.0.1", port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"gunicorn did not start: {log.read()[-2000:]}")
                time.sleep(0.1)
            yield "127.0.0.1", port
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _answers(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0
