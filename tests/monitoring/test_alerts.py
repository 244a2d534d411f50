"""Alert rules, the storm window and the channels, against a real HTTP receiver started by the test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from engine import jobs, messages
from engine.models import BufferedMessage, HumanTask, ProcessInstance
from monitoring import alerts, channels
from monitoring.models import Alert
from tests.monitoring.receiver import Receiver

WINDOW = 600


@pytest.fixture
def receiver():
    server = Receiver()
    server.url = server.start()
    yield server
    server.stop()


@pytest.fixture
def alert_settings(settings, receiver):
    settings.LANEBRIDGE_BASE_URL = "https://flow.example.com"
    settings.LANEBRIDGE_ALERTS = {**settings.LANEBRIDGE_ALERTS, "WINDOW_SECONDS": WINDOW,
                                  "WEBHOOKS": f"json:{receiver.url}/hook"}
    return settings.LANEBRIDGE_ALERTS


@pytest.fixture
def start_of_window():
    """A time at the start of the current window, so a test's runs stay inside it until it moves on."""
    return alerts.window_start(timezone.now()) + timedelta(seconds=1)


def failed_orders(orders, n: int) -> list[ProcessInstance]:
    found = []
    orders.erp_fails = True
    for i in range(n):
        instance = orders.start(f"Q-fail-{i}")
        orders.decide(instance, True)
        orders.run_call(instance)
        found.append(instance)
    return found


def test_an_incident_is_one_alert_by_email_and_webhook_with_an_absolute_link(
        orders, make_user, alert_settings, receiver, start_of_window):
    make_user("op", "Operator")
    (instance,) = failed_orders(orders, 1)

    assert alerts.run_alerts(start_of_window) == 1

    alert = Alert.objects.get()
    assert (alert.kind, alert.process_id, alert.element_id, alert.count) == ("incident", "order", "create_order", 1)
    (email,) = mail.outbox
    assert email.to == ["op@example.com"]
    assert "1 incident at Create ERP order in order" in email.subject
    assert f"https://flow.example.com/processes/instances/{instance.pk}/" in email.body
    (hook,) = receiver.received
    assert hook.path == "/hook"
    assert (hook.body["kind"], hook.body["count"], hook.body["element_name"]) == ("incident", 1, "Create ERP order")
    assert hook.body["url"] == f"https://flow.example.com/processes/instances/{instance.pk}/"
    port = receiver.server.server_address[1]
    assert Alert.objects.get().channels == {"email": "sent", f"json:127.0.0.1:{port}": "sent"}


def test_a_storm_in_one_window_is_one_message_with_a_count_and_one_follow_up(
        orders, alert_settings, receiver, start_of_window):
    failed_orders(orders, 5)
    alerts.run_alerts(start_of_window)
    failed_orders(orders, 3)

    alerts.run_alerts(start_of_window + timedelta(seconds=60))
    alerts.run_alerts(start_of_window + timedelta(seconds=120))
    after_window = start_of_window + timedelta(seconds=WINDOW)
    alerts.run_alerts(after_window)
    alerts.run_alerts(after_window + timedelta(seconds=60))

    assert [(r.body["count"], r.body["total"]) for r in receiver.received] == [(5, 5), (3, 8)]
    assert "3 more in the same 10 minutes" in receiver.received[1].body["text"]
    assert Alert.objects.get().count == 8


def test_a_new_window_starts_a_new_alert(orders, alert_settings, receiver, start_of_window):
    failed_orders(orders, 1)
    alerts.run_alerts(start_of_window)
    failed_orders(orders, 1)

    alerts.run_alerts(start_of_window + timedelta(seconds=WINDOW))

    assert [r.body["count"] for r in receiver.received] == [1, 1]
    assert Alert.objects.count() == 2


def test_an_overdue_task_alerts_its_role_and_the_operators_once(
        orders, make_user, alert_settings, receiver, start_of_window):
    make_user("op", "Operator")
    make_user("boss", "Manager")
    instance = orders.start("Q-late")
    HumanTask.objects.filter(instance=instance).update(
        due_at=start_of_window + timedelta(seconds=30), candidate_groups=["Manager"])
    alerts.run_alerts(start_of_window)
    assert receiver.received == []  # not due yet

    alerts.run_alerts(start_of_window + timedelta(seconds=60))
    alerts.run_alerts(start_of_window + timedelta(seconds=120))

    (hook,) = receiver.received
    assert (hook.body["kind"], hook.body["element_id"], hook.body["count"]) == ("overdue", "approve", 1)
    assert sorted(mail.outbox[0].to) == ["boss@example.com", "op@example.com"]


def test_an_instance_without_progress_past_the_threshold_alerts_once(
        orders, alert_settings, receiver, settings, start_of_window):
    settings.LANEBRIDGE_ALERTS = {**alert_settings, "STUCK_HOURS": 2}
    alerts.run_alerts(start_of_window)
    stuck, moving = orders.start("Q-stuck"), orders.start("Q-moving")
    ProcessInstance.objects.filter(pk=stuck.pk).update(updated_at=start_of_window - timedelta(hours=2, seconds=-30))
    ProcessInstance.objects.filter(pk=moving.pk).update(updated_at=start_of_window - timedelta(hours=1))

    alerts.run_alerts(start_of_window + timedelta(seconds=60))
    alerts.run_alerts(start_of_window + timedelta(seconds=120))

    (hook,) = receiver.received
    assert (hook.body["kind"], hook.body["element_id"], hook.body["instances"]) == ("stuck", "approve", [stuck.pk])


def test_an_element_whose_calls_fail_too_often_alerts_with_the_rate(
        orders, alert_settings, receiver, settings, start_of_window):
    settings.LANEBRIDGE_ALERTS = {**alert_settings, "INCIDENTS": False, "ERROR_RATE": 0.5,
                                  "ERROR_RATE_MIN_CALLS": 4}
    alerts.run_alerts(start_of_window)  # the rule starts counting from here
    for n in range(2):
        instance = orders.start(f"Q-ok-{n}")
        orders.decide(instance, True)
        orders.run_call(instance)
    failed_orders(orders, 1)
    alerts.run_alerts(start_of_window + timedelta(seconds=60))
    assert receiver.received == []  # 3 calls: fewer than the minimum

    failed_orders(orders, 1)
    alerts.run_alerts(start_of_window + timedelta(seconds=120))

    (hook,) = receiver.received
    assert (hook.body["kind"], hook.body["element_id"], hook.body["count"]) == ("error_rate", "create_order", 2)
    assert "2 of 4 calls failed" in hook.body["text"]


def test_switched_off_rules_send_nothing(orders, alert_settings, receiver, settings, start_of_window):
    settings.LANEBRIDGE_ALERTS = {**alert_settings, "INCIDENTS": False, "ERROR_RATE": 0}
    failed_orders(orders, 2)

    assert alerts.run_alerts(start_of_window) == 0
    assert receiver.received == []


def message() -> channels.Message:
    return channels.Message("[Lanebridge] 2 incidents at 创建 ERP 订单 in order", ["ERP refused the order"],
                            "https://flow.example.com/processes/instances/?process=order&element=create_order",
                            {"kind": "incident", "count": 2})


def test_dingtalk_gets_markdown_signed_with_its_secret(receiver):
    (hook,) = channels.parse_webhooks(f"dingtalk:{receiver.url}/robot/send?access_token=abc#secret=SECxyz")

    assert channels.post(hook, message()) == "sent"

    (got,) = receiver.received
    assert got.query["access_token"] == ["abc"]
    timestamp = got.query["timestamp"][0]
    expected = base64.b64encode(hmac.new(b"SECxyz", f"{timestamp}\nSECxyz".encode(), hashlib.sha256).digest())
    assert got.query["sign"] == [expected.decode()]
    assert got.body["msgtype"] == "markdown"
    assert got.body["markdown"]["title"] == "[Lanebridge] 2 incidents at 创建 ERP 订单 in order"
    assert "ERP refused the order" in got.body["markdown"]["text"]


def test_dingtalk_without_a_secret_is_not_signed(receiver):
    (hook,) = channels.parse_webhooks(f"dingtalk:{receiver.url}/robot/send?access_token=abc")

    channels.post(hook, message())

    assert "sign" not in receiver.received[0].query


def test_wecom_gets_markdown_content(receiver):
    (hook,) = channels.parse_webhooks(f"wecom:{receiver.url}/cgi-bin/webhook/send?key=k")

    assert channels.post(hook, message()) == "sent"

    body = receiver.received[0].body
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["content"].startswith("### [Lanebridge] 2 incidents")
    assert "(https://flow.example.com/processes/instances/?process=order&element=create_order)" in body[
        "markdown"]["content"]


def test_feishu_gets_a_text_message(receiver):
    receiver.answer = {"code": 0, "msg": "success"}
    (hook,) = channels.parse_webhooks(f"feishu:{receiver.url}/open-apis/bot/v2/hook/x")

    assert channels.post(hook, message()) == "sent"

    body = receiver.received[0].body
    assert body["msg_type"] == "text"
    assert body["content"]["text"].splitlines()[0] == "[Lanebridge] 2 incidents at 创建 ERP 订单 in order"


def test_slack_gets_text_with_a_link(receiver):
    (hook,) = channels.parse_webhooks(f"slack:{receiver.url}/services/T/B/X")

    assert channels.post(hook, message()) == "sent"

    text = receiver.received[0].body["text"]
    assert text.startswith("*[Lanebridge] 2 incidents")
    assert "<https://flow.example.com/processes/instances/?process=order&element=create_order|" in text


def test_json_gets_the_alerts_data(receiver):
    (hook,) = channels.parse_webhooks(f"json:{receiver.url}/alerts")

    channels.post(hook, message())

    assert receiver.received[0].body | {} == {
        "title": "[Lanebridge] 2 incidents at 创建 ERP 订单 in order", "text": message().text(),
        "url": "https://flow.example.com/processes/instances/?process=order&element=create_order",
        "kind": "incident", "count": 2}


def test_a_robot_that_answers_an_error_code_is_reported_as_failed(receiver):
    receiver.answer = {"errcode": 310000, "errmsg": "sign not match"}
    (hook,) = channels.parse_webhooks(f"dingtalk:{receiver.url}/robot/send?access_token=abc")

    assert channels.post(hook, message()) == "failed: dingtalk answered code 310000"


def test_an_unreachable_webhook_is_reported_as_failed_without_its_url():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    (hook,) = channels.parse_webhooks(f"json:http://127.0.0.1:{port}/x?token=secret")

    result = channels.post(hook, message())

    assert result.startswith("failed:") and "secret" not in result


@pytest.mark.parametrize("text", ["teams:https://x.example.com/hook", "slack:ftp://x.example.com", "json:"])
def test_bad_webhook_settings_are_refused_naming_the_setting(text):
    with pytest.raises(channels.BadWebhooks, match="LANEBRIDGE_ALERT_WEBHOOKS"):
        channels.parse_webhooks(text)


def test_several_webhooks_are_read_from_one_setting():
    hooks = channels.parse_webhooks("slack:https://hooks.slack.com/a, json:http://127.0.0.1:9/x")

    assert [(h.kind, h.url) for h in hooks] == [("slack", "https://hooks.slack.com/a"), ("json", "http://127.0.0.1:9/x")]


def test_the_alert_list_is_for_monitoring_roles(orders, make_user, api_as, alert_settings, start_of_window):
    failed_orders(orders, 2)
    alerts.run_alerts(start_of_window)

    listed = api_as(make_user("op", "Operator")).get("/api/v1/alerts/").json()["results"]
    refused = api_as(make_user("lane", "Sales")).get("/api/v1/alerts/")

    assert [(a["kind"], a["count"]) for a in listed] == [("incident", 2)]
    assert refused.status_code == 403


def test_alerts_speak_the_sites_language(orders, alert_settings, receiver, settings, start_of_window):
    call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)
    settings.LANGUAGE_CODE = "zh-hans"
    failed_orders(orders, 2)

    alerts.run_alerts(start_of_window)

    assert receiver.received[0].body["title"] == "[Lanebridge] order 的 Create ERP order 出现 2 个故障"


def test_a_buffered_message_that_expires_undelivered_is_recorded_and_alerts_the_operators(
        db, make_user, alert_settings, receiver):
    make_user("op", "Operator")
    answer = messages.send_message(messages.Message("production_done", business_key="SO-7", ttl=timedelta(minutes=5)))
    assert answer.status == 202
    expired_at = timezone.now() + timedelta(minutes=10)

    assert jobs.run_due_work(expired_at) == 0
    assert alerts.run_alerts(expired_at) == 1

    buffered = BufferedMessage.objects.get(pk=answer.body["buffered"])
    assert (buffered.state, buffered.ended_at) == (BufferedMessage.EXPIRED, expired_at)
    alert = Alert.objects.get()
    assert (alert.kind, alert.process_id, alert.element_id, alert.count) == (
        "message_expired", "", "production_done", 1)
    assert "SO-7" in alert.detail
    (email,) = mail.outbox
    assert "1 message production_done expired before any instance took it" in email.subject
    (hook,) = receiver.received
    assert hook.body["url"] == "https://flow.example.com/monitor/alerts/"
    assert alerts.run_alerts(expired_at + timedelta(minutes=1)) == 0  # recorded once, not again
