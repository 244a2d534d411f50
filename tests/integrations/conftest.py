"""Fixtures that run the real Tryton server (ERP + CRM databases) for connector tests."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen

import pytest
from django.conf import settings

from integrations.tryton import server
from integrations.tryton.rpc import TrytonClient, reset_clients


@dataclass
class TrytonServer:
    url: str
    port: int
    home: Path
    process: Popen

    def client(self, database: str) -> TrytonClient:
        """Return a fresh client on `database` of this server, for checks beside the operations."""
        return TrytonClient(self.url, database, "admin", server.ADMIN_PASSWORD, error_prefix=database.upper())


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_server(home: Path) -> TrytonServer:
    """Copy the template into `home` and start trytond on a free port."""
    server.build_template(settings.TRYTON_TEMPLATE_DIR)
    port = free_port()
    server.prepare_run(home, port, settings.TRYTON_TEMPLATE_DIR)
    return TrytonServer(f"http://127.0.0.1:{port}", port, home, server.start_server(home, port))


@pytest.fixture(scope="session")
def tryton_server(tmp_path_factory):
    """A real trytond serving fresh copies of the template's `erp` and `crm` databases.

    The connectors' settings point at it for the whole session.
    """
    running = run_server(tmp_path_factory.mktemp("tryton"))
    names = {
        "ERP_URL": running.url,
        "CRM_URL": running.url,
        "TRYTON_PORT": running.port,
        "ERP_DATABASE": "erp",
        "CRM_DATABASE": "crm",
    }
    saved = {name: getattr(settings, name) for name in names}
    for name, value in names.items():
        setattr(settings, name, value)
    reset_clients()
    try:
        yield running
    finally:
        server.stop_server(running.process)
        for name, value in saved.items():
            setattr(settings, name, value)
        reset_clients()


@pytest.fixture
def start_tryton():
    """Return a function that starts another server on a copy of the template (stopped by the caller)."""
    return run_server


@pytest.fixture
def unused_port() -> int:
    """A TCP port with nothing listening on it."""
    return free_port()


@pytest.fixture
def erp(tryton_server) -> TrytonClient:
    """A client on the ERP database, to check what the operations left there."""
    return tryton_server.client("erp")


@pytest.fixture
def crm(tryton_server) -> TrytonClient:
    """A client on the CRM database, to check what the operations left there."""
    return tryton_server.client("crm")
