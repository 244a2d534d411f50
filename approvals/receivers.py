"""Approvals' answers to engine signals."""

from django.dispatch import receiver

from approvals.notifications import queue_notifications
from approvals.orders import record_bad_end
from approvals.permissions import grant_task_permissions
from engine.signals import human_task_created, instance_ended


@receiver(human_task_created)
def on_human_task_created(sender, task, **kwargs) -> None:
    groups = grant_task_permissions(task)
    # Only a row now; the email goes out in a batch (send_task_notifications).
    queue_notifications(task, groups)


@receiver(instance_ended)
def on_instance_ended(sender, instance, state, end_event, outcome, reason, variables, outcome_kind="",
                      **kwargs) -> None:
    # A row in the same transaction; the email goes out with the next batch.
    record_bad_end(instance, state, end_event, outcome, reason, variables, outcome_kind)
