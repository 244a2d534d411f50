"""The initiator hears when their order is rejected, cancelled or fails: in the inbox and by email."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from approvals import services
from approvals.models import OrderNotice, UserPreference
from approvals.notifications import send_pending_notifications
from engine import runtime
from engine.models import HumanTask


@pytest.fixture
def order(deploy_file, demo_users):
    """Start an order_outcomes instance as sales; returns a function of the path it takes."""
    deploy_file("order_outcomes.bpmn")

    def start(path: str = "review", business_key: str = "O-1"):
        instance, _ = runtime.start_instance("order_outcomes", {"path": path}, business_key=business_key,
                                             user=demo_users["sales"])
        return instance

    return start


def review(instance, manager, decision: str, reason: str = ""):
    task = instance.human_tasks.get(state=HumanTask.OPEN)
    services.complete_task(task, manager, {"decision": decision, "rejection_reason": reason})


def test_a_rejected_order_tells_the_initiator_in_the_inbox_and_by_email(order, demo_users, client, settings):
    settings.LANEBRIDGE_BASE_URL = "https://flow.example.com"
    instance = order()
    review(instance, demo_users["manager"], "refuse", "Price below cost")

    notice = OrderNotice.objects.get()
    assert (notice.user, notice.instance, notice.kind) == (demo_users["sales"], instance, OrderNotice.REJECTED)
    assert notice.step == "Order rejected" and notice.reason == "Price below cost"

    client.force_login(demo_users["sales"])
    body = client.get("/").content.decode()
    assert 'id="notices"' in body and "Order outcomes O-1 was rejected (Order rejected)." in body
    assert "Price below cost" in body and f"/orders/{instance.pk}/" in body

    assert send_pending_notifications(timezone.now()) == 1
    (email,) = mail.outbox
    assert email.to == ["sales@example.com"]
    assert email.subject == "Your order O-1 was rejected"
    assert "Price below cost" in email.body
    assert f"https://flow.example.com/orders/{instance.pk}/" in email.body
    assert "https://flow.example.com/\n" in email.body


def test_the_email_goes_once(order, demo_users):
    review(order(), demo_users["manager"], "refuse")
    send_pending_notifications(timezone.now())
    assert send_pending_notifications(timezone.now()) == 0
    assert len(mail.outbox) == 1


def test_an_accepted_order_tells_nobody(order, demo_users):
    review(order(), demo_users["manager"], "accept")
    assert not OrderNotice.objects.exists()
    send_pending_notifications(timezone.now())
    assert mail.outbox == []


def test_a_cancelled_order_tells_the_initiator_why(order, demo_users, make_user):
    instance = order()
    runtime.cancel_instance(instance, make_user("op", "Operator"), reason="Customer withdrew")
    notice = OrderNotice.objects.get()
    assert notice.kind == OrderNotice.CANCELLED and notice.reason == "Customer withdrew"
    send_pending_notifications(timezone.now())
    assert mail.outbox[0].subject == "Your order O-1 was cancelled"
    assert "Customer withdrew" in mail.outbox[0].body


def test_a_failed_order_tells_the_initiator(order, demo_users):
    instance = order("script")
    assert instance.state == "failed"
    notice = OrderNotice.objects.get()
    assert notice.kind == OrderNotice.FAILED and "division by zero" in notice.reason
    send_pending_notifications(timezone.now())
    assert mail.outbox[0].subject == "Your order O-1 failed"


def test_an_order_started_by_a_system_tells_nobody(deploy_file, roles):
    deploy_file("order_outcomes.bpmn")
    runtime.start_instance("order_outcomes", {"path": "script"})
    assert not OrderNotice.objects.exists()


def test_dismissing_takes_the_notice_off_my_inbox_only(order, demo_users, client):
    review(order(), demo_users["manager"], "refuse")
    notice = OrderNotice.objects.get()
    client.force_login(demo_users["manager"])
    client.post(f"/notices/{notice.pk}/dismiss/")  # not theirs: nothing happens
    notice.refresh_from_db()
    assert notice.dismissed_at is None
    client.force_login(demo_users["sales"])
    assert client.post(f"/notices/{notice.pk}/dismiss/").status_code == 302
    assert 'id="notices"' not in client.get("/").content.decode()


def test_the_email_is_in_the_initiators_language(order, demo_users):
    UserPreference.objects.create(user=demo_users["sales"], language="zh-hans")
    review(order(), demo_users["manager"], "refuse", "价格太低")
    send_pending_notifications(timezone.now())
    assert mail.outbox[0].subject == "您的订单 O-1 被拒绝"
    assert "价格太低" in mail.outbox[0].body
