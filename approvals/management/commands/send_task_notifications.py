"""Send the batched "new tasks" emails; schedule it every few minutes."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from approvals.notifications import send_pending_notifications


class Command(BaseCommand):
    help = "Email every user one list of the tasks that arrived for them since the last run."

    def handle(self, *args, **options) -> None:
        sent = send_pending_notifications(timezone.now())
        self.stdout.write(f"Sent {sent} email(s)")
