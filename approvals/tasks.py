"""Celery entry points of approvals (scheduled by beat in the scaled setup)."""

from celery import shared_task
from django.utils import timezone

from approvals.notifications import send_pending_notifications


@shared_task(name="approvals.tasks.send_task_notifications")
def send_task_notifications() -> int:
    """Send the batched 'new tasks' emails."""
    return send_pending_notifications(timezone.now())
