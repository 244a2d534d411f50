"""Waiting for a connector call: a started service task is a service Job row.

Opened when a service task starts; matched by its task id; closed (cancelled)
when the task goes away (boundary event, cancel); fired by `engine.jobs`, which
calls the connector and applies the result.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.util.task import TaskState

from engine import dispatch, rows, spiff
from engine.history import to_json
from engine.models import Job, ProcessInstance
from engine.waits.base import Pending


def owns(task) -> bool:
    """The element is a service task that waits for a job."""
    return spiff.is_call(task)


def waits_on(task) -> bool:
    """The call has started and waits for its result."""
    return task.state == TaskState.STARTED and spiff.is_call(task)


def match(instance: ProcessInstance, task) -> bool:
    """Nothing can arrive for this kind before it waits."""
    return False


def open(instance: ProcessInstance, task, claim_jobs: bool, inputs: dict) -> None:  # noqa: A001 - common verb
    """Write the job and hand it to a worker after commit; with `claim_jobs`, claimed for this process."""
    spec = task.task_spec
    # Evaluated by the runtime before any row of this step was written: a failing expression writes none.
    params = inputs[task.id]
    job = Job(
        instance=instance,
        kind=Job.SERVICE,
        task_id=task.id,
        element_id=spec.bpmn_id,
        operation=spec.operation_name,
        input=to_json(params),
        idempotency_key=f"lanebridge-{instance.pk}-{task.id}",
        max_attempts=spec.retries if spec.retries else settings.LANEBRIDGE["DEFAULT_RETRIES"],
        backoff_seconds=spec.retry_backoff_base or settings.LANEBRIDGE["RETRY_BACKOFF_SECONDS"],
        due_at=timezone.now(),
    )
    if claim_jobs:
        # Saves this process a separate claim after the commit, one transaction per call.
        dispatch.claim_new(job, job.due_at)
    rows.insert([job], return_pk=True)
    dispatch.dispatch_after_commit(job, fresh=True)


def follow(instance: ProcessInstance, task) -> None:
    """After a migration: the call's job names the element in the new version.

    A call handed out already is not called again: its operation and input stay what was sent.
    """
    Job.objects.filter(instance=instance, kind=Job.SERVICE, task_id=task.id).update(
        element_id=task.task_spec.bpmn_id, updated_at=timezone.now())


def close(instance: ProcessInstance, task_ids: list) -> None:
    """Cancel the pending or running calls of tasks that stopped waiting."""
    Job.objects.filter(instance=instance, kind=Job.SERVICE, task_id__in=task_ids,
                       state__in=[Job.PENDING, Job.RUNNING]).update(state=Job.CANCELLED, updated_at=timezone.now())


def close_all(instance: ProcessInstance) -> None:
    """Cancel every pending or running call of an instance that ends."""
    instance.jobs.filter(kind=Job.SERVICE, state__in=[Job.PENDING, Job.RUNNING]).update(
        state=Job.CANCELLED, updated_at=timezone.now())


def pending(instance: ProcessInstance) -> list[Pending]:
    """The calls not done yet, for the instance's page."""
    return [Pending(_("service call"), j.element_id, j.operation, j.due_at)
            for j in instance.jobs.filter(kind=Job.SERVICE, state__in=[Job.PENDING, Job.RUNNING]).order_by("id")]
