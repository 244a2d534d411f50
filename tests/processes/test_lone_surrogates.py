"""Text with a lone surrogate ("\\ud800" in JSON) is refused before it is stored, and rows holding one still read."""

import hashlib
import hmac
import json
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from approvals.forms import validate_submission
from engine import runtime
from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from tests.conftest import BPMN_DIR
from tests.engine import bpmn_events as ev

pytestmark = pytest.mark.django_db(transaction=True)

START = "/api/v1/processes/approval/instances/"
LONE = "\ud800"


@pytest.fixture
def analyst(make_user):
    """A user who may start, watch and act on the approval process, which is deployed."""
    deploy((BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn")
    return make_user("analyst", "Analyst", "Operator", "Manager")


@pytest.fixture
def api(analyst) -> APIClient:
    client = APIClient()
    client.force_authenticate(analyst)
    return client


def post_json(client, url: str, raw: str):
    return client.generic("POST", url, raw, content_type="application/json")


@pytest.mark.parametrize("raw, field", [
    ('{"variables": {"lines": [], "a": "\\ud800"}}', "variables.a"),
    ('{"variables": {"lines": [], "a": ["ok", {"b": "x\\udfffy"}]}}', "variables.a[1].b"),
    ('{"variables": {"lines": [], "\\ud800": 1}}', "variables"),
    ('{"business_key": "Q-\\ud800", "variables": {"lines": []}}', "business_key"),
])
def test_starting_with_a_lone_surrogate_gets_400_naming_the_field_and_stores_nothing(api, raw, field):
    response = post_json(api, START, raw)
    assert response.status_code == 400
    assert any(key.startswith(field) for key in response.json()), response.json()
    assert "surrogate" in json.dumps(response.json())
    assert ProcessInstance.objects.count() == 0
    assert HistoryEvent.objects.count() == 0


def test_a_surrogate_pair_is_a_character_and_is_accepted(api):
    response = post_json(api, START, '{"variables": {"lines": [], "a": "\\ud83d\\ude00"}}')
    assert response.status_code == 201, response.content
    assert response.json()["variables"]["a"] == "\U0001f600"


def test_completing_a_task_with_a_lone_surrogate_gets_400_and_leaves_the_task_open(api):
    task_id = post_json(api, START, '{"variables": {"lines": []}}').json()["tasks"][0]["id"]
    response = post_json(api, f"/api/v1/tasks/{task_id}/complete/", '{"data": {"comment": "\\udc00"}}')
    assert response.status_code == 400
    assert "data.comment" in response.json()
    assert HumanTask.objects.get(pk=task_id).state == HumanTask.OPEN


@pytest.mark.parametrize("raw, field", [
    ('{"set": {"a": "\\ud800"}, "reason": "typo"}', "set.a"),
    ('{"set": {"a": 1}, "reason": "fixed \\udfff"}', "reason"),
    ('{"unset": ["\\ud800"], "reason": "typo"}', "unset[0]"),
])
def test_an_operator_editing_variables_with_a_lone_surrogate_gets_400_and_nothing_changes(api, raw, field):
    instance = post_json(api, START, '{"variables": {"lines": []}}').json()["id"]
    events = HistoryEvent.objects.count()
    response = api.generic("PATCH", f"/api/v1/instances/{instance}/variables/", raw, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()
    assert "a" not in ProcessInstance.objects.get(pk=instance).variables
    assert HistoryEvent.objects.count() == events


def test_variables_given_as_a_form_field_are_checked_by_the_engine(api):
    response = api.post(START, {"variables": '{"lines": [], "a": "\\ud800"}'}, format="multipart")
    assert response.status_code == 400
    assert "variables.a" in response.json()["error"]
    assert ProcessInstance.objects.count() == 0


def test_the_engine_refuses_a_lone_surrogate_whoever_calls_it(analyst):
    with pytest.raises(runtime.InvalidVariables, match=r"variables\.note\.to: the text contains half"):
        runtime.start_instance("approval", {"lines": [], "note": {"to": LONE}})
    assert ProcessInstance.objects.count() == 0


def test_the_web_start_form_never_stores_half_a_surrogate_pair(analyst):
    # The start page is a form now (no JSON box): a form field's bytes are UTF-8, so the bytes of a lone
    # surrogate arrive as replacement characters and nothing stored holds half a pair.
    client = Client()
    client.force_login(analyst)
    client.post("/start/approval/", b"business_key=Q-%ED%A0%80", content_type="application/x-www-form-urlencoded")
    instance = ProcessInstance.objects.get()
    assert instance.business_key == "Q-\ufffd\ufffd\ufffd"
    assert not runtime.has_lone_surrogate(instance.business_key + instance.state_json)
    assert client.get(f"/processes/instances/{instance.pk}/").status_code == 200


def test_a_task_without_form_fields_refuses_a_lone_surrogate_in_its_data():
    with pytest.raises(ValidationError, match=r"data\.x: the text contains half"):
        validate_submission(HumanTask(form={}), {"x": LONE})


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL itself refuses to store a lone surrogate")
def test_rows_already_holding_a_lone_surrogate_are_shown_escaped(api, analyst):
    """Rows written before the check (or from a connector's answer) must not break any page or endpoint."""
    started = post_json(api, START, '{"business_key": "Q-1", "variables": {"lines": []}}').json()
    instance, task_id = started["id"], started["tasks"][0]["id"]
    ProcessInstance.objects.filter(pk=instance).update(variables={"lines": [], "a": LONE, LONE: "key"})
    HumanTask.objects.filter(pk=task_id).update(data={"comment": LONE, "lines": []})
    HistoryEvent.objects.create(instance_id=instance, kind=HistoryEvent.TASK_COMPLETED, element_id="approve",
                                data={"task": task_id, "data": {"comment": "x" + LONE}})

    detail = api.get(f"/api/v1/instances/{instance}/")
    assert detail.status_code == 200
    assert detail.json()["variables"]["a"] == LONE  # sent as the JSON escape \ud800, so it reads back the same
    assert b"\\ud800" in detail.content
    for url in [f"/api/v1/instances/{instance}/history/", "/api/v1/tasks/", "/api/v1/instances/"]:
        assert api.get(url).status_code == 200, url
    assert api.get(f"/api/v1/instances/{instance}/", HTTP_ACCEPT="text/html").status_code == 200

    browser = Client()
    browser.force_login(analyst)
    for url in [f"/processes/instances/{instance}/", "/", f"/tasks/{task_id}/", "/processes/instances/"]:
        response = browser.get(url)
        assert response.status_code == 200, url
    assert "\\ud800" in browser.get(f"/processes/instances/{instance}/").content.decode()
    assert "\\ud800" in browser.get(f"/tasks/{task_id}/").content.decode()


@pytest.fixture
def payment_wait(analyst):
    """An instance waiting for the message "payment received" with business key A-1."""
    deploy(ev.waits_for_message(), "wait.bpmn")
    instance, _ = runtime.start_instance("awaiting_payment", {"order": "A-1"}, business_key="A-1")
    return instance


MESSAGES = [
    ('{"name": "payment received", "business_key": "A-1", "variables": {"note": "\\ud800"}}', "variables"),
    ('{"name": "payment\\udc00 received", "business_key": "A-1"}', "name"),
    ('{"name": "payment received", "business_key": "A-\\ud800"}', "business_key"),
    ('{"name": "payment received", "correlation": {"order": "\\ud800"}}', "correlation"),
]


@pytest.mark.parametrize("raw, field", MESSAGES)
def test_a_message_holding_a_lone_surrogate_gets_400_and_is_not_delivered(api, payment_wait, raw, field):
    response = post_json(api, "/api/v1/messages/", raw)
    assert response.status_code == 400
    assert field in json.dumps(response.json())
    assert not payment_wait.history.filter(kind=HistoryEvent.MESSAGE).exists()


@pytest.mark.parametrize("raw, field", MESSAGES)
def test_a_signed_webhook_holding_a_lone_surrogate_gets_400_and_is_not_delivered(settings, payment_wait, raw,
                                                                                  field):
    settings.LANEBRIDGE_WEBHOOK_SECRET = "s3cret-for-tests"
    body = raw.encode()
    stamp = str(int(time.time()))
    signature = hmac.new(b"s3cret-for-tests", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    response = Client().post("/hooks/messages/", body, content_type="application/json", headers={
        "X-Lanebridge-Timestamp": stamp, "X-Lanebridge-Signature": f"sha256={signature}"})
    assert response.status_code == 400
    assert field in json.dumps(response.json())
    assert not payment_wait.history.filter(kind=HistoryEvent.MESSAGE).exists()
