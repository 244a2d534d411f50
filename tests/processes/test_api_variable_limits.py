"""Over the API, variables over the size limits get a 400 naming the field and limit; a script's are an incident."""

from __future__ import annotations

import pytest

from engine.deploy import deploy
from engine.models import HumanTask, Incident, ProcessInstance
from tests.engine import bpmn

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(make_user, api_as, settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "MAX_VALUE_BYTES": 1024 * 1024, "MAX_INSTANCE_BYTES": 5 * 1024 * 1024}
    return api_as(make_user("admin", is_superuser=True))


def start(client, process_id: str, variables: dict):
    return client.post(f"/api/v1/processes/{process_id}/instances/", {"variables": variables}, format="json")


def test_a_start_with_a_value_over_the_limit_gets_400_naming_the_field_and_limit(client):
    deploy(bpmn.user_task_process(), "review.bpmn")

    response = start(client, "reviewing", {"note": "n" * (1024 * 1024 + 1)})

    assert response.status_code == 400
    assert "variables.note" in response.json()["error"]
    assert "limit of 1048576 bytes per value (LANEBRIDGE_MAX_VALUE_BYTES)" in response.json()["error"]
    assert not ProcessInstance.objects.exists()


def test_a_start_with_variables_over_the_instance_limit_gets_400_naming_the_limit(client, settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "MAX_INSTANCE_BYTES": 100_000}
    deploy(bpmn.user_task_process(), "review.bpmn")

    response = start(client, "reviewing", {"a": "a" * 60_000, "b": "b" * 60_000})

    assert response.status_code == 400
    assert "limit of 100000 bytes per instance (LANEBRIDGE_MAX_INSTANCE_BYTES)" in response.json()["error"]
    assert not ProcessInstance.objects.exists()


def test_a_completion_with_a_value_over_the_limit_gets_400_and_the_task_stays_open(client):
    deploy(bpmn.user_task_process(), "review.bpmn")
    instance = ProcessInstance.objects.get(pk=start(client, "reviewing", {}).json()["id"])
    task = instance.human_tasks.get()

    response = client.post(f"/api/v1/tasks/{task.pk}/complete/", {"data": {"comment": "c" * (1024 * 1024 + 1)}},
                           format="json")

    assert response.status_code == 400
    assert "data.comment" in response.json()["error"]
    assert "LANEBRIDGE_MAX_VALUE_BYTES" in response.json()["error"]
    task.refresh_from_db()
    assert task.state == HumanTask.OPEN


def test_a_script_making_a_huge_integer_fails_the_instance_and_every_page_of_it_answers(client):
    deploy(bpmn.script_process("x = 10 ** 5000"), "script.bpmn")

    response = start(client, "scripted", {})

    assert response.status_code == 201, response.content
    assert response.json()["state"] == ProcessInstance.FAILED
    incident = Incident.objects.get(instance_id=response.json()["id"])
    assert incident.element_id == "script"
    assert "x is an integer with more than 4300 digits" in incident.message
    for url in (f"/api/v1/instances/{response.json()['id']}/", f"/api/v1/instances/{response.json()['id']}/history/",
                "/api/v1/instances/", "/api/v1/incidents/"):
        assert client.get(url).status_code == 200, url


def test_a_huge_integer_in_the_request_gets_400(client):
    deploy(bpmn.user_task_process(), "review.bpmn")

    response = client.generic("POST", "/api/v1/processes/reviewing/instances/",
                              '{"variables": {"x": 1' + "0" * 5000 + "}}", content_type="application/json")

    assert response.status_code == 400
    assert not ProcessInstance.objects.exists()
