"""Start an instance for every CRM opportunity that became won, every --interval seconds."""

from __future__ import annotations

import logging
import time

from django.core.management.base import BaseCommand, CommandError

from engine.connectors import ConnectorError
from engine.runtime import ProcessNotFound
from integrations.poller import poll_won_opportunities

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Poll the CRM for won opportunities and start one instance of --process for each, exactly once."

    def add_arguments(self, parser):
        parser.add_argument("--process", default="quote_to_cash", help="process id to start (latest version)")
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
        parser.add_argument("--once", action="store_true", help="poll once and exit")

    def handle(self, *args, process: str, interval: float, once: bool, **options):
        while True:
            try:
                started = poll_won_opportunities(process)
            except (ConnectorError, KeyError, ProcessNotFound) as exc:
                if once:
                    raise CommandError(str(exc)) from None
                # The CRM being down for a while must not stop the poller; the cursor keeps our place.
                log.warning("polling the CRM failed: %s", exc)
            else:
                for instance in started:
                    self.stdout.write(f"started {instance} ({instance.business_key})")
                if once:
                    self.stdout.write(f"{len(started)} instance(s) started")
            if once:
                return
            time.sleep(interval)
