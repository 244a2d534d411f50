"""Fixtures for the approvals tests: demo users, the small quote process, started quotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from approvals.forms import _start_fields_cache
from engine import runtime
from engine.deploy import _spec_cache, deploy
from engine.models import HumanTask

BPMN = Path(__file__).parent / "bpmn"
# username → groups; every demo user's password is "demo".
DEMO_USERS = {
    "sales": ["Sales"],
    "manager": ["Manager"],
    "finance": ["Finance"],
    "warehouse": ["Warehouse"],
    "analyst": ["Analyst"],
}
LARGE_LINES = [{"product": "Pump P-200", "qty": 3, "price": 4000}, {"product": "Valve V-10", "qty": 10, "price": 150}]
SMALL_LINES = [{"product": "Valve V-10", "qty": 2, "price": 150}]


@pytest.fixture(autouse=True)
def fresh_caches():
    """Rolled-back tests reuse definition pks; the caches keyed by pk must not outlive a test."""
    _spec_cache.clear()
    _start_fields_cache.clear()
    yield
    _spec_cache.clear()
    _start_fields_cache.clear()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """PBKDF2 makes creating five demo users per test take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_users(make_user) -> dict:
    """The demo users by username, each in their lane's group."""
    return {name: make_user(name, *groups) for name, groups in DEMO_USERS.items()}


@pytest.fixture
def deploy_file(db):
    """Deploy one of tests/approvals/bpmn/*.bpmn and return its definition."""

    def deploy_one(name: str):
        return deploy((BPMN / name).read_bytes(), name).definitions[0]

    return deploy_one


@pytest.fixture
def quote_process(deploy_file):
    return deploy_file("quote_approval.bpmn")


@pytest.fixture
def start_quote(quote_process, demo_users):
    """Start a quote (large by default) as `sales`; returns its first open human task."""

    def start(lines=None, customer="ACME GmbH", business_key="Q-1001") -> HumanTask:
        instance, _ = runtime.start_instance(
            "quote_approval", {"customer": customer, "lines": LARGE_LINES if lines is None else lines},
            business_key=business_key, user=demo_users["sales"])
        return instance.human_tasks.get(state=HumanTask.OPEN)

    return start


@pytest.fixture(scope="module")
def own_tryton(tmp_path_factory):
    """A real trytond (ERP + CRM) for one test module only, so the orders it creates never meet other suites'."""
    from django.conf import settings

    from integrations.tryton import server
    from integrations.tryton.rpc import reset_clients
    from tests.integrations.conftest import run_server

    running = run_server(tmp_path_factory.mktemp("own-tryton"))
    names = {"ERP_URL": running.url, "CRM_URL": running.url, "ERP_DATABASE": "erp", "CRM_DATABASE": "crm"}
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
