"""Approvals' answers to engine signals."""

from django.dispatch import receiver

from approvals.notifications import queue_notifications
from approvals.permissions import grant_task_permissions
from engine.signals import human_task_created


@receiver(human_task_created)
def on_human_task_created(sender, task, **kwargs) -> None:
    groups = grant_task_permissions(task)
    # Only a row now; the email goes out in a batch (send_task_notifications).
    queue_notifications(task, groups)
