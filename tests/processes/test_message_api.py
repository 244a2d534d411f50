"""POST /api/v1/messages/, /api/v1/signals/ and the signed /hooks/messages/: the contract other systems code against."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.test import Client

from engine.deploy import deploy
from engine.models import BufferedMessage, HistoryEvent, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn_events as ev

SECRET = "s3cret-for-tests"


@pytest.fixture
def sender(make_user, api_as):
    return api_as(make_user("integration", "Integration"))


@pytest.fixture
def waiting(db):
    deploy(ev.waits_for_message(), "wait.bpmn")
    instance, _ = start_instance("awaiting_payment", {"order": "A-1"}, business_key="A-1")
    return instance


def post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_a_delivered_message_answers_200_with_the_instance(sender, waiting):
    response = post(sender, "/api/v1/messages/", {"name": "payment received", "business_key": "A-1",
                                                   "variables": {"amount": 10}})
    assert response.status_code == 200
    assert response.json() == {"instances": [waiting.pk]}
    waiting.refresh_from_db()
    assert waiting.variables["amount"] == 10


def test_a_message_start_answers_201(sender, db):
    deploy(ev.message_start_process(), "start.bpmn")
    response = post(sender, "/api/v1/messages/", {"name": "order placed", "business_key": "W-1"})
    assert response.status_code == 201
    assert ProcessInstance.objects.get(pk=response.json()["instances"][0]).business_key == "W-1"


def test_a_message_with_ttl_and_no_receiver_is_buffered_with_202(sender, db):
    response = post(sender, "/api/v1/messages/", {"name": "payment received", "business_key": "Z", "ttl": "PT1H"})
    assert response.status_code == 202
    assert BufferedMessage.objects.get(pk=response.json()["buffered"]).state == BufferedMessage.WAITING


def test_a_message_nobody_waits_for_answers_404_naming_it(sender, db):
    response = post(sender, "/api/v1/messages/", {"name": "payment received"})
    assert response.status_code == 404
    assert "payment received" in response.json()["error"]


def test_several_matches_answer_409_naming_the_instances(sender, waiting):
    other, _ = start_instance("awaiting_payment", {}, business_key="A-1")
    response = post(sender, "/api/v1/messages/", {"name": "payment received", "business_key": "A-1"})
    assert response.status_code == 409
    assert response.json()["instances"] == [waiting.pk, other.pk]
    response = post(sender, "/api/v1/messages/", {"name": "payment received", "business_key": "A-1", "all": True})
    assert response.json() == {"instances": [waiting.pk, other.pk]}


def test_a_bad_body_answers_400_naming_the_field(sender, db):
    response = post(sender, "/api/v1/messages/", {"name": "x", "ttl": 5})
    assert response.status_code == 400
    assert response.json()["field"] == "ttl"
    response = sender.post("/api/v1/messages/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_the_same_idempotency_key_gets_the_first_answer_and_no_second_delivery(sender, waiting, db):
    deploy(ev.message_start_process(), "start.bpmn")
    body = {"name": "order placed", "business_key": "W-1"}
    first = post(sender, "/api/v1/messages/", body, **{"Idempotency-Key": "k-1"})
    again = post(sender, "/api/v1/messages/", body, **{"Idempotency-Key": "k-1"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert ProcessInstance.objects.filter(definition__process_id="web_order").count() == 1
    assert post(sender, "/api/v1/messages/", body, **{"Idempotency-Key": "k-2"}).status_code == 201


def test_the_same_idempotency_key_delivers_once(sender, waiting):
    body = {"name": "payment received", "business_key": "A-1"}
    first = post(sender, "/api/v1/messages/", body, **{"Idempotency-Key": "pay-1"})
    again = post(sender, "/api/v1/messages/", body, **{"Idempotency-Key": "pay-1"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert waiting.history.filter(kind=HistoryEvent.MESSAGE).count() == 1


@pytest.mark.parametrize("role", ["Analyst", "Operator", "Integration"])
def test_analysts_operators_and_integrations_may_send(make_user, api_as, waiting, role):
    client = api_as(make_user("someone", role))
    assert post(client, "/api/v1/messages/", {"name": "payment received", "business_key": "A-1"}).status_code == 200


def test_an_auditor_may_not_send_messages_or_signals(make_user, api_as, waiting):
    client = api_as(make_user("audrey", "Auditor"))
    assert post(client, "/api/v1/messages/", {"name": "payment received", "business_key": "A-1"}).status_code == 403
    assert post(client, "/api/v1/signals/", {"name": "anything"}).status_code == 403
    assert not waiting.history.filter(kind=HistoryEvent.MESSAGE).exists()


def test_an_anonymous_caller_is_refused(waiting):
    assert post(Client(), "/api/v1/messages/", {"name": "payment received"}).status_code in (401, 403)


def test_a_signal_answers_200_with_every_instance_reached(sender, db):
    deploy(ev.waits_for_signal(), "signal.bpmn")
    instance, _ = start_instance("awaiting_signal", {})
    response = post(sender, "/api/v1/signals/", {"name": "product recalled", "variables": {"batch": 7}})
    assert (response.status_code, response.json()) == (200, {"instances": [instance.pk]})
    assert post(sender, "/api/v1/signals/", {"variables": {}}).json()["field"] == "name"


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Lanebridge-Timestamp": stamp, "X-Lanebridge-Signature": f"sha256={digest}"}


def hook(body: bytes, headers: dict):
    return Client().post("/hooks/messages/", body, content_type="application/json", headers=headers)


def test_a_signed_webhook_delivers_like_the_api(settings, waiting):
    settings.LANEBRIDGE_WEBHOOK_SECRET = SECRET
    body = json.dumps({"name": "payment received", "business_key": "A-1"}).encode()
    response = hook(body, signed(body))
    assert (response.status_code, response.json()) == (200, {"instances": [waiting.pk]})


def test_the_webhook_is_404_while_no_secret_is_set(settings, waiting):
    settings.LANEBRIDGE_WEBHOOK_SECRET = ""
    body = json.dumps({"name": "payment received", "business_key": "A-1"}).encode()
    assert hook(body, signed(body)).status_code == 404


@pytest.mark.parametrize("headers", [
    lambda body: {},
    lambda body: {"X-Lanebridge-Timestamp": str(int(time.time()))},
    lambda body: signed(body, secret="wrong"),
    lambda body: signed(body, timestamp=int(time.time()) - 301),
    lambda body: signed(body + b" "),
    lambda body: {**signed(body), "X-Lanebridge-Timestamp": "soon"},
], ids=["missing", "no signature", "wrong secret", "older than 5 minutes", "other body", "bad timestamp"])
def test_the_webhook_refuses_unsigned_or_stale_requests_with_401(settings, waiting, headers):
    settings.LANEBRIDGE_WEBHOOK_SECRET = SECRET
    body = json.dumps({"name": "payment received", "business_key": "A-1"}).encode()
    response = hook(body, headers(body))
    assert response.status_code == 401
    assert not waiting.history.filter(kind=HistoryEvent.MESSAGE).exists()


def test_the_webhook_answers_400_for_a_body_that_is_not_json(settings, db):
    settings.LANEBRIDGE_WEBHOOK_SECRET = SECRET
    assert hook(b"{oops", signed(b"{oops")).status_code == 400


def test_the_webhook_honours_the_idempotency_key(settings, waiting):
    settings.LANEBRIDGE_WEBHOOK_SECRET = SECRET
    body = json.dumps({"name": "payment received", "business_key": "A-1"}).encode()
    first = hook(body, {**signed(body), "Idempotency-Key": "erp-42"})
    again = hook(body, {**signed(body), "Idempotency-Key": "erp-42"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert waiting.history.filter(kind=HistoryEvent.MESSAGE).count() == 1
