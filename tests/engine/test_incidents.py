"""Failed calls and scripts become incidents with what an operator needs; a retry runs the call again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.connectors import RetryableError
from engine.jobs import retry_incident, run_due_work
from engine.models import HistoryEvent, Incident, Job, ProcessInstance
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn


def exhaust(instance) -> Incident:
    now = timezone.now()
    for minute in range(5):
        run_due_work(now=now + timedelta(minutes=minute))
    return Incident.objects.get(instance=instance)


@pytest.fixture
def erp(operation):
    """An ERP operation that is down until `erp["up"]` is set."""
    state = {"up": False, "calls": 0}

    def call(c):
        state["calls"] += 1
        if not state["up"]:
            raise RetryableError("connection refused by erp.example:8000")
        return {"order": "SO-42"}

    operation("test.erp", call)
    return state


def test_exhausted_retries_become_an_incident_with_error_input_and_attempts(deployed, erp):
    deployed(bpmn.service_process("test.erp", {"customer": "customer"}))
    instance, _ = start_instance("servicing", {"customer": "C-7"})

    incident = exhaust(instance)

    assert incident.state == Incident.OPEN
    assert incident.element_id == "call"
    assert "connection refused" in incident.message
    assert incident.details["input"] == {"customer": "C-7"}
    assert incident.details["attempts"] == 3
    assert incident.details["operation"] == "test.erp"
    assert incident.job.state == Job.FAILED
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.ACTIVE
    assert instance.history.filter(kind=HistoryEvent.INCIDENT).count() == 1


def test_retrying_an_incident_runs_the_call_again_and_the_instance_completes(
        deployed, erp, user, django_capture_on_commit_callbacks):
    deployed(bpmn.service_process("test.erp"))
    instance, _ = start_instance("servicing", {})
    incident = exhaust(instance)
    erp["up"] = True

    with django_capture_on_commit_callbacks(execute=True):
        retry_incident(incident, user=user)

    incident.refresh_from_db()
    assert incident.state == Incident.RESOLVED
    assert incident.resolution == Incident.RETRIED
    assert incident.resolved_by == user
    assert erp["calls"] == 4
    assert incident.job.state == Job.DONE
    assert incident.job.last_error == ""
    complete_human_task(instance.human_tasks.get(), user, {})
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["result"] == {"order": "SO-42"}
    assert instance.history.filter(kind=HistoryEvent.INCIDENT_RETRIED, user=user).count() == 1


def test_a_retried_call_that_fails_again_gets_a_fresh_set_of_attempts(deployed, erp, user):
    deployed(bpmn.service_process("test.erp"))
    instance, _ = start_instance("servicing", {})
    retry_incident(exhaust(instance), user=user)

    now = timezone.now()
    for minute in range(5):
        run_due_work(now=now + timedelta(minutes=minute))

    # The same incident stays open: the retry did not resolve anything.
    assert erp["calls"] == 6
    assert Job.objects.get(instance=instance).attempts == 3
    incident = Incident.objects.get(instance=instance)
    assert incident.state == Incident.OPEN and incident.retries == 1


def test_an_incident_cannot_be_retried_again_while_its_retry_runs(deployed, erp):
    deployed(bpmn.service_process("test.erp"))
    instance, _ = start_instance("servicing", {})
    incident = exhaust(instance)
    retry_incident(incident)

    with pytest.raises(ValueError, match="already being retried"):
        retry_incident(incident)


def test_an_unknown_operation_is_an_incident_at_once(deployed):
    deployed(bpmn.service_process("test.nobody_registered_this"))
    instance, _ = start_instance("servicing", {})

    run_due_work(now=timezone.now())

    incident = Incident.objects.get(instance=instance)
    assert "test.nobody_registered_this" in incident.message
    assert incident.job.attempts == 1


def test_a_missing_required_input_is_an_incident_naming_it(deployed, operation):
    operation("test.needs_customer", lambda c: {}, required=("customer",))
    deployed(bpmn.service_process("test.needs_customer", {"amount": "1"}))
    instance, _ = start_instance("servicing", {})

    run_due_work(now=timezone.now())

    incident = Incident.objects.get(instance=instance)
    assert "customer" in incident.message
    assert incident.details["code"] == "MISSING_INPUT"


def test_a_failed_script_is_an_incident_without_a_call_to_retry(deployed):
    deployed(bpmn.script_process("x = 1 / 0"))
    instance, _ = start_instance("scripted", {})

    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == "script"
    assert "ZeroDivisionError" in incident.message or "division" in incident.message
    with pytest.raises(ValueError, match="no call"):
        retry_incident(incident)
