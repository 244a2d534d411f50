import time

from django.core.management.base import BaseCommand

from engine.jobs import run_due_work


class Command(BaseCommand):
    help = "Fire due timers and retries, and take back jobs of dead workers, every --interval seconds."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, interval: float, once: bool, **options):
        while True:
            run_due_work()
            if once:
                return
            time.sleep(interval)
