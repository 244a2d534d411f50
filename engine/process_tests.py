"""Process test cases: an analyst's expected paths through a model, run before a version is stored.

A case starts an instance with its `variables`, answers every service call from
`connectors` (nothing real is called), completes the user tasks named in `complete`
with their data, sends its `messages` while the instance waits, and then compares
what it sees with `expect` ("waiting" elements, the "end" event reached, "variables").

Cases run through the real engine inside a transaction that is always rolled back,
so the instance, its rows and the version deployed for the run leave no trace.
Timers are not fired: a case that reaches one sees the instance waiting there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml
from django.db import transaction

from engine import connectors, runtime, waits
from engine.deploy import DeployError
from engine.messages import InvalidMessage, parse_message, send_message
from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance

CASE_KEYS = {"name", "process", "business_key", "variables", "connectors", "complete", "messages", "expect"}
EXPECT_KEYS = {"waiting", "end", "variables"}
# A case whose model loops through its user tasks forever stops here and says so.
MAX_STEPS = 500
MAX_FILE_BYTES = 1024 * 1024


class TestCaseError(DeployError):
    """The test cases are malformed or some failed; `cases` holds each failed case and its differences."""

    __test__ = False  # not a pytest test class

    def __init__(self, message: str, cases: list[dict] | None = None):
        super().__init__(message)
        self.cases = cases or []

    def as_dict(self) -> dict:
        return {**super().as_dict(), "field": "tests", "cases": self.cases}


@dataclass
class CaseResult:
    """One case's outcome: its name and what differed from what it expected (nothing when it passed)."""

    name: str
    differences: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.differences


def parse_cases(raw: bytes | str) -> list[dict]:
    """The cases of a JSON or YAML file: a list of cases, or {"cases": [...]}; TestCaseError names what is wrong."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            raise TestCaseError(f"The test case file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES}")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TestCaseError("The test case file is not UTF-8 text") from None
    try:
        # JSON is YAML, so one safe loader reads both; it never builds Python objects from tags.
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise TestCaseError(f"The test case file is neither JSON nor YAML{where}") from None
    if isinstance(data, dict) and "cases" in data:
        data = data["cases"]
    if not isinstance(data, list) or not data:
        raise TestCaseError('The test case file must hold a list of cases (or {"cases": [...]})')
    names = set()
    for number, case in enumerate(data, 1):
        _check_case(case, number)
        if case["name"] in names:
            raise TestCaseError(f"Two test cases are named {case['name']!r}; each needs its own name")
        names.add(case["name"])
    # Round-trip through JSON: YAML dates and the like become the text the engine stores.
    return json.loads(json.dumps(data, default=str))


def _check_case(case, number: int) -> None:
    if not isinstance(case, dict):
        raise TestCaseError(f"Test case {number} must be an object")
    name = case.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TestCaseError(f"Test case {number} needs a 'name'")
    unknown = sorted(set(case) - CASE_KEYS)
    if unknown:
        raise TestCaseError(f"Test case {name!r}: unknown key(s) {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(CASE_KEYS))}")
    for key in ("variables", "connectors", "complete", "expect"):
        if not isinstance(case.get(key, {}), dict):
            raise TestCaseError(f"Test case {name!r}: '{key}' must be an object")
    if not isinstance(case.get("messages", []), list):
        raise TestCaseError(f"Test case {name!r}: 'messages' must be a list")
    for element_id, data in case.get("complete", {}).items():
        if not isinstance(data, dict):
            raise TestCaseError(f"Test case {name!r}: the data completing {element_id!r} must be an object")
    expect = case.get("expect", {})
    unknown = sorted(set(expect) - EXPECT_KEYS)
    if unknown or not expect:
        raise TestCaseError(f"Test case {name!r}: 'expect' needs one or more of {', '.join(sorted(EXPECT_KEYS))}"
                            + (f", not {', '.join(unknown)}" if unknown else ""))
    if not isinstance(expect.get("waiting", []), list):
        raise TestCaseError(f"Test case {name!r}: 'expect.waiting' must be a list of element ids")


def run_cases(cases: list[dict], deploy_for_test: Callable, user=None) -> list[CaseResult]:
    """Deploy with `deploy_for_test()` and run each case, then roll all of it back; one result per case."""
    results = []
    with transaction.atomic():
        try:
            definitions = {d.process_id: d for d in deploy_for_test().definitions}
            for case in cases:
                results.append(_run_in_savepoint(case, definitions, user))
        finally:
            transaction.set_rollback(True)
    return results


def check(cases: list[dict], deploy_for_test: Callable, user=None) -> None:
    """Run the cases; TestCaseError naming every failed case and its differences if any failed."""
    failed = [r for r in run_cases(cases, deploy_for_test, user) if not r.passed]
    if failed:
        summary = "; ".join(f"{r.name!r}: {' '.join(r.differences)}" for r in failed)
        raise TestCaseError(f"{len(failed)} test case(s) failed: {summary}",
                            [{"name": r.name, "differences": r.differences} for r in failed])


def _run_in_savepoint(case: dict, definitions: dict, user) -> CaseResult:
    # Each case in its own savepoint, so one case's instance never meets the next case's messages.
    with transaction.atomic():
        try:
            return _run_case(case, definitions, user)
        finally:
            transaction.set_rollback(True)


def _run_case(case: dict, definitions: dict, user) -> CaseResult:
    result = CaseResult(case["name"])
    process_id = case.get("process") or next(iter(definitions))
    definition = definitions.get(process_id)
    if definition is None:
        result.differences.append(f"the file has no executable process {process_id!r}")
        return result
    business_key = case.get("business_key") or f"test-{case['name']}"
    with connectors.stubbed(case.get("connectors", {})):
        try:
            instance, _ = runtime.start_instance(process_id, case.get("variables", {}), business_key, user,
                                                 version=definition.version)
            instance = _drive(instance, case, user, result)
        except (runtime.InvalidVariables, InvalidMessage) as exc:
            result.differences.append(str(exc))
            return result
    result.differences += _compare(instance, case["expect"])
    return result


def _drive(instance: ProcessInstance, case: dict, user, result: CaseResult) -> ProcessInstance:
    """Run calls, complete the named tasks and send the messages until the instance has nothing more to do."""
    complete = case.get("complete", {})
    messages = list(case.get("messages", []))
    for _step in range(MAX_STEPS):
        _run_calls(instance)
        instance = ProcessInstance.objects.get(pk=instance.pk)
        if instance.state not in ProcessInstance.RUNNING:
            return instance
        task = (HumanTask.objects.filter(instance=instance, state=HumanTask.OPEN, element_id__in=list(complete))
                .order_by("pk").first())
        if task is not None:
            runtime.complete_human_task(task, user, complete[task.element_id])
            continue
        if messages:
            body = {"business_key": instance.business_key, **messages.pop(0)}
            answer = send_message(parse_message(body), user)
            if answer.status >= 400:
                result.differences.append(f"message {body.get('name')!r} was not delivered: "
                                          f"{answer.body.get('error', answer.status)}.")
            continue
        return instance
    result.differences.append(f"it was still moving after {MAX_STEPS} steps (a loop through the tasks in "
                              "'complete'?).")
    return instance


def _run_calls(instance: ProcessInstance) -> None:
    """Run this instance's due service calls and sends here and now, as a worker would."""
    from engine import jobs

    for _ in range(MAX_STEPS):
        due = list(Job.objects.filter(instance=instance, state__in=[Job.PENDING, Job.RUNNING],
                                      kind__in=[Job.SERVICE, Job.MESSAGE, Job.SIGNAL]).order_by("pk"))
        if not due:
            return
        for job in due:
            jobs.run_job(job.pk, job=job if job.state == Job.RUNNING else None)
        if all(Job.objects.get(pk=job.pk).state in (Job.PENDING, Job.RUNNING) for job in due):
            return  # nothing moved: a retry waiting for its time


def _compare(instance: ProcessInstance, expect: dict) -> list[str]:
    differences = []
    where = _where(instance)
    if "waiting" in expect:
        waiting = sorted({p.element_id for p in waits.pending(instance)})
        if instance.state not in ProcessInstance.RUNNING or sorted(set(expect["waiting"])) != waiting:
            differences.append(f"expected it to wait at {sorted(set(expect['waiting']))}, but {where}.")
    if "end" in expect:
        ended = HistoryEvent.objects.filter(instance=instance, kind=HistoryEvent.COMPLETED).first()
        if ended is None or expect["end"] not in (ended.element_id, ended.element_name):
            differences.append(f"expected it to end at {expect['end']!r}, but {where}.")
    for name, value in expect.get("variables", {}).items():
        if name not in instance.variables:
            differences.append(f"expected variable {name!r} = {value!r}, but it is not set.")
        elif instance.variables[name] != value:
            differences.append(f"expected variable {name!r} = {value!r}, but it is {instance.variables[name]!r}.")
    return differences


def _where(instance: ProcessInstance) -> str:
    """Where the instance is, in words: where it ended, where it waits, or why it stopped."""
    if instance.state == ProcessInstance.COMPLETED:
        ended = HistoryEvent.objects.filter(instance=instance, kind=HistoryEvent.COMPLETED).first()
        return f"it ended at {(ended.element_name or ended.element_id) if ended else 'an end event'!r}"
    if instance.state == ProcessInstance.FAILED:
        return f"it failed: {instance.error}"
    incident = instance.incidents.filter(state=Incident.OPEN).first()
    if incident is not None:
        return f"it stopped with an incident at {incident.element_id!r}: {incident.message}"
    waiting = sorted({p.element_id for p in waits.pending(instance)})
    return f"it waits at {waiting}" if waiting else f"it is {instance.state} and waits for nothing"
