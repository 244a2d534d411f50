"""Checking a BPMN file over the API without deploying it."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from engine.models import ProcessDefinition
from tests.conftest import BPMN_DIR
from tests.engine import bpmn, bpmn_extra, bpmn_semantics

pytestmark = pytest.mark.django_db


def check(client, content: bytes, **fields):
    data = {"file": SimpleUploadedFile("drawn.bpmn", content, content_type="application/xml"), **fields}
    return client.post("/api/v1/definitions/validate/", data, format="multipart")


@pytest.fixture
def analyst(make_user, api_as):
    return api_as(make_user("analyst", "Analyst"))


def test_a_good_file_has_no_problems_and_nothing_is_deployed(analyst):
    response = check(analyst, (BPMN_DIR / "approval.bpmn").read_bytes())

    assert response.status_code == 200, response.content
    assert response.json() == {"problems": [], "warnings": []}
    assert not ProcessDefinition.objects.exists()


def test_every_problem_of_a_file_is_listed_with_its_element_and_line(analyst):
    content = bpmn_extra.unbound_services_process(tasks=("archive", "notify"))

    response = check(analyst, content)

    assert response.status_code == 200
    problems = response.json()["problems"]
    assert [p["element_id"] for p in problems] == ["archive"]
    assert problems[0]["severity"] == "error"
    lines = content.decode().splitlines()
    assert 'id="archive"' in lines[problems[0]["line"] - 1]
    assert "'notify'" in problems[0]["message"]


def test_problems_of_several_elements_are_each_listed(analyst):
    # Two link throws whose names no link catch event carries.
    content = bpmn.chain("jumping", bpmn_semantics.link_throw("go_a", "a"), bpmn_semantics.link_throw("go_b", "b"))

    problems = check(analyst, content).json()["problems"]

    assert {"go_a", "go_b"} <= {p["element_id"] for p in problems}


def test_malformed_xml_is_a_problem_with_its_line(analyst):
    problems = check(analyst, b"<definitions>\n<oops></definitions>").json()["problems"]

    [problem] = problems
    assert "Malformed XML" in problem["message"] and problem["line"] == 2


def test_bindings_are_checked_and_their_warnings_returned(analyst):
    content = bpmn_extra.unbound_services_process(tasks=("archive",))

    bound = check(analyst, content, bindings=json.dumps({"archive": "erp.not_registered_here"})).json()
    broken = check(analyst, content, bindings="{not json").json()

    assert bound["problems"] == []
    [warning] = bound["warnings"]
    assert "erp.not_registered_here" in warning
    assert "Bindings are not valid JSON" in broken["problems"][0]["message"]
    assert not ProcessDefinition.objects.exists()


def test_bad_field_mappings_are_a_problem(analyst):
    mappings = SimpleUploadedFile("mappings.json", b"[1, 2]", content_type="application/json")

    problems = check(analyst, (BPMN_DIR / "approval.bpmn").read_bytes(), mappings=mappings).json()["problems"]

    assert "Field mappings must be a JSON object" in problems[0]["message"]


def test_without_a_file_it_is_a_400_naming_the_field(analyst):
    response = analyst.post("/api/v1/definitions/validate/", {}, format="multipart")

    assert response.status_code == 400 and "file" in response.json()


def test_only_who_may_deploy_may_validate(make_user, api_as):
    response = check(api_as(make_user("clerk", "Sales")), (BPMN_DIR / "approval.bpmn").read_bytes())

    assert response.status_code == 403


def conditionless_gateway_file() -> bytes:
    from tests.engine import bpmn

    body = (bpmn.start_event() + bpmn.exclusive_gateway("route") + bpmn.user_task("first") + bpmn.user_task("second")
            + bpmn.end_event("end_first") + bpmn.end_event("end_second") + bpmn.flow("in", "start", "route")
            + bpmn.flow("to_first", "route", "first", "${amount > 10}") + bpmn.flow("to_second", "route", "second")
            + bpmn.flow("out_first", "first", "end_first") + bpmn.flow("out_second", "second", "end_second"))
    return bpmn.definitions("routing", body)


def test_validation_and_deploy_both_return_what_was_tolerated(analyst):
    checked = check(analyst, conditionless_gateway_file()).json()
    deployed = analyst.post("/api/v1/definitions/", {
        "file": SimpleUploadedFile("drawn.bpmn", conditionless_gateway_file(), content_type="application/xml"),
    }, format="multipart")

    assert checked["problems"] == []
    [warning] = checked["warnings"]
    assert "'to_second'" in warning and "always true" in warning
    assert deployed.status_code == 201
    assert deployed.json()["warnings"] == [warning]


def test_a_lane_without_a_matching_role_is_a_warning(analyst):
    content = (BPMN_DIR / "approval.bpmn").read_bytes().replace(b'name="Manager"', b'name="Board"')

    result = check(analyst, content).json()

    assert result["problems"] == []
    assert result["warnings"] == ["Lane 'Board' maps to role 'Board', which does not exist"]
