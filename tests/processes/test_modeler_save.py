"""Saving from the browser modeler: only a drawing without problems whose cases pass becomes a version."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from engine.models import ProcessDefinition
from tests.conftest import BPMN_DIR
from tests.engine.bpmn import service_process
from tests.engine.test_process_test_cases import credit_process
from tests.processes.test_process_test_cases_api import FAILING, PASSING

pytestmark = pytest.mark.django_db
SAVE = "/processes/modeler/save/"


@pytest.fixture
def analyst(client, make_user):
    make_user("analyst", "Analyst")
    client.login(username="analyst", password="demo")
    return client


def drawing(content: bytes, name: str = "drawn.bpmn"):
    return SimpleUploadedFile(name, content, content_type="application/xml")


def test_a_drawing_is_saved_as_a_new_version_with_the_lane_roles_picked(analyst):
    roles = {"Sales": "Sales", "Manager": "Finance"}

    response = analyst.post(SAVE, {"file": drawing((BPMN_DIR / "approval.bpmn").read_bytes()),
                                   "lane_roles": json.dumps(roles)})

    assert response.status_code == 200, response.content
    saved = ProcessDefinition.objects.get(process_id="approval")
    assert response.json() == {"url": f"/processes/definitions/{saved.pk}/", "process_id": "approval",
                               "version": 1, "created": True}
    assert saved.lane_roles == roles


def test_a_drawing_with_problems_is_not_saved_and_the_problems_come_back(analyst):
    response = analyst.post(SAVE, {"file": drawing(service_process(None))})

    assert response.status_code == 400
    assert response.json()["problems"][0]["element_id"] == "call"
    assert not ProcessDefinition.objects.exists()


def test_a_drawing_whose_test_cases_fail_is_not_saved(analyst):
    cases = SimpleUploadedFile("cases.json", json.dumps(PASSING + FAILING).encode())

    response = analyst.post(SAVE, {"file": drawing(credit_process()), "tests": cases})

    assert response.status_code == 400
    assert "Test case 'poor customer' failed" in response.json()["problems"][0]["message"]
    assert not ProcessDefinition.objects.exists()


def test_a_role_that_does_not_exist_is_refused_before_anything_is_stored(analyst):
    response = analyst.post(SAVE, {"file": drawing((BPMN_DIR / "approval.bpmn").read_bytes()),
                                   "lane_roles": json.dumps({"Sales": "Nobody"})})

    assert response.status_code == 400
    assert response.json() == {"error": "No such role: Nobody"}
    assert not ProcessDefinition.objects.exists()


def test_the_modeler_page_lists_the_connector_operations_and_roles(analyst):
    page = analyst.get("/processes/modeler/")

    assert page.status_code == 200
    catalog = page.context["catalog"]
    assert "Sales" in catalog["roles"]
    assert all({"name", "description"} <= set(op) for op in catalog["operations"])
    assert 'id="modeler-catalog"' in page.content.decode()
