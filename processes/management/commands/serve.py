"""Run the whole product: web + API under gunicorn, the worker and scheduler, and the local ERP, supervised."""

import os
import signal
import socket
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lanebridge.supervisor import Supervisor, commands


class Command(BaseCommand):
    help = ("Serve web + API on --addr under gunicorn, with the job worker and scheduler and (with --erp) the local "
            "ERP; restart any of them that dies, stop them all on SIGTERM or Ctrl-C.")

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--erp", action="store_true", help="also start the local Tryton ERP/CRM server")

    def handle(self, *args, addr: str, erp: bool, **options):
        host, _, port = addr.rpartition(":")
        with socket.socket() as probe:
            # gunicorn would retry the bind for a while and then leave; say it plainly instead.
            if probe.connect_ex((host or "127.0.0.1", int(port))) == 0:
                raise CommandError(f"{addr} is already in use: is Lanebridge already running?")
        children = commands(erp=erp)
        env = {**os.environ, "LANEBRIDGE_WEB_BIND": addr}
        supervisor = Supervisor(children, self._report, env=env, cwd=str(settings.BASE_DIR))
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, supervisor.stop_soon)
        base = f"http://{addr}"
        worker = "celery worker + beat" if "worker" in children else "in-process, scheduler"
        self.stdout.write(
            f"Lanebridge is up:\n  inbox     {base}/\n  processes {base}/processes/\n"
            f"  API       {base}/api/v1/\n  API docs  {base}/api/docs/\n  admin     {base}/admin/\n"
            f"  worker    {worker}\n"
            + (f"  ERP/CRM   {settings.ERP_URL} (databases {settings.ERP_DATABASE}, {settings.CRM_DATABASE})\n"
               if erp else "")
        )
        self.stdout.flush()
        try:
            supervisor.start()
            self._report("started " + ", ".join(f"{c.name} (pid {c.process.pid})" for c in supervisor.children))
            supervisor.run()
        finally:
            self._report("stopping")
            supervisor.stop()
            self._report("stopped")

    def _report(self, message: str) -> None:
        self.stderr.write(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] serve: {message}")
        self.stderr.flush()
