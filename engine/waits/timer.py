"""Waiting for a time: a waiting timer event (catch, boundary, event-based gateway branch) is a timer Job row.

Opened when the timer starts waiting, with its due time; matched by its task id;
closed (cancelled) when the task goes away; fired by `engine.jobs.fire_timer` when
the scheduler (`engine.jobs.run_due_work`) finds it due.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.util.task import TaskState

from engine import rows, spiff
from engine.history import to_json
from engine.models import Job, ProcessInstance
from engine.waits.base import Pending


def owns(task) -> bool:
    """The element waits on a timer (alone or as a branch of an event-based gateway)."""
    return spiff.timer_definition(task.task_spec) is not None


def waits_on(task) -> bool:
    """The timer is waiting."""
    return task.state == TaskState.WAITING and owns(task)


def match(instance: ProcessInstance, task) -> bool:
    """Nothing can arrive for this kind before it waits."""
    return False


def open(instance: ProcessInstance, task, claim_jobs: bool, inputs: dict) -> None:  # noqa: A001 - common verb
    """Write the timer job with its due time, for the scheduler."""
    rows.insert([_job(instance, task)], return_pk=True)


def _job(instance: ProcessInstance, task) -> Job:
    due_at = spiff.timer_due(task)
    return Job(
        instance=instance, kind=Job.TIMER, task_id=task.id, element_id=task.task_spec.bpmn_id,
        idempotency_key=f"lanebridge-{instance.pk}-{task.id}", due_at=due_at or timezone.now(),
        input={"event_value": to_json(spiff.timer_event_value(task))},
    )


def follow(instance: ProcessInstance, task) -> None:
    """After a migration: the timer job names the element in the new version and keeps its due time."""
    Job.objects.filter(instance=instance, kind=Job.TIMER, task_id=task.id).update(
        element_id=task.task_spec.bpmn_id, updated_at=timezone.now())


def close(instance: ProcessInstance, task_ids: list) -> None:
    """Cancel the pending timers of tasks that stopped waiting."""
    Job.objects.filter(instance=instance, kind=Job.TIMER, task_id__in=task_ids,
                       state__in=[Job.PENDING, Job.RUNNING]).update(state=Job.CANCELLED, updated_at=timezone.now())


def close_all(instance: ProcessInstance) -> None:
    """Cancel every pending timer of an instance that ends."""
    instance.jobs.filter(kind=Job.TIMER, state__in=[Job.PENDING, Job.RUNNING]).update(
        state=Job.CANCELLED, updated_at=timezone.now())


def pending(instance: ProcessInstance) -> list[Pending]:
    """The timers not fired yet, with their due time, for the instance's page."""
    return [Pending(_("timer"), j.element_id, "", j.due_at)
            for j in instance.jobs.filter(kind=Job.TIMER, state__in=[Job.PENDING, Job.RUNNING]).order_by("id")]
