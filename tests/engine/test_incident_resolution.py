"""An incident tells the truth: open until its call succeeds; closed by skipping the step or cancelling the instance."""

from __future__ import annotations

import pytest
from django.utils import timezone

from engine.connectors import RetryableError
from engine.jobs import retry_incident, run_due_work
from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance
from engine.repairs import IncidentNotOpen, resolve_incident, retry_incidents
from engine.runtime import InvalidVariables, start_instance
from tests.engine import bpmn


@pytest.fixture
def erp(operation):
    """An ERP posting that is down until `erp["up"]`; each failure says which attempt it was."""
    state = {"up": False, "calls": 0}

    def post(call):
        state["calls"] += 1
        if not state["up"]:
            raise RetryableError(f"ERP unreachable (call {state['calls']})")
        return {"number": "SO-9"}

    operation("test.erp_post", post)
    return state


@pytest.fixture
def failed(deployed, erp):
    """An instance whose single-attempt ERP posting became an incident."""
    deployed(bpmn.service_process("test.erp_post", retries=1, result_variable="posting"))

    def make(business_key: str = "") -> Incident:
        instance, _ = start_instance("servicing", {"customer": "C-1"}, business_key=business_key)
        run_due_work(now=timezone.now())
        return Incident.objects.get(instance=instance)

    return make


def retry_now(incident: Incident, user, capture) -> Incident:
    with capture(execute=True):
        retry_incident(incident, user, "ERP back?")
    incident.refresh_from_db()
    return incident


def test_a_retry_that_fails_again_leaves_the_incident_open_with_the_new_error(
        failed, erp, user, django_capture_on_commit_callbacks):
    incident = failed()
    assert incident.message == "ERP unreachable (call 1)"

    incident = retry_now(incident, user, django_capture_on_commit_callbacks)

    assert incident.state == Incident.OPEN
    assert incident.resolved_at is None and incident.resolution == ""
    assert incident.message == "ERP unreachable (call 2)"
    assert incident.retries == 1 and incident.last_attempt_at is not None
    assert incident.job.state == Job.FAILED and incident.job.last_error == "ERP unreachable (call 2)"
    assert Incident.objects.filter(instance=incident.instance).count() == 1
    kinds = list(incident.instance.history.values_list("kind", flat=True))
    assert kinds.count(HistoryEvent.INCIDENT_RETRIED) == 1 and kinds.count(HistoryEvent.RETRY_FAILED) == 1
    retried = incident.instance.history.get(kind=HistoryEvent.INCIDENT_RETRIED)
    assert retried.user == user and retried.data["reason"] == "ERP back?"


def test_a_retry_that_succeeds_resolves_the_incident_and_clears_the_error_on_the_call(
        failed, erp, user, django_capture_on_commit_callbacks):
    incident = retry_now(failed(), user, django_capture_on_commit_callbacks)
    erp["up"] = True

    incident = retry_now(incident, user, django_capture_on_commit_callbacks)

    assert incident.state == Incident.RESOLVED and incident.resolution == Incident.RETRIED
    assert incident.resolved_by == user and incident.retries == 2
    assert incident.job.state == Job.DONE and incident.job.last_error == ""
    assert incident.instance.human_tasks.get().element_id == "after"


def test_skipping_completes_the_failed_step_with_the_given_output_and_the_instance_goes_on(failed, erp, user):
    incident = failed()

    incident = resolve_incident(incident, "skip", user, "Posted by hand in the ERP", {"posting": {"manual": True}})

    assert incident.state == Incident.RESOLVED and incident.resolution == Incident.SKIPPED
    assert incident.resolved_by == user and incident.comment == "Posted by hand in the ERP"
    assert incident.job.state == Job.CANCELLED
    assert erp["calls"] == 1
    instance = ProcessInstance.objects.get(pk=incident.instance_id)
    assert instance.state == ProcessInstance.ACTIVE
    assert instance.variables["posting"] == {"manual": True}
    assert HumanTask.objects.get(instance=instance).element_id == "after"
    event = instance.history.get(kind=HistoryEvent.INCIDENT_RESOLVED)
    assert event.user == user and event.data["action"] == "skip" and event.data["comment"].startswith("Posted")


def test_cancelling_ends_the_instance_and_closes_the_incident(failed, user):
    incident = failed()

    incident = resolve_incident(incident, "cancel", user, "Customer withdrew the order")

    assert incident.state == Incident.RESOLVED and incident.resolution == Incident.CANCELLED
    instance = ProcessInstance.objects.get(pk=incident.instance_id)
    assert instance.state == ProcessInstance.CANCELLED
    assert instance.history.get(kind=HistoryEvent.CANCELLED).data["reason"] == "Customer withdrew the order"


def test_a_skip_with_a_bad_variable_name_is_refused_naming_it_and_changes_nothing(failed, user):
    incident = failed()

    with pytest.raises(InvalidVariables, match="output.2nd"):
        resolve_incident(incident, "skip", user, "fix", {"2nd": 1})

    incident.refresh_from_db()
    assert incident.state == Incident.OPEN
    assert ProcessInstance.objects.get(pk=incident.instance_id).history.filter(
        kind=HistoryEvent.INCIDENT_RESOLVED).count() == 0


def test_a_resolved_incident_cannot_be_resolved_or_retried_again(failed, user):
    incident = resolve_incident(failed(), "skip", user, "done by hand")

    with pytest.raises(IncidentNotOpen, match="already resolved"):
        resolve_incident(incident, "cancel", user, "again")
    with pytest.raises(ValueError, match="already resolved"):
        retry_incident(incident, user)


def test_a_failed_script_cannot_be_skipped_but_cancelling_closes_its_incident(deployed, user):
    deployed(bpmn.script_process("x = 1 / 0"))
    instance, _ = start_instance("scripted", {})
    incident = Incident.objects.get(instance=instance)

    with pytest.raises(IncidentNotOpen, match="no waiting call to skip"):
        resolve_incident(incident, "skip", user, "skip it")
    incident = resolve_incident(incident, "cancel", user, "bad script, deploying a fix")

    assert incident.state == Incident.RESOLVED and incident.resolution == Incident.CANCELLED
    assert ProcessInstance.objects.get(pk=instance.pk).state == ProcessInstance.FAILED


def test_retrying_many_says_for_each_incident_what_happened(failed, user, django_capture_on_commit_callbacks):
    first, second = failed("A"), failed("B")
    resolve_incident(second, "skip", user, "by hand")

    with django_capture_on_commit_callbacks(execute=True):
        results = retry_incidents(Incident.objects.filter(pk__in=[first.pk, second.pk]).order_by("id"), user, "batch")

    assert [(r["incident"], r["ok"]) for r in results] == [(first.pk, True), (second.pk, False)]
    assert "already resolved" in results[1]["detail"]
    first.refresh_from_db()
    assert first.state == Incident.OPEN and first.retries == 1
