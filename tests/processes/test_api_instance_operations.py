"""Operators suspend, resume and repair instances over the API and the instance page; everyone else gets 403."""

import pytest
from django.test import Client

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn

# Resuming runs what fell due when the request's transaction commits, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def instance(roles):
    deploy(bpmn.user_task_process(), "reviewing.bpmn")
    started, _ = start_instance("reviewing", {"customer": "C-1", "amount": 10})
    return started


@pytest.fixture
def operator(make_user, api_as):
    return api_as(make_user("operator", "Operator"))


def test_suspend_and_resume_answer_with_the_instance_and_land_in_history(instance, operator):
    suspended = operator.post(f"/api/v1/instances/{instance.pk}/suspend/", {"reason": "Customer on hold"},
                              format="json")
    assert suspended.status_code == 200, suspended.content
    assert suspended.json()["state"] == "suspended"

    resumed = operator.post(f"/api/v1/instances/{instance.pk}/resume/", {"reason": "Customer paid"}, format="json")
    assert resumed.status_code == 200 and resumed.json()["state"] == "active"
    history = operator.get(f"/api/v1/instances/{instance.pk}/history/").json()
    events = [(e["kind"], e["user"], e["data"].get("reason")) for e in history if e["kind"] in ("suspended", "resumed")]
    assert events == [("suspended", "operator", "Customer on hold"), ("resumed", "operator", "Customer paid")]


def test_completing_a_task_of_a_suspended_instance_gets_409_naming_the_state(instance, operator, make_user, api_as):
    operator.post(f"/api/v1/instances/{instance.pk}/suspend/", {"reason": "hold"}, format="json")
    task = instance.human_tasks.get()
    superuser = api_as(make_user("root", is_superuser=True))

    response = superuser.post(f"/api/v1/tasks/{task.pk}/complete/", {"data": {}}, format="json")

    assert response.status_code == 409 and "suspended" in response.json()["error"]
    assert HumanTask.objects.get(pk=task.pk).state == HumanTask.OPEN


def test_suspend_needs_a_reason_and_the_right_state(instance, operator):
    missing = operator.post(f"/api/v1/instances/{instance.pk}/suspend/", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    resume_active = operator.post(f"/api/v1/instances/{instance.pk}/resume/", {"reason": "x"}, format="json")
    assert resume_active.status_code == 409 and "is active" in resume_active.json()["error"]
    assert ProcessInstance.objects.get(pk=instance.pk).state == "active"


@pytest.mark.parametrize("role", ["Analyst", "Manager", "Auditor"])
def test_only_operators_and_superusers_suspend_or_resume(instance, make_user, api_as, role):
    client = api_as(make_user("someone", role))

    for action in ("suspend", "resume"):
        response = client.post(f"/api/v1/instances/{instance.pk}/{action}/", {"reason": "x"}, format="json")
        assert response.status_code in (403, 404)
    assert ProcessInstance.objects.get(pk=instance.pk).state == "active"
    superuser = api_as(make_user("root", is_superuser=True))
    assert superuser.post(f"/api/v1/instances/{instance.pk}/suspend/", {"reason": "x"},
                          format="json").status_code == 200


def test_the_instance_page_suspends_and_resumes_with_a_reason(instance, make_user):
    client = Client()
    client.force_login(make_user("op", "Operator"))
    page = client.get(f"/processes/instances/{instance.pk}/").content.decode()
    assert f'action="/processes/instances/{instance.pk}/suspend/"' in page

    refused = client.post(f"/processes/instances/{instance.pk}/suspend/", {"reason": ""}, follow=True)
    assert "Give a reason." in refused.content.decode()
    assert ProcessInstance.objects.get(pk=instance.pk).state == "active"

    page = client.post(f"/processes/instances/{instance.pk}/suspend/", {"reason": "hold"}, follow=True)
    assert "This instance is suspended" in page.content.decode()
    client.post(f"/processes/instances/{instance.pk}/resume/", {"reason": "go"})
    assert ProcessInstance.objects.get(pk=instance.pk).state == "active"
    assert instance.history.filter(kind=HistoryEvent.RESUMED, user__username="op").count() == 1
