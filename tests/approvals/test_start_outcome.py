"""A start says how far the order got: waiting at a step, stopped at a failing call, failed, or retrying."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from engine import connectors
from engine.models import ProcessInstance

# The call runs when the start commits, as in the embedded setup, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outcomes(deploy_file, demo_users, client):
    deploy_file("order_outcomes.bpmn")
    client.force_login(demo_users["sales"])
    return client


def start(client, path: str):
    response = client.post("/start/order_outcomes/", {"business_key": f"O-{path}", "path": path})
    instance = ProcessInstance.objects.get(business_key=f"O-{path}")
    return response, instance, [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_a_start_that_waits_at_a_task_says_where(outcomes):
    response, instance, said = start(outcomes, "review")
    assert response.status_code == 302
    assert said == [("success", f"Started Order outcomes #{instance.pk}. It now waits at: Review order.")]


def test_a_start_whose_first_call_is_refused_says_it_stopped_there_and_why(outcomes):
    response, instance, said = start(outcomes, "call")
    assert instance.incidents.filter(state="open").exists()
    ((level, sentence),) = said
    assert level == "error"
    assert sentence.startswith(f"Started Order outcomes #{instance.pk}, but it stopped at Send order to ERP: ")
    assert "customer has no address" in sentence
    assert "Started Order outcomes" in sentence and not sentence.endswith(f"#{instance.pk}.")


def test_a_start_whose_script_fails_says_it_failed(outcomes):
    response, instance, said = start(outcomes, "script")
    assert instance.state == ProcessInstance.FAILED
    ((level, sentence),) = said
    assert level == "error"
    assert sentence.startswith(f"Started Order outcomes #{instance.pk}, but it failed at Check stock: ")
    assert "division by zero" in sentence


@pytest.fixture
def unreachable_erp():
    """test.reject answers as an ERP that cannot be reached, for one test."""
    original = connectors.get_operation("test.reject")

    def unreachable(call):
        raise connectors.RetryableError("ERP could not be reached: connection refused")

    connectors.register("test.reject", unreachable)
    yield
    connectors.register("test.reject", original.func)


def test_a_start_whose_call_will_be_retried_says_so(outcomes, unreachable_erp):
    response, instance, said = start(outcomes, "call")
    assert instance.state == ProcessInstance.ACTIVE and not instance.incidents.exists()
    assert said == [("warning", f"Started Order outcomes #{instance.pk}, but Send order to ERP failed and will be "
                                "tried again: ERP could not be reached: connection refused")]


def test_the_status_is_translated(outcomes):
    outcomes.cookies["django_language"] = "zh-hans"
    response, instance, said = start(outcomes, "call")
    ((level, sentence),) = said
    assert "已启动" in sentence and "Send order to ERP" in sentence
