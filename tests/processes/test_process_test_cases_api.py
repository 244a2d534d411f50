"""Process test cases uploaded beside the BPMN: over the API, in validation, and from the command line."""

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from engine.models import ProcessDefinition, ProcessInstance
from tests.engine.test_process_test_cases import credit_process

pytestmark = pytest.mark.django_db

PASSING = [{"name": "rich customer", "variables": {"customer": "ACME", "amount": 500},
            "connectors": {"crm.check_credit": {"limit": 1000}}, "expect": {"end": "Order approved"}}]
FAILING = [{**PASSING[0], "name": "poor customer", "connectors": {"crm.check_credit": {"limit": 10}}}]


def files(cases, **more):
    return {"file": SimpleUploadedFile("credit.bpmn", credit_process(), content_type="application/xml"),
            "tests": SimpleUploadedFile("credit.tests.json", json.dumps(cases).encode()), **more}


@pytest.fixture
def analyst(make_user, api_as):
    return api_as(make_user("analyst", "Analyst"))


def test_a_version_whose_cases_pass_is_deployed(analyst):
    response = analyst.post("/api/v1/definitions/", files(PASSING), format="multipart")

    assert response.status_code == 201, response.content
    assert response.json()["deployed"][0]["process_id"] == "credit"
    assert not ProcessInstance.objects.exists()


def test_a_failing_case_answers_400_naming_the_case_and_nothing_is_stored(analyst):
    response = analyst.post("/api/v1/definitions/", files(PASSING + FAILING), format="multipart")

    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "tests"
    assert body["cases"] == [{"name": "poor customer", "differences": [
        "expected it to end at 'Order approved', but it waits at ['manager']."]}]
    assert not ProcessDefinition.objects.exists()


def test_a_malformed_case_file_answers_400_naming_it(analyst):
    data = files(PASSING)
    data["tests"] = SimpleUploadedFile("t.json", b'[{"name": "x", "expect": {"ending": 1}}]')

    response = analyst.post("/api/v1/definitions/", data, format="multipart")

    assert response.status_code == 400
    assert response.json()["field"] == "tests"
    assert "Test case 'x'" in response.json()["error"]


def test_validation_runs_the_cases_and_lists_each_failure_as_a_problem(analyst):
    response = analyst.post("/api/v1/definitions/validate/", files(PASSING + FAILING), format="multipart")

    assert response.status_code == 200
    assert response.json()["problems"] == [{
        "element_id": None, "line": None, "severity": "error",
        "message": "Test case 'poor customer' failed: expected it to end at 'Order approved', "
                   "but it waits at ['manager'].",
    }]
    assert not ProcessDefinition.objects.exists()


def test_validation_with_passing_cases_has_no_problems(analyst):
    response = analyst.post("/api/v1/definitions/validate/", files(PASSING), format="multipart")

    assert response.json()["problems"] == []


@pytest.fixture
def on_disk(tmp_path):
    def write(cases):
        (tmp_path / "credit.bpmn").write_bytes(credit_process())
        (tmp_path / "cases.json").write_text(json.dumps(cases))
        return str(tmp_path / "credit.bpmn"), str(tmp_path / "cases.json")
    return write


def test_test_process_prints_each_case_and_fails_when_one_fails(on_disk):
    bpmn_file, cases_file = on_disk(PASSING + FAILING)
    out = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("test_process", bpmn_file, "--tests", cases_file, stdout=out)

    assert failed.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "PASS rich customer"
    assert lines[1] == "FAIL poor customer: expected it to end at 'Order approved', but it waits at ['manager']."
    assert lines[2] == "1 passed, 1 failed"
    assert not ProcessDefinition.objects.exists()


def test_deploy_bpmn_with_tests_deploys_only_when_they_pass(on_disk):
    bpmn_file, cases_file = on_disk(FAILING)
    with pytest.raises(CommandError, match="not deployed: 1 test case"):
        call_command("deploy_bpmn", bpmn_file, "--tests", cases_file, stdout=StringIO(), stderr=StringIO())
    assert not ProcessDefinition.objects.exists()

    bpmn_file, cases_file = on_disk(PASSING)
    out = StringIO()
    call_command("deploy_bpmn", bpmn_file, "--tests", cases_file, stdout=out)
    assert "credit v1 deployed" in out.getvalue()
