"""A suspended instance holds still: no task completes, due timers and retries wait, and all of it runs on resume."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.connectors import RetryableError
from engine.jobs import run_due_work
from engine.models import HistoryEvent, HumanTask, Job, ProcessInstance
from engine.repairs import resume_instance, suspend_instance
from engine.runtime import InstanceNotActive, InstanceSuspended, cancel_instance, complete_human_task, start_instance
from tests.engine import bpmn


def test_suspending_holds_back_a_due_timer_until_the_resume(deployed, user, django_capture_on_commit_callbacks):
    deployed(bpmn.timer_boundary_process(duration="PT1H"))
    instance, _ = start_instance("timed", {})

    instance = suspend_instance(instance, user, "Customer on hold")
    assert run_due_work(now=timezone.now() + timedelta(hours=2)) == 0

    timer = Job.objects.get(instance=instance, kind=Job.TIMER)
    assert timer.state == Job.PENDING and instance.state == ProcessInstance.SUSPENDED
    assert instance.human_tasks.get().state == HumanTask.OPEN
    # The hour passes while the instance is suspended.
    Job.objects.filter(pk=timer.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        instance = resume_instance(instance, user, "Customer paid")

    assert instance.state == ProcessInstance.ACTIVE
    assert Job.objects.get(pk=timer.pk).state == Job.DONE
    assert instance.human_tasks.get(element_id="escalate").state == HumanTask.OPEN
    suspended, resumed = (instance.history.get(kind=kind) for kind in (HistoryEvent.SUSPENDED, HistoryEvent.RESUMED))
    assert suspended.user == user and suspended.data == {"reason": "Customer on hold"}
    assert resumed.user == user and resumed.data == {"reason": "Customer paid"}
    assert suspended.at <= resumed.at


def test_suspending_holds_back_a_due_retry_of_a_failing_call(deployed, operation, user):
    calls = []

    def post(call):
        calls.append(call)
        raise RetryableError("ERP unreachable")

    operation("test.erp_post", post)
    deployed(bpmn.service_process("test.erp_post", retries=3))
    instance, _ = start_instance("servicing", {})
    run_due_work(now=timezone.now())
    assert len(calls) == 1

    suspend_instance(instance, user, "ERP migration this weekend")
    run_due_work(now=timezone.now() + timedelta(hours=1))
    assert len(calls) == 1

    resume_instance(instance, user, "ERP back")
    run_due_work(now=timezone.now() + timedelta(hours=1))
    assert len(calls) == 2


def test_a_task_of_a_suspended_instance_cannot_be_completed(deployed, user):
    deployed(bpmn.user_task_process())
    instance, _ = start_instance("reviewing", {})
    suspend_instance(instance, user, "on hold")
    task = instance.human_tasks.get()

    with pytest.raises(InstanceSuspended, match="is suspended"):
        complete_human_task(task, user, {"approved": True})

    task.refresh_from_db()
    assert task.state == HumanTask.OPEN
    resume_instance(instance, user, "go on")
    complete_human_task(task, user, {})
    assert HumanTask.objects.get(pk=task.pk).state == HumanTask.COMPLETED


def test_only_an_active_instance_is_suspended_and_only_a_suspended_one_resumed(deployed, user):
    deployed(bpmn.user_task_process())
    instance, _ = start_instance("reviewing", {})

    with pytest.raises(InstanceNotActive, match="only a suspended one"):
        resume_instance(instance, user, "why")
    suspend_instance(instance, user, "hold")
    with pytest.raises(InstanceNotActive, match="is suspended; only an active one"):
        suspend_instance(instance, user, "hold again")
    assert instance.history.filter(kind=HistoryEvent.SUSPENDED).count() == 1


def test_a_suspended_instance_can_be_cancelled(deployed, user):
    deployed(bpmn.user_task_process())
    instance, _ = start_instance("reviewing", {})
    suspend_instance(instance, user, "hold")

    instance = cancel_instance(instance, user, "customer gone")

    assert instance.state == ProcessInstance.CANCELLED
    assert instance.human_tasks.get().state == HumanTask.CANCELLED


def test_a_message_for_a_suspended_instance_is_kept_and_its_next_task_waits_for_the_resume(deployed, user):
    from engine.messages import Message, send_message
    from tests.engine import bpmn_events as ev

    deployed(ev.waits_for_message())
    instance, _ = start_instance("awaiting_payment", {}, business_key="A-1")
    suspend_instance(instance, user, "customer on hold")

    answer = send_message(Message(name="payment received", business_key="A-1", variables={"amount": 120}))

    assert answer.status == 200
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.SUSPENDED and instance.variables["amount"] == 120
    after = instance.human_tasks.get(element_id="after")
    with pytest.raises(InstanceSuspended):
        complete_human_task(after, user, {})
    resume_instance(instance, user, "paid")
    complete_human_task(after, user, {})
    assert ProcessInstance.objects.get(pk=instance.pk).state == ProcessInstance.COMPLETED
