"""Process test cases: an analyst's expected paths, run through the engine before a version is stored."""

import pytest

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessDefinition, ProcessInstance
from engine.process_tests import TestCaseError, parse_cases, run_cases
from tests.engine.bpmn import (
    definitions,
    error,
    error_boundary,
    exclusive_gateway,
    flow,
    service_task,
    start_event,
    user_task,
)
from tests.engine.bpmn_events import message, message_catch

pytestmark = pytest.mark.django_db


def named_end(element_id: str, name: str) -> str:
    return f'    <bpmn:endEvent id="{element_id}" name="{name}" />\n'


def credit_process() -> bytes:
    """Check credit → enough: "Order approved"; else the manager decides → wait for payment → "Order paid"."""
    body = (
        start_event()
        + service_task("check", "crm.check_credit", {"customer": "customer"}, result_variable="credit")
        + error_boundary("check_failed", "check", "blocked")
        + exclusive_gateway("enough", default="to_manager")
        + user_task("manager", name="Manager approval", fields=("approved",))
        + message_catch("paid", "payment", name="Payment received")
        + named_end("approved_end", "Order approved")
        + named_end("paid_end", "Order paid")
        + named_end("blocked_end", "Customer blocked")
        + flow("f1", "start", "check")
        + flow("f2", "check", "enough")
        + flow("f3", "enough", "approved_end", 'credit["limit"] >= amount')
        + flow("to_manager", "enough", "manager")
        + flow("f4", "manager", "paid")
        + flow("f5", "paid", "paid_end")
        + flow("f6", "check_failed", "blocked_end")
    )
    return definitions("credit", body, extra=message("payment", "payment received") + error("blocked", "BLOCKED"))


def case(name="rich customer", **fields) -> dict:
    return {"name": name, "variables": {"customer": "ACME", "amount": 500},
            "connectors": {"crm.check_credit": {"limit": 1000}}, "expect": {"end": "Order approved"}, **fields}


def deploying():
    return lambda: deploy(credit_process(), "credit.bpmn")


def test_cases_that_hold_let_the_version_be_stored_and_leave_no_instance_behind():
    deployment = deploy(credit_process(), "credit.bpmn", tests=[case()])

    assert [(d.process_id, d.version) for d in deployment.definitions] == [("credit", 1)]
    assert ProcessDefinition.objects.count() == 1
    assert not ProcessInstance.objects.exists()
    assert not (HumanTask.objects.exists() or Job.objects.exists() or HistoryEvent.objects.exists())


def test_a_failing_case_refuses_the_version_naming_the_case_and_the_difference():
    poor = case("poor customer", connectors={"crm.check_credit": {"limit": 100}})

    with pytest.raises(TestCaseError) as refused:
        deploy(credit_process(), "credit.bpmn", tests=[case(), poor])

    assert refused.value.cases == [{"name": "poor customer", "differences": [
        "expected it to end at 'Order approved', but it waits at ['manager']."]}]
    assert "'poor customer'" in refused.value.message
    assert not ProcessDefinition.objects.exists()
    assert not ProcessInstance.objects.exists()


def test_a_case_completes_user_tasks_and_sends_messages_to_reach_its_end():
    results = run_cases([case(
        "manager approves, customer pays",
        connectors={"crm.check_credit": {"limit": 100}},
        complete={"manager": {"approved": True}},
        messages=[{"name": "payment received", "variables": {"paid": 500}}],
        expect={"end": "paid_end", "variables": {"approved": True, "paid": 500, "credit": {"limit": 100}}},
    )], deploying())

    assert [(r.name, r.differences) for r in results] == [("manager approves, customer pays", [])]


def test_a_case_that_stops_early_says_where_it_waits():
    results = run_cases([case("approved but unpaid", connectors={"crm.check_credit": {"limit": 100}},
                              complete={"manager": {"approved": True}}, expect={"waiting": ["paid"]}),
                         case("no approval yet", connectors={"crm.check_credit": {"limit": 100}},
                              expect={"waiting": ["paid"]})], deploying())

    assert results[0].passed
    assert results[1].differences == ["expected it to wait at ['paid'], but it waits at ['manager']."]


def test_a_business_error_answer_takes_the_models_error_path():
    results = run_cases([case("blocked customer", connectors={"crm.check_credit": {"error": "BLOCKED"}},
                              expect={"end": "Customer blocked"})], deploying())

    assert results[0].passed, results[0].differences


def test_a_call_the_case_gives_no_answer_for_is_named():
    results = run_cases([case("forgot the connector", connectors={})], deploying())

    assert results[0].differences == [
        "expected it to end at 'Order approved', but it stopped with an incident at 'check': "
        "the case gives no answer for the operation 'crm.check_credit'."]


def test_the_real_connector_is_never_called(operation):
    calls = []
    operation("crm.check_credit", lambda call: calls.append(call) or {"limit": 0})

    results = run_cases([case()], deploying())

    assert results[0].passed
    assert calls == []


def test_each_case_starts_afresh_and_variables_are_compared_exactly():
    results = run_cases([
        case("one", expect={"end": "Order approved", "variables": {"amount": 500}}),
        case("two", expect={"variables": {"amount": 501, "missing": 1}}),
    ], deploying())

    assert results[0].passed
    assert results[1].differences == ["expected variable 'amount' = 501, but it is 500.",
                                      "expected variable 'missing' = 1, but it is not set."]
    assert not Incident.objects.exists()


def test_cases_are_read_from_yaml_as_from_json():
    cases = parse_cases(b"cases:\n  - name: rich\n    variables: {customer: ACME, amount: 5}\n"
                        b"    connectors:\n      crm.check_credit: {limit: 10}\n    expect: {end: Order approved}\n")

    assert cases == [{"name": "rich", "variables": {"customer": "ACME", "amount": 5},
                      "connectors": {"crm.check_credit": {"limit": 10}}, "expect": {"end": "Order approved"}}]
    assert parse_cases(b'[{"name": "a", "expect": {"end": "x"}}]') == [{"name": "a", "expect": {"end": "x"}}]


@pytest.mark.parametrize(("raw", "message"), [
    (b"{not yaml: [", "neither JSON nor YAML at line 1"),
    (b'{"name": "a"}', "must hold a list of cases"),
    (b'[{"name": "a", "expect": {"end": "x"}, "wait": 1}]', "Test case 'a': unknown key(s) wait"),
    (b'[{"name": "a", "expect": {}}]', "Test case 'a': 'expect' needs one or more of end, variables, waiting"),
    (b'[{"expect": {"end": "x"}}]', "Test case 1 needs a 'name'"),
    (b'[{"name": "a", "expect": {"end": "x"}}, {"name": "a", "expect": {"end": "y"}}]', "Two test cases are named"),
    (b'[{"name": "a", "complete": {"t": 1}, "expect": {"end": "x"}}]', "the data completing 't' must be an object"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_a_malformed_case_file_is_refused_naming_what_is_wrong(raw, message):
    with pytest.raises(TestCaseError) as refused:
        parse_cases(raw)

    assert message in refused.value.message
    assert refused.value.as_dict()["field"] == "tests"
