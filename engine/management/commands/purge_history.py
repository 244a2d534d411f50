"""Delete ended instances older than a cut, with all their rows, after archiving each as a JSON line."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from engine.retention import purge_history


class Command(BaseCommand):
    help = ("Delete the instances that ended before --ended-before, with their tasks, calls, incidents, history and "
            "ledger ids, in small batches; with --archive, each is first appended to FILE.jsonl as one JSON line. "
            "Running instances are never touched.")

    def add_arguments(self, parser):
        parser.add_argument("--ended-before", required=True, metavar="ISO_DATETIME",
                            help="e.g. 2026-01-01 or 2026-01-01T00:00:00+08:00 (no zone: the site's time zone)")
        parser.add_argument("--archive", metavar="FILE.jsonl", help="append one JSON line per purged instance")

    def handle(self, *args, ended_before: str, archive: str | None, **options):
        try:
            cut = datetime.fromisoformat(ended_before)
        except ValueError:
            raise CommandError(f"--ended-before: {ended_before!r} is not an ISO date or date and time") from None
        if timezone.is_naive(cut):
            cut = timezone.make_aware(cut)
        if archive:
            with open(archive, "a", encoding="utf-8") as file:
                purged = purge_history(cut, file)
        else:
            purged = purge_history(cut)
        self.stdout.write(f"Purged {purged} instance(s) that ended before {cut.isoformat()}"
                          + (f"; archived in {archive}" if archive else ""))
