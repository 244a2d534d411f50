"""Deploying BPMN files over the API."""


import pytest
from rest_framework.test import APIClient

from tests.conftest import BPMN_DIR

pytestmark = pytest.mark.django_db


def upload(client, content: bytes, name: str = "p.bpmn"):
    return client.post("/api/v1/definitions/", {"file": _file(content, name)},
                       format="multipart")


def _file(content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/xml")


@pytest.fixture
def analyst(make_user, api_as):
    return api_as(make_user("analyst", "Analyst"))


def test_it_deploys_a_file_and_returns_the_version(analyst):
    response = upload(analyst, (BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["process_id"] == "approval" and body["version"] == 1
    assert body["lanes"] == ["Sales", "Manager"]
    assert body["lane_roles"] == {"Sales": "Sales", "Manager": "Manager"}


def test_identical_content_keeps_the_version_and_changed_content_adds_one(analyst):
    content = (BPMN_DIR / "approval.bpmn").read_bytes()
    assert upload(analyst, content).json()["version"] == 1
    again = upload(analyst, content)
    assert again.status_code == 200 and again.json()["version"] == 1
    changed = content.replace(b'name="Compute total"', b'name="Compute the total"')
    assert upload(analyst, changed).json()["version"] == 2


def test_the_bpmn_file_can_be_downloaded(analyst):
    content = (BPMN_DIR / "approval.bpmn").read_bytes()
    definition = upload(analyst, content).json()
    listed = analyst.get("/api/v1/definitions/").json()
    assert listed["count"] == 1
    response = analyst.get(f"/api/v1/definitions/{definition['id']}/bpmn/")
    assert response.status_code == 200
    assert response.content == content


@pytest.mark.parametrize("content, expected", [
    (b"not xml at all", "Malformed XML"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Not a BPMN 2.0 file"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
     b'<lolz>&lol2;</lolz>', "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</definitions>', "DOCTYPE"),
    (b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">'
     b'<process id="p" isExecutable="false"/></definitions>', "no executable process"),
])
def test_bad_files_get_a_400_that_names_the_problem(analyst, content, expected):
    response = upload(analyst, content)
    assert response.status_code == 400
    assert expected in response.json()["error"]
    assert b"root:" not in response.content


def test_a_file_over_5_mb_is_refused(analyst):
    content = b"<x>" + b" " * (5 * 1024 * 1024) + b"</x>"
    response = upload(analyst, content)
    assert response.status_code == 400
    assert "5 MB" in response.json()["error"]


def test_an_error_in_an_element_names_it(analyst):
    content = (BPMN_DIR / "approval.bpmn").read_bytes().replace(
        b'total = sum(line["qty"] * line["price"] for line in lines)', b"import os")
    response = upload(analyst, content)
    assert response.status_code == 400
    assert response.json()["element_id"] == "compute"


def test_the_upload_field_is_required(analyst):
    response = analyst.post("/api/v1/definitions/", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_only_analysts_deploy(make_user, api_as):
    sales = api_as(make_user("sales", "Sales"))
    response = upload(sales, (BPMN_DIR / "approval.bpmn").read_bytes())
    assert response.status_code == 403


def test_anonymous_callers_get_401():
    response = APIClient().get("/api/v1/definitions/")
    assert response.status_code == 401
