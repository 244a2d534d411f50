"""Starting, reading and cancelling instances, and completing tasks, over the API."""

import pytest
from rest_framework.test import APIClient

from engine import connectors
from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, Incident, ProcessInstance
from tests.conftest import BPMN_DIR

# Jobs are handed to the worker on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

START = "/api/v1/processes/approval/instances/"
LINES = {"lines": [{"qty": 2, "price": 10}]}


@pytest.fixture
def people(make_user, api_as):
    deploy((BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn")
    users = {
        "analyst": make_user("analyst", "Analyst"),
        "sales": make_user("sales", "Sales"),
        "manager": make_user("manager", "Manager"),
        "operator": make_user("operator", "Operator"),
    }
    return {name: api_as(user) for name, user in users.items()}


def start(client, **extra):
    return client.post(START, {"business_key": "Q-1", "variables": LINES}, format="json", **extra)


def test_starting_returns_201_with_the_instance_and_its_open_tasks(people):
    response = start(people["analyst"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "active" and body["business_key"] == "Q-1"
    assert body["variables"]["total"] == 20
    assert [t["name"] for t in body["tasks"]] == ["Approve quote"]
    assert body["tasks"][0]["lane"] == "Manager"


def test_the_same_idempotency_key_returns_the_same_instance(people):
    first = start(people["analyst"], HTTP_IDEMPOTENCY_KEY="order-77")
    second = start(people["analyst"], HTTP_IDEMPOTENCY_KEY="order-77")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert ProcessInstance.objects.count() == 1


@pytest.mark.parametrize("variables", [[1, 2], "text", 3])
def test_variables_that_are_not_an_object_get_400(people, variables):
    response = people["analyst"].post(START, {"variables": variables}, format="json")
    assert response.status_code == 400
    assert "variables" in response.json()
    assert ProcessInstance.objects.count() == 0


def test_reserved_variable_names_get_400(people):
    response = people["analyst"].post(START, {"variables": {"lines": [], "x": {"typename": "y"}}}, format="json")
    assert response.status_code == 400
    assert "typename" in response.json()["error"]


def test_an_unknown_process_gets_404(people):
    response = people["analyst"].post("/api/v1/processes/nope/instances/", {}, format="json")
    assert response.status_code == 404
    assert "nope" in response.json()["error"]


def test_completing_a_task_advances_the_instance(people):
    task_id = start(people["analyst"]).json()["tasks"][0]["id"]
    response = people["manager"].post(f"/api/v1/tasks/{task_id}/complete/", {"data": {"approved": True}},
                                      format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "completed"
    assert body["variables"]["approved"] is True


def test_completing_twice_gets_409(people):
    task_id = start(people["analyst"]).json()["tasks"][0]["id"]
    url = f"/api/v1/tasks/{task_id}/complete/"
    assert people["manager"].post(url, {"data": {}}, format="json").status_code == 200
    again = people["manager"].post(url, {"data": {}}, format="json")
    assert again.status_code == 409
    assert "already completed" in again.json()["error"]


def test_another_lane_gets_403_and_the_task_stays_open(people):
    task_id = start(people["analyst"]).json()["tasks"][0]["id"]
    response = people["sales"].post(f"/api/v1/tasks/{task_id}/complete/", {"data": {}}, format="json")
    assert response.status_code == 403
    assert HumanTask.objects.get(pk=task_id).state == HumanTask.OPEN


def test_task_data_must_be_an_object(people):
    task_id = start(people["analyst"]).json()["tasks"][0]["id"]
    response = people["manager"].post(f"/api/v1/tasks/{task_id}/complete/", {"data": [1]}, format="json")
    assert response.status_code == 400


def test_the_task_list_shows_only_tasks_the_caller_may_act_on(people):
    start(people["analyst"])
    assert people["manager"].get("/api/v1/tasks/").json()["count"] == 1
    assert people["sales"].get("/api/v1/tasks/").json()["count"] == 0


def test_claiming_assigns_the_task_and_others_of_the_role_can_no_longer_act(people, make_user, api_as):
    other_manager = api_as(make_user("manager2", "Manager"))
    task_id = start(people["analyst"]).json()["tasks"][0]["id"]
    claimed = people["manager"].post(f"/api/v1/tasks/{task_id}/claim/")
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "manager"
    response = other_manager.post(f"/api/v1/tasks/{task_id}/complete/", {"data": {}}, format="json")
    assert response.status_code == 403


def test_instances_are_filtered_and_visible_only_to_those_involved(people):
    instance_id = start(people["analyst"]).json()["id"]
    assert people["operator"].get("/api/v1/instances/?state=active").json()["count"] == 1
    assert people["operator"].get("/api/v1/instances/?state=completed").json()["count"] == 0
    assert people["operator"].get("/api/v1/instances/?business_key=Q-1").json()["count"] == 1
    assert people["manager"].get(f"/api/v1/instances/{instance_id}/").status_code == 200
    assert people["sales"].get(f"/api/v1/instances/{instance_id}/").status_code == 404


def test_history_lists_what_happened_in_order(people):
    body = start(people["analyst"]).json()
    people["manager"].post(f"/api/v1/tasks/{body['tasks'][0]['id']}/complete/", {"data": {"approved": True}},
                           format="json")
    history = people["operator"].get(f"/api/v1/instances/{body['id']}/history/").json()
    kinds = [event["kind"] for event in history]
    assert kinds == ["started", "task_ready", "task_completed", "service_attempt", "service_result", "completed"]
    completed = history[2]
    assert completed["user"] == "manager" and completed["data"]["data"]["approved"] is True


def test_operators_cancel_and_others_may_not(people):
    instance_id = start(people["analyst"]).json()["id"]
    assert people["manager"].post(f"/api/v1/instances/{instance_id}/cancel/").status_code == 403
    response = people["operator"].post(f"/api/v1/instances/{instance_id}/cancel/", {"reason": "duplicate"},
                                       format="json")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert HumanTask.objects.get(instance_id=instance_id).state == HumanTask.CANCELLED
    assert people["operator"].post(f"/api/v1/instances/{instance_id}/cancel/").status_code == 409


def test_a_failed_call_becomes_an_incident_that_operators_retry(people, settings):
    calls = []

    def flaky(call):
        calls.append(call.idempotency_key)
        if len(calls) <= 3:
            raise connectors.RetryableError("connection refused")
        return {"ok": True}

    connectors.register("test.echo", flaky)
    try:
        from datetime import timedelta

        from django.utils import timezone

        from engine.jobs import run_due_work

        body = start(people["analyst"]).json()
        people["manager"].post(f"/api/v1/tasks/{body['tasks'][0]['id']}/complete/", {"data": {}}, format="json")
        run_due_work(now=timezone.now() + timedelta(minutes=1))
        run_due_work(now=timezone.now() + timedelta(minutes=2))
        incidents = people["operator"].get("/api/v1/incidents/").json()
        assert incidents["count"] == 1
        incident = incidents["results"][0]
        assert incident["message"] == "connection refused"
        assert incident["details"]["input"] == {"total": 20}
        assert people["manager"].post(f"/api/v1/incidents/{incident['id']}/retry/").status_code == 403
        retried = people["operator"].post(f"/api/v1/incidents/{incident['id']}/retry/")
        assert retried.status_code == 200
        assert ProcessInstance.objects.get(pk=body["id"]).state == "completed"
        assert Incident.objects.get(pk=incident["id"]).state == "resolved"
        assert len(set(calls)) == 1 and len(calls) == 4
        kinds = list(HistoryEvent.objects.filter(instance_id=body["id"]).values_list("kind", flat=True))
        assert "incident" in kinds and "incident_retried" in kinds
    finally:
        from integrations import builtin

        connectors.register("test.echo", builtin.echo)


def test_openapi_schema_and_docs_need_login(people):
    assert APIClient().get("/api/schema/").status_code == 401
    assert people["analyst"].get("/api/schema/").status_code == 200
    assert people["analyst"].get("/api/docs/").status_code == 200


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_the_api_docs_page_answers_an_anonymous_visitor_401_rather_than_failing(method):
    response = getattr(APIClient(), method)("/api/docs/")
    assert response.status_code == 401


def test_the_api_docs_page_answers_options_405_rather_than_failing(people):
    assert people["analyst"].options("/api/docs/").status_code == 405
    assert people["analyst"].get("/api/docs/").status_code == 200
