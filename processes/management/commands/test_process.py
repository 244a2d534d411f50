from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine.deploy import DeployError, deploy, parse_mappings
from engine.process_tests import parse_cases, run_cases


class Command(BaseCommand):
    help = "Run process test cases against a BPMN file, storing nothing; exits 1 if a case fails."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--tests", type=Path, required=True, help="the test cases (JSON or YAML)")
        parser.add_argument("--mappings", type=Path, help="field mappings (JSON) versioned with the process")

    def handle(self, *args, file: Path, tests: Path, mappings: Path | None = None, **options):
        for path in (file, tests, mappings):
            if path is not None and not path.exists():
                raise CommandError(f"{path}: no such file")
        try:
            cases = parse_cases(tests.read_bytes())
            mapped = parse_mappings(mappings.read_bytes()) if mappings else None
            results = run_cases(cases, lambda: deploy(file.read_bytes(), file.name, mappings=mapped))
        except DeployError as exc:
            where = f" (element {exc.element_id}, line {exc.line})" if exc.element_id else ""
            raise CommandError(f"{exc.message}{where}") from None
        for result in results:
            if result.passed:
                self.stdout.write(self.style.SUCCESS(f"PASS {result.name}"))
            else:
                self.stdout.write(self.style.ERROR(f"FAIL {result.name}: {' '.join(result.differences)}"))
        failed = sum(not r.passed for r in results)
        self.stdout.write(f"{len(results) - failed} passed, {failed} failed")
        if failed:
            raise CommandError(f"{failed} test case(s) failed", returncode=1)
