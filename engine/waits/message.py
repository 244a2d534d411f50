"""Waiting for a message: a waiting message catch, receive task, boundary or gateway branch is a Subscription row.

Opened when the task starts waiting, with the instance's business key and the
task's plain variables (which a message's correlation must equal); matched by
name + business key (`engine.messages.send_message`), or at once against a
buffered message that arrived first (`match`); closed (deleted) when the task
stops waiting. Fired by `engine.messages`.
"""

from __future__ import annotations

import zlib

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.util.task import TaskState

from engine import rows, spiff
from engine.history import record_event
from engine.models import BufferedMessage, HistoryEvent, ProcessInstance, Subscription
from engine.waits.base import Pending

KIND = Subscription.MESSAGE


def owns(task) -> bool:
    """The element waits on a message (alone or as a branch of an event-based gateway)."""
    return bool(spiff.message_names(task.task_spec))


def waits_on(task) -> bool:
    """The task waits for a message now."""
    return task.state == TaskState.WAITING and owns(task)


def plain_variables(data: dict) -> dict:
    """The variables a message can be correlated on: those holding text, a number, true/false or null."""
    return {k: v for k, v in data.items() if isinstance(k, str) and (v is None or isinstance(v, (str, int, float)))}


def correlates(correlation: dict, variables: dict) -> bool:
    """Every correlation entry equals the variable of that name."""
    return all(k in variables and variables[k] == v for k, v in correlation.items())


def lock(name: str) -> None:
    """Serialize, per message name, the search for a receiver with the opening of a wait.

    Without it a message and the instance it is meant for could each look for
    the other, miss, and both go on: the message buffered, the wait opened, and
    neither ever meets. SQLite writes one transaction at a time already.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x4C42, zlib.crc32(name.encode()) - 2**31])


def match(instance: ProcessInstance, task) -> bool:
    """Catch a buffered message that arrived before this task waited for it; True if one did."""
    variables = plain_variables(task.data)
    now = timezone.now()
    for name in spiff.message_names(task.task_spec):
        lock(name)
        candidates = BufferedMessage.objects.filter(
            state=BufferedMessage.WAITING, name=name, expires_at__gt=now,
            business_key__in=["", instance.business_key]).order_by("id")
        for message in candidates:
            if message.business_key and message.business_key != instance.business_key:
                continue
            if not correlates(message.correlation, variables):
                continue
            if not rows.update(BufferedMessage, {"pk": message.pk, "state": BufferedMessage.WAITING}, {
                    "state": BufferedMessage.DELIVERED, "instance": instance.pk, "ended_at": now}):
                continue
            spiff.catch_message(task, name, message.variables)
            record_event(instance, HistoryEvent.MESSAGE, task.task_spec.bpmn_id, task.task_spec.bpmn_name or "",
                         data={"message": name, "variables": message.variables, "buffered": message.pk,
                               "sent_at": message.created_at.isoformat()})
            return True
    return False


def open(instance: ProcessInstance, task, claim_jobs: bool, inputs: dict) -> None:  # noqa: A001 - common verb
    """Write one subscription per message name the task waits for."""
    correlation = plain_variables(task.data)
    rows.insert([
        Subscription(kind=KIND, name=name, business_key=instance.business_key, correlation=correlation,
                     instance=instance, element_id=task.task_spec.bpmn_id, task_id=task.id,
                     created_at=timezone.now())
        for name in spiff.message_names(task.task_spec)
    ])


def follow(instance: ProcessInstance, task) -> None:
    """After a migration: the subscriptions are those of the element in the new version (names may differ)."""
    close(instance, [task.id])
    open(instance, task, False, {})


def close(instance: ProcessInstance, task_ids: list) -> None:
    """Delete the subscriptions of tasks that stopped waiting."""
    Subscription.objects.filter(instance=instance, kind=KIND, task_id__in=task_ids).delete()


def close_all(instance: ProcessInstance) -> None:
    """Delete every message subscription of an instance that ends."""
    Subscription.objects.filter(instance=instance, kind=KIND).delete()


def pending(instance: ProcessInstance) -> list[Pending]:
    """The messages the instance waits for, with the business key they are matched on."""
    found = []
    for s in Subscription.objects.filter(instance=instance, kind=KIND).order_by("id"):
        what = s.name if not s.business_key else f"{s.name} · {_('business key')} {s.business_key}"
        found.append(Pending(_("message"), s.element_id, what))
    return found
