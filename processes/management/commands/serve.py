"""Run the whole product: web + API, worker, timer scheduler and the local ERP."""

import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve web + API on --addr, with the job worker, the timer scheduler and (with --erp) the local ERP."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--erp", action="store_true", help="also start the local Tryton ERP/CRM server")

    def handle(self, *args, addr: str, erp: bool, **options):
        host, _, port = addr.rpartition(":")
        with socket.socket() as probe:
            # runserver leaves with os._exit() on a busy port, which would orphan the children.
            if probe.connect_ex((host or "127.0.0.1", int(port))) == 0:
                raise CommandError(f"{addr} is already in use: is Lanebridge already running?")
        children = []
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        if erp:
            children.append(subprocess.Popen([*manage, "erp_server"]))
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # Embedded: jobs run in this process after commit; a thread fires timers and retries.
            threading.Thread(target=self._schedule, daemon=True).start()
            worker = "in-process"
        else:
            celery = [sys.executable, "-m", "celery", "-A", "lanebridge"]
            children.append(subprocess.Popen([*celery, "worker", "--loglevel=INFO", "--concurrency=2"]))
            children.append(subprocess.Popen([*celery, "beat", "--loglevel=INFO"]))
            worker = "celery worker + beat"

        def stop(*_):
            for child in children:
                child.terminate()
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop)
        base = f"http://{addr}"
        self.stdout.write(
            f"Lanebridge is up:\n  inbox     {base}/\n  processes {base}/processes/\n"
            f"  API       {base}/api/v1/\n  API docs  {base}/api/docs/\n  admin     {base}/admin/\n"
            f"  worker    {worker}\n"
            + (f"  ERP/CRM   {settings.ERP_URL} (databases {settings.ERP_DATABASE}, {settings.CRM_DATABASE})\n"
               if erp else "")
        )
        try:
            # Static files (htmx, bpmn-js, styles) are served by this same process.
            call_command("runserver", addr, use_reloader=False, insecure_serving=True)
        finally:
            stop()

    def _schedule(self) -> None:
        """The embedded scheduler: due timers and retries every second, task emails every minute."""
        from django.utils import timezone

        from approvals.notifications import send_pending_notifications
        from engine.jobs import run_due_work

        last_mail = 0.0
        while True:
            try:
                run_due_work()
                if time.monotonic() - last_mail > 60:
                    last_mail = time.monotonic()
                    send_pending_notifications(timezone.now())
            except Exception as exc:  # noqa: BLE001 - the scheduler must outlive one bad pass
                self.stderr.write(f"scheduler: {exc}")
            time.sleep(1)
