"""The embedded scheduler: due timers and retries every second, task emails and alerts every minute, purging daily."""

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from approvals.notifications import send_pending_notifications
from engine.jobs import run_due_work, take_back_jobs_of_dead_processes
from engine.retention import Daily, purge_expired
from monitoring.alerts import run_alerts

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = ("Fire due timers and retries every second and send task emails every minute "
            "(the embedded setup's scheduler; Celery beat does this in the scaled one).")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one pass and leave")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes")

    def handle(self, *args, once: bool, interval: float, **options):
        taken = take_back_jobs_of_dead_processes()
        if taken:
            self.stdout.write(f"Took back {taken} job(s) of stopped processes; they run again now.")
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        last_mail = float("-inf")
        purge = Daily()
        while not stopping.is_set():
            try:
                run_due_work()
                if time.monotonic() - last_mail >= 60:
                    last_mail = time.monotonic()
                    send_pending_notifications(timezone.now())
                    run_alerts(timezone.now())
                if purge.due(timezone.now()):
                    purge_expired(timezone.now())
            except Exception:  # noqa: BLE001 - the scheduler must outlive one bad pass
                log.exception("scheduler pass failed")
            if once:
                break
            stopping.wait(interval)
