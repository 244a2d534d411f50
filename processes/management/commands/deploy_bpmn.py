from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine.deploy import DeployError, deploy


class Command(BaseCommand):
    help = "Deploy a BPMN file: a new version per changed process, the same version for identical content."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        try:
            deployment = deploy(file.read_bytes(), file.name)
        except DeployError as exc:
            where = f" (element {exc.element_id})" if exc.element_id else ""
            where += f" (line {exc.line})" if exc.line else ""
            raise CommandError(f"{file}: {exc.message}{where}") from None
        for definition in deployment.definitions:
            state = "deployed" if deployment.created else "unchanged"
            self.stdout.write(f"{definition.process_id} v{definition.version} {state}")
        for warning in deployment.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
