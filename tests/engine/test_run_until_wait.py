"""Starting an instance runs the engine until every path waits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.models import HistoryEvent, HumanTask, Job, ProcessInstance
from engine.runtime import InvalidVariables, ProcessNotFound, start_instance
from tests.engine import bpmn


def test_it_runs_until_a_user_task(deployed, user):
    deployed(bpmn.user_task_process(script="total = amount * 2"))

    instance, created = start_instance("reviewing", {"amount": 21}, business_key="Q-1", user=user)

    assert created is True
    assert instance.state == ProcessInstance.ACTIVE
    assert instance.business_key == "Q-1"
    assert instance.started_by == user
    task = HumanTask.objects.get(instance=instance)
    assert (task.element_id, task.state) == ("review", HumanTask.OPEN)
    assert task.data["total"] == 42
    assert instance.variables["total"] == 42
    assert instance.version == 1


def test_it_runs_until_a_service_job(deployed):
    deployed(bpmn.service_process("test.echo", {"amount": "amount + 1"}))

    instance, _ = start_instance("servicing", {"amount": 1})

    job = Job.objects.get(instance=instance)
    assert (job.kind, job.state, job.operation, job.input) == (Job.SERVICE, Job.PENDING, "test.echo", {"amount": 2})
    assert not instance.human_tasks.exists()


def test_it_runs_until_a_timer(deployed):
    deployed(bpmn.timer_boundary_process(duration="PT2H"))
    before = timezone.now()

    instance, _ = start_instance("timed", {})

    timer = Job.objects.get(instance=instance, kind=Job.TIMER)
    assert timer.element_id == "review_timer"
    assert before + timedelta(hours=2) <= timer.due_at <= timezone.now() + timedelta(hours=2)
    assert instance.human_tasks.get().element_id == "review"


def test_it_runs_a_process_without_waits_to_the_end(deployed):
    deployed(bpmn.chain("quick", bpmn.script_task("double", "y = x * 2")))

    instance, _ = start_instance("quick", {"x": 4})

    assert instance.state == ProcessInstance.COMPLETED
    assert instance.ended_at is not None
    assert instance.variables["y"] == 8
    assert instance.history.filter(kind=HistoryEvent.COMPLETED).count() == 1


@pytest.mark.parametrize("variables", [["a"], "text", 3, None.__class__])
def test_it_refuses_variables_that_are_not_an_object(deployed, variables):
    deployed(bpmn.user_task_process())

    with pytest.raises(InvalidVariables):
        start_instance("reviewing", variables)

    assert not ProcessInstance.objects.exists()


@pytest.mark.parametrize(
    "variables",
    [{"order": {"typename": "x"}}, {"typename": 1}, {"lines": [{"typename": "y"}]}, {"_private": 1},
     {"not an identifier": 1}, {"when": timezone.now()}],
    ids=["nested-typename", "top-typename", "typename-in-list", "underscore", "not-identifier", "datetime"],
)
def test_it_refuses_variables_the_engine_cannot_store(deployed, variables):
    deployed(bpmn.user_task_process())

    with pytest.raises(InvalidVariables):
        start_instance("reviewing", variables)

    assert not ProcessInstance.objects.exists()


def test_an_idempotency_key_returns_the_first_instance(deployed, user):
    deployed(bpmn.user_task_process())

    first, created_first = start_instance("reviewing", {"a": 1}, user=user, idempotency_key="order-7")
    again, created_again = start_instance("reviewing", {"a": 2}, user=user, idempotency_key="order-7")

    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk
    assert ProcessInstance.objects.count() == 1
    assert HumanTask.objects.count() == 1


def test_an_idempotency_key_without_a_user_returns_the_first_instance(deployed):
    deployed(bpmn.user_task_process())

    first, _ = start_instance("reviewing", {}, idempotency_key="order-8")
    again, created = start_instance("reviewing", {}, idempotency_key="order-8")

    assert created is False
    assert again.pk == first.pk
    assert ProcessInstance.objects.count() == 1


def test_it_refuses_an_unknown_process(db):
    with pytest.raises(ProcessNotFound):
        start_instance("nobody_deployed_this", {})

    assert not ProcessInstance.objects.exists()


def test_a_new_start_uses_the_latest_version(deployed):
    deployed(bpmn.user_task_process(tasks=("review",)))
    deployed(bpmn.user_task_process(tasks=("check",)))

    instance, _ = start_instance("reviewing", {})

    assert instance.definition.version == 2
    assert instance.human_tasks.get().element_id == "check"
