"""The project's WSGI application served by a real HTTP server in a child process, on the test database."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
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
