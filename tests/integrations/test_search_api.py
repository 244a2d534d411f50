"""GET /api/v1/search/?q= finds instances by any system's id or their business key."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from engine.deploy import deploy
from engine.runtime import start_instance
from integrations import ledger
from tests.engine import bpmn

URL = "/api/v1/search/"


@pytest.fixture
def start(db):
    """Start a waiting instance as `user` with the given business key and ledger ids."""
    deploy(bpmn.user_task_process("waiting"), "waiting.bpmn")

    def start_one(user=None, business_key: str = "", ids: tuple[tuple[str, str], ...] = ()):
        instance, _ = start_instance("waiting", {}, business_key=business_key, user=user)
        ledger.record(instance.pk, ids)
        return instance

    return start_one


def test_it_finds_an_instance_by_an_erp_number_in_any_case(start, make_user, api_as):
    auditor = make_user("audrey", "Auditor")
    wanted = start(ids=(("erp.sale", "SO-1042"), ("erp.sale", "1042")))
    start(ids=(("erp.sale", "SO-1043"),))

    response = api_as(auditor).get(URL, {"q": " so-1042 "})

    assert response.status_code == 200
    assert response.json()["q"] == "so-1042"
    [result] = response.json()["results"]
    assert result["id"] == wanted.pk
    assert result["process_id"] == "waiting"
    assert result["matched"] == [{"kind": "erp.sale", "value": "SO-1042"}]


def test_it_finds_an_instance_by_its_business_key(start, make_user, api_as):
    auditor = make_user("audrey", "Auditor")
    wanted = start(business_key="Q-2024-7")

    response = api_as(auditor).get(URL, {"q": "q-2024-7"})

    [result] = response.json()["results"]
    assert result["id"] == wanted.pk
    assert result["matched"] == [{"kind": "business_key", "value": "Q-2024-7"}]


def test_it_lists_every_instance_that_touched_the_id(start, make_user, api_as):
    auditor = make_user("audrey", "Auditor")
    first = start(ids=(("erp.customer", "C-7"),))
    second = start(ids=(("erp.customer", "C-7"),))

    response = api_as(auditor).get(URL, {"q": "C-7"})

    assert [r["id"] for r in response.json()["results"]] == [second.pk, first.pk]


def test_it_shows_only_instances_the_caller_may_read(start, make_user, api_as):
    owner = make_user("sam", "Sales")
    other = make_user("sue", "Sales")
    mine = start(user=owner, ids=(("erp.sale", "SO-1"),))
    start(user=other, ids=(("erp.sale", "SO-1"),))

    response = api_as(owner).get(URL, {"q": "SO-1"})

    assert [r["id"] for r in response.json()["results"]] == [mine.pk]


def test_it_returns_no_results_for_an_unknown_id(start, make_user, api_as):
    start(ids=(("erp.sale", "SO-1"),))

    response = api_as(make_user("audrey", "Auditor")).get(URL, {"q": "SO-2"})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}])
def test_it_requires_q(params, make_user, api_as):
    response = api_as(make_user("audrey", "Auditor")).get(URL, params)

    assert response.status_code == 400
    assert response.json()["field"] == "q"
    assert "'q'" in response.json()["error"]


def test_it_requires_authentication(db):
    response = APIClient().get(URL, {"q": "SO-1"})

    assert response.status_code in (401, 403)
