"""The incidents page: filter by process and element, tick many, retry, skip with the result's fields, or cancel."""

import pytest
from django.test import Client
from django.utils import timezone

from engine import connectors
from engine.deploy import deploy
from engine.jobs import run_due_work
from engine.models import Incident, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn

# Retries run their call when the request's transaction commits, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def erp():
    state = {"up": False}

    def post(call):
        if not state["up"]:
            raise connectors.RetryableError("ERP unreachable")
        return {"number": "SO-1"}

    connectors.register("test.erp_post", post, ledger={"number": "erp.sale"})
    yield state
    connectors.unregister("test.erp_post")


@pytest.fixture
def incidents(erp, roles):
    deploy(bpmn.service_process("test.erp_post", retries=1, result_variable="posting"), "servicing.bpmn")
    made = []
    for n in range(3):
        instance, _ = start_instance("servicing", {}, business_key=f"K-{n}")
        run_due_work(now=timezone.now())
        made.append(Incident.objects.get(instance=instance))
    return made


@pytest.fixture
def operator(make_user):
    client = Client()
    client.force_login(make_user("op", "Operator"))
    return client


def test_filtered_to_one_call_the_skip_form_names_its_result_variable_and_known_fields(incidents, operator):
    page = operator.get("/processes/incidents/?process=servicing&element=call").content.decode()

    assert "<code>posting</code>" in page and 'value="number"' in page
    assert '<option value="call" selected>call</option>' in page


def test_skipping_many_completes_each_with_the_typed_fields_and_says_so(incidents, operator):
    first, second, _third = incidents

    response = operator.post("/processes/incidents/retry/", {
        "process": "servicing", "element": "call", "ids": [first.pk, second.pk], "action": "skip",
        "name_0": "number", "value_0": "SO-MANUAL", "name_1": "manual", "value_1": "true",
        "reason": "Posted by hand"}, follow=True)

    page = response.content.decode()
    assert f"Incident {first.pk}: step skipped" in page and f"Incident {second.pk}: step skipped" in page
    for incident in (first, second):
        instance = ProcessInstance.objects.get(pk=incident.instance_id)
        assert instance.variables["posting"] == {"number": "SO-MANUAL", "manual": True}
        assert instance.human_tasks.get().element_id == "after"
        assert Incident.objects.get(pk=incident.pk).resolution == Incident.SKIPPED


def test_cancelling_many_ends_their_instances(incidents, operator):
    response = operator.post("/processes/incidents/retry/", {
        "ids": [i.pk for i in incidents], "action": "cancel", "reason": "Orders withdrawn"}, follow=True)

    assert response.content.decode().count("instance cancelled; the incident is closed") == 3
    assert set(ProcessInstance.objects.values_list("state", flat=True)) == {"cancelled"}


def test_a_retry_of_many_tells_each_outcome_truthfully(incidents, operator, erp):
    first, second, _third = incidents
    failed = operator.post("/processes/incidents/retry/", {"ids": [first.pk], "action": "retry"},
                           follow=True).content.decode()
    assert f"Incident {first.pk}: the call failed again" in failed
    assert Incident.objects.get(pk=first.pk).state == "open"

    erp["up"] = True
    succeeded = operator.post("/processes/incidents/retry/", {"ids": [second.pk], "action": "retry"},
                              follow=True).content.decode()
    assert f"Incident {second.pk}: the call succeeded" in succeeded
    assert Incident.objects.get(pk=second.pk).state == "resolved"


def test_skip_and_cancel_need_a_reason(incidents, operator):
    response = operator.post("/processes/incidents/retry/", {"ids": [incidents[0].pk], "action": "cancel"},
                             follow=True)

    assert "Give a reason to skip or cancel." in response.content.decode()
    assert Incident.objects.get(pk=incidents[0].pk).state == "open"


def test_people_without_the_right_cannot_act_on_incidents(incidents, make_user):
    client = Client()
    client.force_login(make_user("auditor", "Auditor"))

    response = client.post("/processes/incidents/retry/", {"ids": [incidents[0].pk], "action": "cancel",
                                                           "reason": "x"})
    assert response.status_code == 403
    assert Incident.objects.get(pk=incidents[0].pk).state == "open"
