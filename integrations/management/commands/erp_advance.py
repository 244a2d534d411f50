"""Do in the ERP what its people would for one instance: finish the production, deliver, or pay the invoice."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations import erp_advance


class Command(BaseCommand):
    help = ("Move the ERP along for one instance (demo and local ERP): finish its production, deliver its "
            "shipment or pay its invoice in Tryton over RPC; the ERP watcher's next pass moves the instance.")

    def add_arguments(self, parser):
        parser.add_argument("instance", help="the instance's id or business key")
        parser.add_argument("step", choices=list(erp_advance.STEPS))

    def handle(self, *args, instance: str, step: str, **options):
        try:
            found = erp_advance.find_instance(instance)
            result = erp_advance.advance(found, step)
        except erp_advance.AdvanceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"instance {found.pk} ({found.business_key or 'no business key'}): "
                          f"{erp_advance.done_text(step, result)}")
        seconds = settings.LANEBRIDGE["WATCH_SECONDS"]
        if seconds > 0:
            self.stdout.write(f"The ERP watcher's next pass (every {seconds:g} s) moves the instance on.")
        else:
            self.stdout.write("Run `manage.py watch_erp --once` to move the instance on.")
