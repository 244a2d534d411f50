"""Operators retry, skip and cancel incidents over the API and on the pages; everyone else gets 403."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from engine import connectors
from engine.deploy import deploy
from engine.jobs import run_due_work
from engine.models import HistoryEvent, Incident, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn

# Retries run their call when the request's transaction commits, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def erp():
    """An ERP posting operation, down until `erp["up"]`."""
    state = {"up": False, "calls": 0}

    def post(call):
        state["calls"] += 1
        if not state["up"]:
            raise connectors.RetryableError(f"ERP unreachable (call {state['calls']})")
        return {"number": "SO-1"}

    connectors.register("test.erp_post", post)
    yield state
    connectors.unregister("test.erp_post")


@pytest.fixture
def incident(erp, roles):
    """An open incident on a single-attempt ERP posting of process `servicing`."""
    deploy(bpmn.service_process("test.erp_post", retries=1, result_variable="posting"), "servicing.bpmn")

    def make(key: str = "") -> Incident:
        instance, _ = start_instance("servicing", {}, business_key=key)
        run_due_work(now=timezone.now())
        return Incident.objects.get(instance=instance)

    return make


@pytest.fixture
def operator(make_user, api_as):
    return api_as(make_user("operator", "Operator"))


@pytest.fixture
def manager(make_user, api_as):
    return api_as(make_user("manager", "Manager"))


def test_a_retry_that_fails_again_answers_with_the_open_incident_and_its_new_error(incident, operator):
    pk = incident().pk

    response = operator.post(f"/api/v1/incidents/{pk}/retry/", {"reason": "ERP restarted"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "open" and body["resolved_at"] is None
    assert body["message"] == "ERP unreachable (call 2)" and body["retries"] == 1
    assert body["outcome"].startswith("The call failed again")


def test_a_retry_that_succeeds_answers_resolved(incident, operator, erp):
    pk = incident().pk
    erp["up"] = True

    body = operator.post(f"/api/v1/incidents/{pk}/retry/").json()

    assert body["state"] == "resolved" and body["resolution"] == "retried"


def test_only_operators_retry_skip_or_cancel(incident, manager, make_user, api_as):
    pk = incident().pk
    analyst = api_as(make_user("analyst", "Analyst"))

    for client in (manager, analyst):
        assert client.post(f"/api/v1/incidents/{pk}/retry/").status_code in (403, 404)
        assert client.post(f"/api/v1/incidents/{pk}/resolve/", {"action": "cancel", "comment": "x"},
                           format="json").status_code in (403, 404)
        assert client.post("/api/v1/incidents/retry/", {"ids": [pk]}, format="json").status_code == 403
    assert Incident.objects.get(pk=pk).state == "open"


def test_skip_sets_the_output_and_the_instance_goes_on(incident, operator):
    inc = incident()

    response = operator.post(f"/api/v1/incidents/{inc.pk}/resolve/", {
        "action": "skip", "output": {"posting": {"manual": True}}, "comment": "Posted by hand"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "resolved" and response.json()["resolution"] == "skipped"
    instance = ProcessInstance.objects.get(pk=inc.instance_id)
    assert instance.variables["posting"] == {"manual": True}
    assert instance.human_tasks.get().element_id == "after"
    event = instance.history.get(kind=HistoryEvent.INCIDENT_RESOLVED)
    assert event.user.username == "operator" and event.data["comment"] == "Posted by hand"
    audited = AuditEvent.objects.get(action=AuditEvent.OPERATION)
    assert audited.username == "operator" and audited.detail == "incident.skip: Posted by hand"


def test_cancel_ends_the_instance(incident, operator):
    inc = incident()

    response = operator.post(f"/api/v1/incidents/{inc.pk}/resolve/", {"action": "cancel", "comment": "withdrawn"},
                             format="json")

    assert response.status_code == 200
    assert ProcessInstance.objects.get(pk=inc.instance_id).state == "cancelled"
    again = operator.post(f"/api/v1/incidents/{inc.pk}/resolve/", {"action": "cancel", "comment": "again"},
                          format="json")
    assert again.status_code == 409 and "already resolved" in again.json()["error"]


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "skip"}, "comment"),
    ({"action": "undo", "comment": "x"}, "action"),
    ({"action": "skip", "comment": "x", "output": [1]}, "output"),
])
def test_a_bad_resolve_body_gets_400_naming_the_field(incident, operator, body, field):
    inc = incident()

    response = operator.post(f"/api/v1/incidents/{inc.pk}/resolve/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert Incident.objects.get(pk=inc.pk).state == "open"


def test_a_skip_output_with_a_bad_name_gets_400_naming_it(incident, operator):
    inc = incident()

    response = operator.post(f"/api/v1/incidents/{inc.pk}/resolve/", {
        "action": "skip", "comment": "x", "output": {"_secret": 1}}, format="json")

    assert response.status_code == 400 and "output._secret" in response.json()["error"]


def test_retrying_by_filter_answers_per_incident(incident, operator, erp):
    first, second = incident("A"), incident("B")
    erp["up"] = True

    response = operator.post("/api/v1/incidents/retry/", {"process_id": "servicing", "element_id": "call"},
                             format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["incident"], r["ok"], r["state"]) for r in results] == [
        (first.pk, True, "resolved"), (second.pk, True, "resolved")]
    assert operator.post("/api/v1/incidents/retry/", {}, format="json").status_code == 400


def test_the_incident_pages_skip_with_typed_values_and_show_the_outcome_in_chinese(incident, make_user, erp):
    from django.core.management import call_command

    call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)
    inc = incident()
    client = Client()
    client.force_login(make_user("op", "Operator"))

    retried = client.post(f"/processes/incidents/{inc.pk}/retry/", {"reason": "try", "next": "incident"},
                          HTTP_ACCEPT_LANGUAGE="zh-hans", follow=True)
    assert "再次失败" in retried.content.decode()
    page = client.get(f"/processes/incidents/{inc.pk}/").content.decode()
    assert "ERP unreachable (call 2)" in page and "Skip or cancel" in page
    assert "<code>posting</code>" in page  # the rows are the fields of the call's result variable
    response = client.post(f"/processes/incidents/{inc.pk}/resolve/", {
        "action": "skip", "name_0": "manual", "value_0": "true", "name_1": "amount", "value_1": "12.5",
        "comment": "by hand"})
    assert response.status_code == 302
    variables = ProcessInstance.objects.get(pk=inc.instance_id).variables
    assert variables["posting"] == {"manual": True, "amount": 12.5}
    listing = client.get("/processes/incidents/?process=servicing").content.decode()
    assert "skipped" in listing


def test_the_incident_page_refuses_a_skip_without_a_reason(incident, make_user):
    inc = incident()
    client = Client()
    client.force_login(make_user("op", "Operator"))

    response = client.post(f"/processes/incidents/{inc.pk}/resolve/", {"action": "skip"})

    assert response.status_code == 400
    assert Incident.objects.get(pk=inc.pk).state == "open"
