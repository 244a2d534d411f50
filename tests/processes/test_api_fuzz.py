"""Schemathesis against our own OpenAPI schema: no generated request gets a 500, answers match the schema.

Runs in-process through Django's WSGI app, as a user who may do everything the API offers,
with a deployed process, instances, open and completed tasks and an incident, so that
generated ids sometimes hit rows that exist.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.generation import GenerationMode

from accounts.tokens import create_token
from engine.deploy import deploy
from engine.jobs import run_due_work
from engine.models import HumanTask, Incident, ProcessDefinition, ProcessInstance
from lanebridge.wsgi import application
from tests.conftest import BPMN_DIR

# Completing a task dispatches its service call on commit, so the data is committed for real.
pytestmark = pytest.mark.django_db(transaction=True)

LINES = {"lines": [{"qty": 2, "price": 10}]}
# Per operation and generation mode; FUZZ_EXAMPLES=500 for a longer hunt.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 25))
# Undocumented 4xx codes are fine (status_code_conformance is off); a documented answer must match its schema.
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(autouse=True)
def no_throttle(settings):
    """The fuzzer sends more requests a minute than a client may: throttled, most would only get 429."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": None, "anon": None}}


@pytest.fixture
def fuzzer(make_user):
    """An analyst and operator who is also a manager, so task endpoints get past the lane check."""
    return make_user("fuzzer", "Analyst", "Operator", "Manager")


@pytest.fixture
def auth(fuzzer) -> dict:
    return {"Authorization": f"Token {create_token(fuzzer)[1]}"}


@pytest.fixture
def existing_ids(fuzzer) -> dict[str, list[int]]:
    """Rows of every kind an `{id}` in the API can name: definitions, instances, tasks, incidents."""
    from engine import runtime

    content = (BPMN_DIR / "approval.bpmn").read_bytes()
    deploy(content, "approval.bpmn", fuzzer)
    deploy(content.replace(b'"approval"', b'"rejecting"').replace(b"test.echo", b"test.reject"),
           "rejecting.bpmn", fuzzer)
    for key in ("Q-1", "Q-2", "Q-3"):
        runtime.start_instance("approval", LINES, key, user=fuzzer)
    done, _ = runtime.start_instance("approval", LINES, "Q-done", user=fuzzer)
    failing, _ = runtime.start_instance("rejecting", LINES, "Q-fail", user=fuzzer)
    for instance in (done, failing):
        runtime.complete_human_task(instance.human_tasks.get(), fuzzer, {"approved": True})
    run_due_work()
    assert Incident.objects.filter(instance=failing).exists()
    return {
        "definitions": list(ProcessDefinition.objects.values_list("pk", flat=True)),
        "instances": list(ProcessInstance.objects.values_list("pk", flat=True)),
        "tasks": list(HumanTask.objects.values_list("pk", flat=True)),
        "incidents": list(Incident.objects.values_list("pk", flat=True)),
    }


def strategy_for(operation, mode, existing_ids):
    """Cases for one operation; for an `{id}` path, also cases that name a row that exists."""
    strategy = operation.as_strategy(generation_mode=mode)
    kind = next((kind for kind in existing_ids if operation.path.startswith(f"/api/v1/{kind}/{{id}}")), None)
    if kind is None:
        return strategy
    return st.one_of(strategy, *(operation.as_strategy(generation_mode=mode, path_parameters={"id": pk})
                                 for pk in existing_ids[kind]))


def test_no_generated_request_gets_a_server_error(auth, existing_ids):
    """Valid and invalid requests for every operation in /api/schema/; a 500 in any of them fails."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, headers=auth)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=strategy_for(operation, mode, existing_ids))
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def call(case):
                case.call_and_validate(headers=auth, checks=CHECKS)

            try:
                call()
            except Unsatisfiable as exc:
                # A GET whose only parameter is free text (GET .../rollout/) has nothing to make invalid.
                if mode is not GenerationMode.NEGATIVE:
                    failures.append(f"{operation.label} ({mode}): {exc}")
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every failure, report them all
                failures.append(f"{operation.label} ({mode}): {exc}")
    assert not failures, "\n\n".join(failures)
