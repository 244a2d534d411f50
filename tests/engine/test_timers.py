"""A timer boundary on a user task fires when run_due_work is told its time has come."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from engine.jobs import run_due_work
from engine.models import HistoryEvent, HumanTask, Job
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn


def open_tasks(instance) -> list[str]:
    return sorted(instance.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True))


def test_nothing_fires_before_the_timer_is_due(deployed):
    deployed(bpmn.timer_boundary_process(duration="PT1H"))
    now = timezone.now()
    instance, _ = start_instance("timed", {})

    assert run_due_work(now=now + timedelta(minutes=59)) == 0

    assert open_tasks(instance) == ["review"]
    assert Job.objects.get(instance=instance, kind=Job.TIMER).state == Job.PENDING


def test_an_interrupting_timer_cancels_the_user_task_and_takes_its_path(deployed):
    deployed(bpmn.timer_boundary_process(duration="PT1H", interrupting=True))
    now = timezone.now()
    instance, _ = start_instance("timed", {})

    assert run_due_work(now=now + timedelta(hours=1, seconds=1)) == 1

    assert instance.human_tasks.get(element_id="review").state == HumanTask.CANCELLED
    assert open_tasks(instance) == ["escalate"]
    assert Job.objects.get(instance=instance, kind=Job.TIMER).state == Job.DONE
    assert instance.history.filter(kind=HistoryEvent.TIMER_FIRED, element_id="review_timer").count() == 1


def test_a_non_interrupting_timer_leaves_the_user_task_open(deployed):
    deployed(bpmn.timer_boundary_process(duration="PT1H", interrupting=False))
    now = timezone.now()
    instance, _ = start_instance("timed", {})

    run_due_work(now=now + timedelta(hours=1, seconds=1))

    assert open_tasks(instance) == ["escalate", "review"]


def test_completing_the_task_first_cancels_its_timer(deployed, user):
    deployed(bpmn.timer_boundary_process(duration="PT1H"))
    now = timezone.now()
    instance, _ = start_instance("timed", {})

    complete_human_task(instance.human_tasks.get(), user, {})
    assert run_due_work(now=now + timedelta(hours=2)) == 0

    assert Job.objects.get(instance=instance, kind=Job.TIMER).state == Job.CANCELLED
    instance.refresh_from_db()
    assert instance.state == "completed"
    assert not instance.history.filter(kind=HistoryEvent.TIMER_FIRED).exists()


def test_a_timer_fired_twice_fires_once(deployed):
    deployed(bpmn.timer_boundary_process(duration="PT1H"))
    now = timezone.now()
    instance, _ = start_instance("timed", {})

    run_due_work(now=now + timedelta(hours=1, seconds=1))
    run_due_work(now=now + timedelta(hours=1, seconds=2))

    assert instance.history.filter(kind=HistoryEvent.TIMER_FIRED).count() == 1
    assert instance.human_tasks.filter(element_id="escalate").count() == 1
