"""Waiting for a signal: a waiting signal catch, boundary or gateway branch is a Subscription row.

Opened when the task starts waiting; matched by name alone (a signal is heard by
every instance waiting for it); closed (deleted) when the task stops waiting.
Fired by `engine.messages.send_signal`, and by signals thrown in a process.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.util.task import TaskState

from engine import rows, spiff
from engine.models import ProcessInstance, Subscription
from engine.waits.base import Pending

KIND = Subscription.SIGNAL


def owns(task) -> bool:
    """The element waits on a signal (alone or as a branch of an event-based gateway)."""
    return bool(spiff.signal_names(task.task_spec))


def waits_on(task) -> bool:
    """The task waits for a signal now."""
    return task.state == TaskState.WAITING and owns(task)


def match(instance: ProcessInstance, task) -> bool:
    """Signals are not kept for later: nothing can have arrived before the wait."""
    return False


def open(instance: ProcessInstance, task, claim_jobs: bool, inputs: dict) -> None:  # noqa: A001 - common verb
    """Write one subscription per signal name the task waits for."""
    rows.insert([
        Subscription(kind=KIND, name=name, business_key=instance.business_key, correlation={},
                     instance=instance, element_id=task.task_spec.bpmn_id, task_id=task.id,
                     created_at=timezone.now())
        for name in spiff.signal_names(task.task_spec)
    ])


def follow(instance: ProcessInstance, task) -> None:
    """After a migration: the subscriptions are those of the element in the new version (names may differ)."""
    close(instance, [task.id])
    open(instance, task, False, {})


def close(instance: ProcessInstance, task_ids: list) -> None:
    """Delete the subscriptions of tasks that stopped waiting."""
    Subscription.objects.filter(instance=instance, kind=KIND, task_id__in=task_ids).delete()


def close_all(instance: ProcessInstance) -> None:
    """Delete every signal subscription of an instance that ends."""
    Subscription.objects.filter(instance=instance, kind=KIND).delete()


def pending(instance: ProcessInstance) -> list[Pending]:
    """The signals the instance waits for."""
    return [Pending(_("signal"), s.element_id, s.name)
            for s in Subscription.objects.filter(instance=instance, kind=KIND).order_by("id")]
