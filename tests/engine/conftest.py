"""Fixtures for the engine tests: users, deploying built BPMN, temporary connector operations."""

from __future__ import annotations

import pytest

from engine import connectors
from engine.deploy import _spec_cache, deploy


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", password="pw")


@pytest.fixture
def deployed(db):
    """Deploy BPMN bytes and return the single definition it created."""

    def deploy_one(content: bytes, file_name: str = "test.bpmn", user=None):
        deployment = deploy(content, file_name, user)
        assert len(deployment.definitions) == 1
        return deployment.definitions[0]

    return deploy_one


@pytest.fixture
def operation():
    """Register a connector operation for one test; restored afterwards."""
    added: dict[str, connectors.Operation | None] = {}

    def register(name: str, func, **kwargs):
        if name not in added:
            added[name] = connectors._operations.get(name)
        connectors.register(name, func, **kwargs)
        return func

    yield register
    for name, previous in added.items():
        connectors.unregister(name)
        if previous is not None:
            connectors._operations[name] = previous


@pytest.fixture(autouse=True)
def fresh_spec_cache():
    """Each test starts with an empty spec cache.

    Test transactions roll back, so SQLite hands the same definition pk to the
    next test; the cache must not carry a spec from one test into another
    (test_deploy's stale-cache test proves the engine copes with that on its own).
    """
    _spec_cache.clear()
    yield
    _spec_cache.clear()
