"""The order page: the initiator and the people who worked on an order read it; nobody else."""

from __future__ import annotations

import pytest

from approvals import services
from engine import runtime
from engine.models import HumanTask

from .conftest import LARGE_LINES


@pytest.fixture
def order(start_quote):
    """A large quote started by sales, waiting for the manager."""
    return start_quote().instance


def test_starting_from_the_start_page_lands_on_the_order(client, quote_process, demo_users):
    client.force_login(demo_users["sales"])
    response = client.post("/start/quote_approval/", {"business_key": "Q-77"})
    instance = runtime.latest_definition("quote_approval").instances.get()
    assert response.status_code == 302
    assert response.url == f"/orders/{instance.pk}/"


def test_the_initiator_reads_state_current_step_lines_and_history(client, order, demo_users):
    client.force_login(demo_users["sales"])
    response = client.get(f"/orders/{order.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "In progress" in body
    assert 'id="current-steps">Approve quote<' in body
    assert "Pump P-200" in body and "13500" in body  # the lines and the total
    assert 'id="diagram"' in body and f"/processes/definitions/{order.definition.pk}/bpmn/" in body
    assert "Started" in body and 'id="history"' in body


def test_the_page_is_read_only(client, order, demo_users):
    client.force_login(demo_users["sales"])
    body = client.get(f"/orders/{order.pk}/").content.decode()
    assert "<form method=\"post\" action=\"/processes/" not in body
    assert "Cancel instance" not in body and "Edit variables" not in body


def test_another_sales_user_gets_403_without_the_order(client, order, make_user):
    client.force_login(make_user("sales2", "Sales"))
    response = client.get(f"/orders/{order.pk}/")
    assert response.status_code == 403
    assert b"Pump" not in response.content and b"Q-1001" not in response.content


def test_a_manager_who_has_not_acted_gets_403_then_reads_it_after_deciding(client, order, demo_users):
    client.force_login(demo_users["manager"])
    assert client.get(f"/orders/{order.pk}/").status_code == 403
    task = order.human_tasks.get(state=HumanTask.OPEN)
    services.complete_task(task, demo_users["manager"], {"decision": "approve"})
    response = client.get(f"/orders/{order.pk}/")
    assert response.status_code == 200
    assert 'id="current-steps">Follow up with customer<' in response.content.decode()


def test_an_operator_reads_every_order(client, order, make_user):
    client.force_login(make_user("op", "Operator"))
    assert client.get(f"/orders/{order.pk}/").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, order):
    response = client.get(f"/orders/{order.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_my_orders_lists_mine_only(client, start_quote, demo_users, make_user):
    mine = start_quote(business_key="Q-MINE").instance
    other = make_user("sales2", "Sales")
    theirs, _ = runtime.start_instance("quote_approval", {"customer": "X", "lines": LARGE_LINES},
                                       business_key="Q-THEIRS", user=other)
    client.force_login(demo_users["sales"])
    body = client.get("/orders/").content.decode()
    assert f"/orders/{mine.pk}/" in body and "Q-MINE" in body
    assert "Q-THEIRS" not in body and f"/orders/{theirs.pk}/" not in body


def test_the_order_page_is_in_chinese(client, order, demo_users):
    client.force_login(demo_users["sales"])
    client.cookies["django_language"] = "zh-hans"
    body = client.get(f"/orders/{order.pk}/").content.decode()
    assert "进行中" in body and "历史" in body


def test_an_order_waiting_for_a_message_says_it_waits_there(db, roles, demo_users):
    from approvals.orders import current_steps
    from engine.deploy import deploy
    from tests.engine.bpmn_events import waits_for_message

    deploy(waits_for_message(), "pay.bpmn")
    instance, _ = runtime.start_instance("awaiting_payment", {}, user=demo_users["sales"])
    assert current_steps(instance) == ["wait"]


def test_a_message_on_a_tasks_border_is_not_a_step_of_its_own(db, roles, demo_users):
    from approvals.orders import current_steps
    from engine.deploy import deploy
    from tests.engine.bpmn_events import message_boundary_process

    deploy(message_boundary_process(), "cancellable.bpmn")
    instance, _ = runtime.start_instance("cancellable_order", {}, user=demo_users["sales"])
    assert current_steps(instance) == ["review"]
