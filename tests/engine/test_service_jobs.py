"""Service tasks become jobs: called after commit, retried with backoff, routed to error boundaries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.connectors import RetryableError
from engine.jobs import run_due_work
from engine.models import HistoryEvent, Incident, Job, ProcessInstance
from engine.runtime import cancel_instance, start_instance
from tests.engine import bpmn


def flaky(calls: list, failures: int, exc=RetryableError):
    """An operation that fails `failures` times, then answers."""

    def call(c):
        calls.append(c)
        if len(calls) <= failures:
            raise exc(f"ERP busy (call {len(calls)})")
        return {"order": "SO-1", "amount": c.input.get("amount")}

    return call


def test_a_service_task_creates_a_job_with_an_idempotency_key(deployed):
    deployed(bpmn.service_process("test.echo", {"amount": "amount * 2"}))

    instance, _ = start_instance("servicing", {"amount": 5})

    job = Job.objects.get(instance=instance)
    assert job.idempotency_key == f"lanebridge-{instance.pk}-{job.task_id}"
    assert (job.operation, job.element_id, job.input, job.state) == ("test.echo", "call", {"amount": 10}, Job.PENDING)
    assert job.max_attempts == 3


def test_the_job_runs_only_after_commit_and_its_result_lands_in_the_result_variable(
        deployed, django_capture_on_commit_callbacks):
    deployed(bpmn.service_process("test.echo", {"amount": "amount"}, result_variable="echoed"))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        instance, _ = start_instance("servicing", {"amount": 5})
        # Nothing is called while the starting transaction is open.
        assert Job.objects.get(instance=instance).state == Job.PENDING

    assert len(callbacks) >= 1
    job = Job.objects.get(instance=instance)
    assert (job.state, job.attempts) == (Job.DONE, 1)
    instance.refresh_from_db()
    assert instance.variables["echoed"] == {"input": {"amount": 5}, "idempotency_key": job.idempotency_key}
    assert instance.human_tasks.get().element_id == "after"


def test_a_failing_call_is_retried_with_exponential_backoff(deployed, operation, settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "RETRY_BACKOFF_SECONDS": 2}
    calls: list = []
    operation("test.flaky", flaky(calls, failures=2))
    deployed(bpmn.service_process("test.flaky", {"amount": "amount"}))
    instance, _ = start_instance("servicing", {"amount": 3})
    now = timezone.now()

    assert run_due_work(now=now) == 1
    job = Job.objects.get(instance=instance)
    assert (job.state, job.attempts, job.due_at) == (Job.PENDING, 1, now + timedelta(seconds=2))
    assert "ERP busy" in job.last_error

    assert run_due_work(now=now + timedelta(seconds=1)) == 0
    assert run_due_work(now=now + timedelta(seconds=2)) == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.due_at) == (Job.PENDING, 2, now + timedelta(seconds=2 + 4))

    assert run_due_work(now=now + timedelta(seconds=6)) == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.result) == (Job.DONE, 3, {"order": "SO-1", "amount": 3})
    assert len(calls) == 3
    assert {c.idempotency_key for c in calls} == {job.idempotency_key}
    instance.refresh_from_db()
    assert instance.variables["result"] == {"order": "SO-1", "amount": 3}


@pytest.mark.parametrize("exc", [ConnectionResetError, KeyError], ids=["any-exception", "key-error-inside"])
def test_any_exception_is_retried_like_a_retryable_error(deployed, operation, exc):
    # A KeyError raised inside the operation must not be taken for an unknown operation.
    calls: list = []
    operation("test.flaky", flaky(calls, failures=1, exc=exc))
    deployed(bpmn.service_process("test.flaky"))
    instance, _ = start_instance("servicing", {})
    now = timezone.now()

    run_due_work(now=now)
    run_due_work(now=now + timedelta(minutes=1))

    assert len(calls) == 2
    assert Job.objects.get(instance=instance).state == Job.DONE
    assert not Incident.objects.filter(instance=instance).exists()


def test_the_retry_count_comes_from_the_service_task(deployed, operation):
    calls: list = []
    operation("test.flaky", flaky(calls, failures=99))
    deployed(bpmn.service_process("test.flaky", retries=5))
    instance, _ = start_instance("servicing", {})
    job = Job.objects.get(instance=instance)
    now = timezone.now()

    for minute in range(10):
        run_due_work(now=now + timedelta(minutes=minute))

    job.refresh_from_db()
    assert job.max_attempts == 5
    assert (job.state, job.attempts, len(calls)) == (Job.FAILED, 5, 5)
    assert Incident.objects.get(instance=instance).details["attempts"] == 5


def test_the_backoff_comes_from_the_service_task(deployed, operation):
    calls: list = []
    operation("test.flaky", flaky(calls, failures=99))
    deployed(bpmn.service_process("test.flaky", retries=4, backoff_base=30))
    instance, _ = start_instance("servicing", {})
    now = timezone.now()

    run_due_work(now=now)
    job = Job.objects.get(instance=instance)
    assert (job.attempts, job.due_at) == (1, now + timedelta(seconds=30))
    run_due_work(now=now + timedelta(seconds=30))
    job.refresh_from_db()
    assert (job.attempts, job.due_at) == (2, now + timedelta(seconds=30 + 60))


def test_a_business_error_matching_an_error_boundary_takes_the_boundary_path(deployed):
    deployed(bpmn.error_boundary_process("test.reject", "NO_CREDIT", {"code": "'NO_CREDIT'", "message": "'no'"}))
    instance, _ = start_instance("guarded", {})

    run_due_work(now=timezone.now())

    job = Job.objects.get(instance=instance)
    assert (job.state, job.attempts) == (Job.DONE, 1)
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.ACTIVE
    assert instance.human_tasks.get().element_id == "fix"
    assert instance.variables["error"]["code"] == "NO_CREDIT"
    assert not Incident.objects.exists()
    event = instance.history.get(kind=HistoryEvent.SERVICE_ERROR)
    assert event.data["handled_by"] == "call_failed"


def test_a_business_error_without_a_matching_boundary_is_an_incident_without_retries(deployed):
    deployed(bpmn.error_boundary_process("test.reject", "NO_CREDIT", {"code": "'BLOCKED'"}))
    instance, _ = start_instance("guarded", {})

    run_due_work(now=timezone.now())
    run_due_work(now=timezone.now() + timedelta(hours=1))

    job = Job.objects.get(instance=instance)
    assert (job.state, job.attempts) == (Job.FAILED, 1)
    incident = Incident.objects.get(instance=instance)
    assert incident.details["code"] == "BLOCKED"
    assert not instance.human_tasks.exists()


def test_a_job_of_a_cancelled_instance_is_not_called(deployed, operation):
    calls: list = []
    operation("test.flaky", flaky(calls, failures=0))
    deployed(bpmn.service_process("test.flaky"))
    instance, _ = start_instance("servicing", {})

    cancel_instance(instance)
    run_due_work(now=timezone.now() + timedelta(minutes=1))

    assert calls == []
    assert Job.objects.get(instance=instance).state == Job.CANCELLED


def test_a_result_arriving_after_the_instance_was_cancelled_is_ignored(deployed, operation):
    def cancel_meanwhile(call):
        cancel_instance(ProcessInstance.objects.get(pk=call.instance_id))
        return {"order": "SO-9"}

    operation("test.slow", cancel_meanwhile)
    deployed(bpmn.service_process("test.slow"))
    instance, _ = start_instance("servicing", {})

    run_due_work(now=timezone.now())

    instance.refresh_from_db()
    assert instance.state == ProcessInstance.CANCELLED
    assert not instance.human_tasks.exists()
    assert instance.history.get(kind=HistoryEvent.SERVICE_RESULT).data["ignored"] is True


def test_a_job_of_a_dead_worker_is_taken_back_and_called_again_with_the_same_key(deployed, operation):
    calls: list = []
    operation("test.flaky", flaky(calls, failures=0))
    deployed(bpmn.service_process("test.flaky"))
    instance, _ = start_instance("servicing", {})
    now = timezone.now()
    # A worker claimed the job, then died before finishing: its lease ran out.
    Job.objects.filter(instance=instance).update(state=Job.RUNNING, attempts=1, locked_until=now - timedelta(seconds=1))

    assert run_due_work(now=now) == 1

    job = Job.objects.get(instance=instance)
    assert (job.state, job.attempts) == (Job.DONE, 2)
    assert [c.idempotency_key for c in calls] == [job.idempotency_key]
    assert instance.human_tasks.get().element_id == "after"
    # The attempt the dead worker never finished is in the history, and says what happened.
    events = list(instance.history.exclude(kind__in=[HistoryEvent.STARTED, HistoryEvent.TASK_READY]))
    assert [(e.kind, e.data.get("attempt")) for e in events] == [
        (HistoryEvent.SERVICE_ATTEMPT, 1), (HistoryEvent.SERVICE_ERROR, 1),
        (HistoryEvent.SERVICE_ATTEMPT, 2), (HistoryEvent.SERVICE_RESULT, None)]
    assert events[1].data["type"] == "WorkerLost"


def test_a_running_job_whose_lease_is_still_valid_is_left_alone(deployed, operation):
    calls: list = []
    operation("test.flaky", flaky(calls, failures=0))
    deployed(bpmn.service_process("test.flaky"))
    instance, _ = start_instance("servicing", {})
    now = timezone.now()
    Job.objects.filter(instance=instance).update(state=Job.RUNNING, attempts=1, locked_until=now + timedelta(minutes=5))

    assert run_due_work(now=now) == 0

    assert calls == []
    assert Job.objects.get(instance=instance).state == Job.RUNNING
