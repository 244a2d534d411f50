"""POST /api/v1/instances/{id}/modify/: operators move tokens with a reason; bad elements get 400 naming them."""

import pytest

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn


@pytest.fixture
def instance(roles):
    deploy(bpmn.user_task_process(tasks=("review", "confirm")), "reviewing.bpmn")
    started, _ = start_instance("reviewing", {"amount": 10})
    return started


@pytest.fixture
def operator(make_user, api_as):
    return api_as(make_user("operator", "Operator"))


def url(instance) -> str:
    return f"/api/v1/instances/{instance.pk}/modify/"


def test_an_operator_skips_a_step_and_the_answer_shows_the_new_task(instance, operator):
    response = operator.post(url(instance), {"cancel": ["review"], "start_before": ["confirm"],
                                             "variables": {"approved": "phone"}, "reason": "Approved by phone"},
                             format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [t["element_id"] for t in body["tasks"]] == ["confirm"] and body["variables"]["approved"] == "phone"
    event = instance.history.get(kind=HistoryEvent.TOKENS_MOVED)
    assert event.user.username == "operator" and event.data["reason"] == "Approved by phone"


def test_the_audit_log_records_the_move(instance, operator):
    from accounts.models import AuditEvent

    operator.post(url(instance), {"cancel": ["review"], "start_before": ["confirm"], "reason": "By phone"},
                  format="json")

    assert AuditEvent.objects.filter(action=AuditEvent.OPERATION,
                                     detail__startswith="instance.modify: By phone").exists()


@pytest.mark.parametrize(("body", "field", "named"), [
    ({"cancel": ["nowhere"], "start_before": ["confirm"], "reason": "x"}, "cancel", "nowhere"),
    ({"cancel": ["review"], "start_before": ["ghost"], "reason": "x"}, "start_before", "ghost"),
    ({"cancel": ["confirm"], "start_before": ["review"], "reason": "x"}, "cancel", "confirm"),
])
def test_unknown_elements_and_elements_without_a_token_get_400_naming_them(instance, operator, body, field, named):
    response = operator.post(url(instance), body, format="json")

    assert response.status_code == 400
    assert response.json()["field"] == field and response.json()["elements"] == [named]
    assert named in response.json()["error"]
    assert HumanTask.objects.get(instance=instance).element_id == "review"


def test_a_missing_reason_gets_400_naming_it(instance, operator):
    response = operator.post(url(instance), {"cancel": ["review"], "start_before": ["confirm"]}, format="json")

    assert response.status_code == 400 and "reason" in response.json()


def test_a_suspended_or_ended_instance_gets_409(instance, operator):
    operator.post(f"/api/v1/instances/{instance.pk}/suspend/", {"reason": "hold"}, format="json")
    body = {"cancel": ["review"], "start_before": ["confirm"], "reason": "x"}

    suspended = operator.post(url(instance), body, format="json")
    assert suspended.status_code == 409 and "suspended" in suspended.json()["error"]
    operator.post(f"/api/v1/instances/{instance.pk}/cancel/", {"reason": "gone"}, format="json")
    assert operator.post(url(instance), body, format="json").status_code == 409


@pytest.mark.parametrize("role", ["Analyst", "Manager", "Auditor"])
def test_only_operators_and_superusers_move_tokens(instance, make_user, api_as, role):
    body = {"cancel": ["review"], "start_before": ["confirm"], "reason": "x"}

    response = api_as(make_user("someone", role)).post(url(instance), body, format="json")

    assert response.status_code in (403, 404)
    assert HumanTask.objects.get(instance=instance).element_id == "review"
    superuser = api_as(make_user("root", is_superuser=True))
    assert superuser.post(url(instance), body, format="json").status_code == 200
    assert ProcessInstance.objects.get(pk=instance.pk).state == "active"
