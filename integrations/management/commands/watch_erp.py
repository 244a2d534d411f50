"""Turn what changed in the ERP and CRM into messages and starts, every --interval seconds (or once)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations import watcher


class Command(BaseCommand):
    help = ("Read what changed in the ERP and CRM since each watch's cursor and send each change as a message "
            "(or start a process), exactly once; the watches are the JSON files of integrations/watchers/.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass over every watch, then leave")
        parser.add_argument("--interval", type=float, default=settings.LANEBRIDGE["WATCH_SECONDS"] or 10.0,
                            help="seconds between passes")
        parser.add_argument("--watch", action="append", default=[], help="run only this watch (repeatable)")

    def handle(self, *args, once: bool, interval: float, watch: list[str], **options):
        try:
            watches = watcher.load_watches()
        except watcher.WatchError as exc:
            raise CommandError(str(exc)) from None
        if watch:
            unknown = sorted(set(watch) - {w.name for w in watches})
            if unknown:
                raise CommandError(f"no watch named {unknown[0]!r}; configured: "
                                   f"{', '.join(w.name for w in watches)}")
            watches = [w for w in watches if w.name in watch]
        while True:
            handled = watcher.run_watchers(watches)
            if once:
                self.stdout.write(f"{handled} change(s) handled by {len(watches)} watch(es)")
                return
            time.sleep(interval)
