"""An operator acting on an instance that changed since they read it is told (409), never overwrites blindly."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from engine.repairs import edit_variables
from engine.runtime import start_instance
from tests.engine import bpmn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def instance(roles):
    deploy(bpmn.user_task_process(tasks=("review", "confirm")), "reviewing.bpmn")
    started, _ = start_instance("reviewing", {"amount": 10})
    return started


@pytest.fixture
def operator(make_user):
    return make_user("operator", "Operator")


def test_an_instance_answers_its_version_as_etag_and_a_variable_edit_with_it_goes_through(instance, operator,
                                                                                          api_as):
    api = api_as(operator)
    etag = api.get(f"/api/v1/instances/{instance.pk}/").headers["ETag"]

    response = api.patch(f"/api/v1/instances/{instance.pk}/variables/", {"set": {"amount": 11}, "reason": "fix"},
                         format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert response.json()["variables"]["amount"] == 11
    assert api.get(f"/api/v1/instances/{instance.pk}/").headers["ETag"] != etag


def test_a_variable_edit_with_an_old_etag_gets_409_and_changes_nothing(instance, operator, api_as):
    api = api_as(operator)
    etag = api.get(f"/api/v1/instances/{instance.pk}/").headers["ETag"]
    edit_variables(instance, operator, {"amount": 12}, [], "the other operator's fix")

    response = api.patch(f"/api/v1/instances/{instance.pk}/variables/", {"set": {"amount": 11}, "reason": "fix"},
                         format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 409
    assert "changed since it was read" in response.json()["error"]
    assert ProcessInstance.objects.get(pk=instance.pk).variables["amount"] == 12
    assert instance.history.filter(kind=HistoryEvent.VARIABLES_CHANGED).count() == 1


def test_a_token_move_with_an_old_etag_gets_409_and_moves_nothing(instance, operator, api_as):
    api = api_as(operator)
    etag = api.get(f"/api/v1/instances/{instance.pk}/").headers["ETag"]
    edit_variables(instance, operator, {"amount": 12}, [], "the other operator's fix")

    response = api.post(f"/api/v1/instances/{instance.pk}/modify/",
                        {"cancel": ["review"], "start_before": ["confirm"], "reason": "approved by phone"},
                        format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 409
    assert list(HumanTask.objects.filter(instance=instance, state=HumanTask.OPEN).values_list(
        "element_id", flat=True)) == ["review"]


def test_an_if_match_that_is_no_etag_gets_400_naming_the_header(instance, operator, api_as):
    response = api_as(operator).patch(f"/api/v1/instances/{instance.pk}/variables/",
                                      {"set": {"amount": 11}, "reason": "fix"}, format="json",
                                      HTTP_IF_MATCH="yesterday")

    assert response.status_code == 400 and "If-Match" in response.json()
    assert ProcessInstance.objects.get(pk=instance.pk).variables["amount"] == 10


def test_the_variables_page_refuses_an_edit_made_on_values_changed_since_it_was_opened(instance, operator):
    client = Client()
    client.force_login(operator)
    page = client.get(f"/processes/instances/{instance.pk}/variables/")
    seen = page.context["form"]["seen"].value()
    assert f'name="seen" value="{seen}"' in page.content.decode()
    edit_variables(instance, operator, {"amount": 12}, [], "the other operator's fix")

    response = client.post(f"/processes/instances/{instance.pk}/variables/", {
        "name_0": "amount", "value_0": "11", "reason": "customer called", "seen": seen})

    assert response.status_code == 302
    assert "changed since it was read" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert ProcessInstance.objects.get(pk=instance.pk).variables["amount"] == 12


def test_the_move_token_form_refuses_a_move_decided_on_an_instance_changed_since(instance, operator):
    client = Client()
    client.force_login(operator)
    page = client.get(f"/processes/instances/{instance.pk}/")
    seen = page.context["move_form"]["seen"].value()
    assert f'name="seen" value="{seen}"' in page.content.decode()
    edit_variables(instance, operator, {"amount": 12}, [], "the other operator's fix")
    move = {"cancel": ["review"], "start_before": "confirm", "reason": "approved by phone"}

    refused = client.post(f"/processes/instances/{instance.pk}/move/", {**move, "seen": seen})

    assert refused.status_code == 302
    assert "changed since it was read" in " ".join(str(m) for m in get_messages(refused.wsgi_request))
    assert instance.history.filter(kind=HistoryEvent.TOKENS_MOVED).count() == 0
    # Opened again, the page shows the instance as it is, and the move goes through.
    seen = client.get(f"/processes/instances/{instance.pk}/").context["move_form"]["seen"].value()
    client.post(f"/processes/instances/{instance.pk}/move/", {**move, "seen": seen})
    assert list(HumanTask.objects.filter(instance=instance, state=HumanTask.OPEN).values_list(
        "element_id", flat=True)) == ["confirm"]
