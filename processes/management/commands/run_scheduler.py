"""The embedded scheduler: timers and retries every second, the ERP watcher every few, emails every minute."""

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from approvals.notifications import send_pending_notifications
from engine.jobs import run_due_work, take_back_jobs_of_dead_processes
from engine.retention import Daily, purge_expired
from integrations.watcher import run_watchers
from monitoring.alerts import run_alerts

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = ("Fire due timers and retries every second, pass the ERP/CRM watcher every LANEBRIDGE_WATCH_SECONDS "
            "and send task emails every minute "
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
        last_mail = last_watch = float("-inf")
        watch_seconds = settings.LANEBRIDGE["WATCH_SECONDS"]
        purge = Daily()
        while not stopping.is_set():
            try:
                run_due_work()
                if watch_seconds > 0 and time.monotonic() - last_watch >= watch_seconds:
                    last_watch = time.monotonic()
                    run_watchers()
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
