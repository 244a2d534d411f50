from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine.deploy import DeployError, deploy_files, parse_mappings
from engine.process_tests import TestCaseError, parse_cases


class Command(BaseCommand):
    help = ("Deploy a BPMN file and the DMN files it uses (or DMN files alone): a new version per changed process "
            "or decision, the same version for identical content.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, nargs="+", help="one BPMN file and any number of DMN files")
        parser.add_argument("--mappings", type=Path, help="field mappings (JSON) versioned with the process")
        parser.add_argument("--tests", type=Path, help="process test cases (JSON or YAML) that must pass first")

    def handle(self, *args, file: list[Path], mappings: Path | None = None, tests: Path | None = None, **options):
        for path in (*file, mappings, tests):
            if path is not None and not path.exists():
                raise CommandError(f"{path}: no such file")
        names = ", ".join(str(path) for path in file)
        try:
            deployment = deploy_files([(path.name, path.read_bytes()) for path in file],
                                      mappings=parse_mappings(mappings.read_bytes()) if mappings else None,
                                      tests=parse_cases(tests.read_bytes()) if tests else None)
        except TestCaseError as exc:
            for case in exc.cases:
                self.stderr.write(f"FAIL {case['name']}: {' '.join(case['differences'])}")
            raise CommandError(f"{names}: not deployed: {exc.message}") from None
        except DeployError as exc:
            where = f" (element {exc.element_id})" if exc.element_id else ""
            where += f" (line {exc.line})" if exc.line else ""
            raise CommandError(f"{names}: {exc.message}{where}") from None
        state = "deployed" if deployment.created else "unchanged"
        for decision in deployment.decisions:
            self.stdout.write(f"decision {decision.decision_id} v{decision.version} {state}")
        for definition in deployment.definitions:
            self.stdout.write(f"{definition.process_id} v{definition.version} {state}")
        for warning in deployment.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
