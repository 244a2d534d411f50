"""Run the local Tryton server that plays the ERP and the CRM, in the foreground."""

from __future__ import annotations

import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.tryton import server


class Command(BaseCommand):
    help = "Build the Tryton template if needed, copy it into TRYTON_HOME and serve the erp and crm databases."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.TRYTON_PORT)
        parser.add_argument("--host", default=settings.TRYTON_HOST,
                            help="address to listen on (0.0.0.0 when other machines or containers call it)")
        parser.add_argument(
            "--fresh",
            action="store_true",
            help="start from a new copy of the template, dropping the data of earlier runs",
        )

    def handle(self, *args, port: int, host: str, fresh: bool, **options):
        template = Path(settings.TRYTON_TEMPLATE_DIR)
        if not server.template_is_complete(template):
            self.stdout.write(f"Building the Tryton template in {template} (about a minute, once per machine)…")
        server.build_template(template)
        home = Path(settings.TRYTON_HOME)
        server.prepare_run(home, port, template, fresh=fresh, host=host)
        proc = server.start_server(home, port)
        url = f"http://127.0.0.1:{port}"
        self.stdout.write(self.style.SUCCESS(f"Tryton serving {url}"))
        self.stdout.write(f"  ERP database: {settings.ERP_DATABASE}   CRM database: {settings.CRM_DATABASE}")
        self.stdout.write(f"  user admin / {server.ADMIN_PASSWORD}   data in {home}   log {home / 'trytond.log'}")

        def forward(signum, frame):
            # trytond runs in its own session, so the terminal's Ctrl-C reaches it only through us.
            proc.send_signal(signum)

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, forward)
        try:
            code = proc.wait()
        finally:
            server.stop_server(proc)
        self.stdout.write(f"Tryton stopped (exit code {code}).")
