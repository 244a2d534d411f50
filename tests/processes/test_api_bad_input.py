"""Nasty input a fuzzer rarely generates gets a 4xx that says what is wrong, never a 500."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from engine.deploy import deploy
from engine.models import ProcessInstance
from tests.conftest import BPMN_DIR

pytestmark = pytest.mark.django_db(transaction=True)

START = "/api/v1/processes/approval/instances/"
LINES = {"lines": [{"qty": 2, "price": 10}]}


@pytest.fixture
def client(make_user):
    """A token-authenticated analyst and operator, with the approval process deployed."""
    from accounts.tokens import create_token

    deploy((BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn")
    user = make_user("analyst", "Analyst", "Operator", "Manager")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user)[1]}")
    return client


def started(client) -> dict:
    response = client.post(START, {"business_key": "Q-1", "variables": LINES}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def post_json(client, url: str, raw: str, **extra):
    return client.generic("POST", url, raw, content_type="application/json", **extra)


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def test_a_text_value_in_the_upload_field_asks_for_a_file(client):
    response = client.post("/api/v1/definitions/", {"file": "not a file"}, format="multipart")
    assert response.status_code == 400
    assert "file" in json.dumps(response.json())


def upload(client, name: str, **fields):
    """Upload a changed approval.bpmn, so that it becomes a new version under `name`."""
    content = (BPMN_DIR / "approval.bpmn").read_bytes().replace(b"Compute total", b"Compute the total")
    file = SimpleUploadedFile(name, content, content_type="application/xml")
    return client.post("/api/v1/definitions/", {"file": file, **fields}, format="multipart")


def test_an_upload_with_a_huge_file_name_is_deployed_under_a_shortened_name(client):
    response = upload(client, "x" * 5000 + ".bpmn")
    assert response.status_code == 201, response.content
    assert response.json()["file_name"] == "x" * 250 + ".bpmn"


def test_an_upload_name_with_a_nul_byte_or_a_path_is_cleaned(client):
    assert upload(client, "../../etc/pass\x00wd.bpmn").json()["file_name"] == "passwd.bpmn"


def test_bindings_that_are_not_json_get_400(client):
    response = upload(client, "p.bpmn", bindings="{not json")
    assert response.status_code == 400
    assert "Bindings are not valid JSON" in response.json()["error"]


def test_bindings_nested_1000_levels_deep_get_400(client):
    response = upload(client, "p.bpmn", bindings=nested(1000))
    assert response.status_code == 400


def test_a_nul_byte_in_the_business_key_gets_400_naming_the_field(client):
    response = client.post(START, {"business_key": "Q-\x00-1", "variables": LINES}, format="json")
    assert response.status_code == 400
    assert "business_key" in response.json()
    assert ProcessInstance.objects.count() == 0


def test_a_nul_byte_inside_the_variables_gets_400_naming_the_field(client):
    response = client.post(START, {"variables": {**LINES, "note": "a\x00b"}}, format="json")
    assert response.status_code == 400
    assert "NUL" in str(response.json()["variables"])


@pytest.mark.parametrize("key, message", [("k" * 10_000, "at most 255"), ("order\x00-1", "NUL")])
def test_a_bad_idempotency_key_gets_400(client, key, message):
    response = client.post(START, {"variables": LINES}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert message in response.json()["Idempotency-Key"]
    assert ProcessInstance.objects.count() == 0


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "3", "null"])
def test_a_json_body_that_is_not_an_object_gets_400(client, raw):
    response = post_json(client, START, raw)
    assert response.status_code == 400
    assert response.json()["non_field_errors"]


def test_a_json_body_that_does_not_parse_gets_400(client):
    response = post_json(client, START, '{"variables": ')
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]


def test_variables_nested_1000_levels_deep_get_400(client):
    response = post_json(client, START, '{"variables": ' + nested(1000) + "}")
    assert response.status_code == 400
    assert "deep" in json.dumps(response.json())
    assert ProcessInstance.objects.count() == 0


def test_variables_nested_past_32_levels_get_400_naming_the_limit(client):
    response = post_json(client, START, '{"variables": {"lines": [], "deep": ' + nested(40) + "}}")
    assert response.status_code == 400
    assert response.json()["variables"] == ["is nested too deep (at most 32 levels)"]


def test_task_data_nested_1000_levels_deep_gets_400(client):
    task_id = started(client)["tasks"][0]["id"]
    response = post_json(client, f"/api/v1/tasks/{task_id}/complete/", '{"data": ' + nested(1000) + "}")
    assert response.status_code == 400
    assert "deep" in json.dumps(response.json())


@pytest.mark.parametrize("number, message", [
    ("1e400", "a number JSON cannot carry: inf"),
    ("-1e400", "a number JSON cannot carry: -inf"),
    ("NaN", "not JSON compliant"),
    ("Infinity", "not JSON compliant"),
])
def test_numbers_json_cannot_carry_get_400(client, number, message):
    response = post_json(client, START, '{"variables": {"lines": [], "n": ' + number + "}}")
    assert response.status_code == 400
    assert message in json.dumps(response.json())
    assert ProcessInstance.objects.count() == 0


def test_a_huge_number_in_task_data_gets_400(client):
    task_id = started(client)["tasks"][0]["id"]
    response = post_json(client, f"/api/v1/tasks/{task_id}/complete/", '{"data": {"approved": 1e400}}')
    assert response.status_code == 400
    assert "cannot carry" in response.json()["data"][0]


def test_variables_sent_as_a_form_field_are_checked_like_json(client):
    response = client.post(START, {"variables": nested(1000)}, format="multipart")
    assert response.status_code == 400
    assert "deep" in response.json()["variables"][0]


def test_a_browser_asking_for_html_gets_the_browsable_api(client):
    response = client.get("/api/v1/instances/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_a_browser_posting_bad_data_gets_the_error_as_html(client):
    response = client.post(START, {"variables": "[1]"}, HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert b"must be a JSON object" in response.content


@pytest.mark.parametrize("accept", ["application/xml", "garbage"])
def test_asking_for_a_format_we_do_not_speak_gets_406(client, accept):
    response = client.get("/api/v1/instances/", HTTP_ACCEPT=accept)
    assert response.status_code == 406
    assert "Accept" in response.json()["error"]


def test_an_unsupported_content_type_gets_415(client):
    response = client.generic("POST", START, "<x/>", content_type="application/xml")
    assert response.status_code == 415
    assert "application/xml" in response.json()["error"]


def test_unknown_query_parameters_are_ignored(client):
    started(client)
    response = client.get("/api/v1/instances/?colour=blue&state=active&_=123")
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("url", [
    "/api/v1/instances/99999999999999999999/",
    "/api/v1/instances/9223372036854775808/history/",
    "/api/v1/definitions/99999999999999999999/bpmn/",
    "/api/v1/tasks/99999999999999999999/complete/",
    "/api/v1/incidents/99999999999999999999/retry/",
    "/api/v1/incidents/99999999999999999999/resolve/",
    "/api/v1/instances/-1/",
])
def test_ids_out_of_range_get_404(client, url):
    method = client.post if url.endswith(("complete/", "retry/", "resolve/")) else client.get
    assert method(url).status_code == 404


@pytest.mark.parametrize("query, field", [
    ("limit=-1&offset=abc", "limit"),
    ("limit=abc", "limit"),
    ("limit=0", "limit"),
    ("offset=-5", "offset"),
    ("offset=1.5", "offset"),
    ("limit=%D9%A3", "limit"),
])
def test_a_limit_or_offset_that_is_not_a_whole_number_gets_400_naming_it(client, query, field):
    response = client.get(f"/api/v1/instances/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_a_huge_limit_and_offset_give_an_empty_page(client):
    started(client)
    response = client.get(f"/api/v1/instances/?limit={'9' * 5000}&offset={'9' * 40}")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_huge_limit_is_capped(client):
    started(client)
    response = client.get("/api/v1/tasks/?limit=99999999999999999999")
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("url", [
    "/api/v1/instances/?state=%00",
    "/api/v1/instances/?process=a%00b",
    "/api/v1/instances/?business_key=%00",
    "/api/v1/incidents/?state=%00",
    "/api/v1/search/?q=SO%00-1",
])
def test_a_nul_byte_in_a_filter_gets_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in json.dumps(response.json())


def test_a_nul_byte_in_the_process_id_gets_400(client):
    response = client.post("/api/v1/processes/appr%00oval/instances/", {}, format="json")
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]


def test_a_very_long_process_id_gets_404(client):
    response = client.post(f"/api/v1/processes/{'p' * 5000}/instances/", {}, format="json")
    assert response.status_code == 404


def test_a_script_that_computes_infinity_does_not_break_the_instance(make_user, api_as):
    from engine.deploy import deploy
    from tests.conftest import BPMN_DIR

    deploy((BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn")
    client = api_as(make_user("analyst", "Analyst"))
    response = client.post("/api/v1/processes/approval/instances/",
                           {"variables": {"lines": [{"qty": 1e308, "price": 10}]}}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["variables"]["total"] == "inf"


def test_a_nul_character_in_an_address_gets_400(make_user, client):
    client.force_login(make_user("operator", "Operator"))
    assert client.get("/processes/instances/?business_key=a%00b").status_code == 400
    assert client.get("/start/no%00such/").status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/instances/?state=bogus", "/api/v1/incidents/?state=bogus"])
def test_a_state_filter_no_row_can_have_gets_400_naming_state(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "state" in response.json()


def test_a_known_state_filter_still_filters(client):
    started(client)
    assert client.get("/api/v1/instances/?state=active").json()["count"] == 1
    assert client.get("/api/v1/incidents/?state=resolved").json()["count"] == 0
