"""Every step of an instance is appended to its history, in order."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from engine.connectors import RetryableError
from engine.jobs import run_due_work
from engine.models import HistoryEvent
from engine.runtime import cancel_instance, complete_human_task, start_instance
from tests.engine import bpmn


def kinds(instance) -> list[str]:
    return list(instance.history.order_by("id").values_list("kind", flat=True))


def test_a_user_task_run_is_recorded_from_start_to_completion(deployed, user):
    deployed(bpmn.user_task_process())
    instance, _ = start_instance("reviewing", {"amount": 5}, user=user)

    complete_human_task(instance.human_tasks.get(), user, {"approved": "yes", "comment": "fine"})

    assert kinds(instance) == [HistoryEvent.STARTED, HistoryEvent.TASK_READY, HistoryEvent.TASK_COMPLETED,
                               HistoryEvent.COMPLETED]
    started = instance.history.get(kind=HistoryEvent.STARTED)
    assert started.data["variables"] == {"amount": 5}
    assert started.data["version"] == 1
    ready = instance.history.get(kind=HistoryEvent.TASK_READY)
    assert (ready.element_id, ready.element_name) == ("review", "Review")
    completed = instance.history.get(kind=HistoryEvent.TASK_COMPLETED)
    assert completed.user == user
    assert completed.element_id == "review"
    assert completed.data["data"] == {"approved": "yes", "comment": "fine"}


def test_service_attempts_errors_and_results_are_recorded(deployed, operation):
    calls: list = []

    def flaky(call):
        calls.append(call)
        if len(calls) == 1:
            raise RetryableError("ERP busy")
        return {"order": "SO-1"}

    operation("test.flaky", flaky)
    deployed(bpmn.service_process("test.flaky", {"amount": "amount"}, then_user_task=False))
    instance, _ = start_instance("servicing", {"amount": 3})
    now = timezone.now()

    run_due_work(now=now)
    run_due_work(now=now + timedelta(minutes=1))

    assert kinds(instance) == [HistoryEvent.STARTED, HistoryEvent.SERVICE_ATTEMPT, HistoryEvent.SERVICE_ERROR,
                               HistoryEvent.SERVICE_ATTEMPT, HistoryEvent.SERVICE_RESULT, HistoryEvent.COMPLETED]
    attempts = instance.history.filter(kind=HistoryEvent.SERVICE_ATTEMPT)
    assert [e.data["attempt"] for e in attempts] == [1, 2]
    assert attempts[0].data["input"] == {"amount": 3}
    assert instance.history.get(kind=HistoryEvent.SERVICE_ERROR).data["error"] == "ERP busy"
    assert instance.history.get(kind=HistoryEvent.SERVICE_RESULT).data["output"] == {"order": "SO-1"}


def test_an_incident_is_recorded(deployed):
    deployed(bpmn.service_process("test.reject", {"code": "'NOPE'"}))
    instance, _ = start_instance("servicing", {})

    run_due_work(now=timezone.now())

    assert kinds(instance) == [HistoryEvent.STARTED, HistoryEvent.SERVICE_ATTEMPT, HistoryEvent.INCIDENT]
    assert instance.history.get(kind=HistoryEvent.INCIDENT).data["attempts"] == 1


def test_a_cancellation_is_recorded_with_its_reason(deployed, user):
    deployed(bpmn.user_task_process())
    instance, _ = start_instance("reviewing", {})

    cancel_instance(instance, user=user, reason="customer withdrew")

    assert kinds(instance) == [HistoryEvent.STARTED, HistoryEvent.TASK_READY, HistoryEvent.CANCELLED]
    cancelled = instance.history.get(kind=HistoryEvent.CANCELLED)
    assert (cancelled.user, cancelled.data["reason"]) == (user, "customer withdrew")
    instance.refresh_from_db()
    assert instance.state == "cancelled"
    assert instance.human_tasks.get().state == "cancelled"


def test_a_failure_is_recorded_naming_the_element(deployed):
    deployed(bpmn.script_process("x = missing_variable + 1"))
    instance, _ = start_instance("scripted", {})

    assert kinds(instance) == [HistoryEvent.STARTED, HistoryEvent.FAILED]
    failed = instance.history.get(kind=HistoryEvent.FAILED)
    assert failed.element_id == "script"
    assert "missing_variable" in failed.data["error"]
