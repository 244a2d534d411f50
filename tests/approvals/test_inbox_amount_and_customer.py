"""The inbox and the REST task list show each order's amount and customer and sort by them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from engine.models import HumanTask

# Totals 13 500, 40 500 and 25 000: all above the approval threshold of the test process.
ORDERS = [
    ("Q-A", "Umbrella Corp", [{"product": "Pump", "qty": 3, "price": 4500}]),
    ("Q-B", "Acme GmbH", [{"product": "Pump", "qty": 9, "price": 4500}]),
    ("Q-C", "Globex", [{"product": "Pump", "qty": 5, "price": 5000}]),
]


def start_orders(start_quote) -> dict[str, HumanTask]:
    return {key: start_quote(lines=lines, customer=customer, business_key=key) for key, customer, lines in ORDERS}


def keys(response) -> list[str]:
    return [task.instance.business_key for task in response.context["page"].object_list]


def test_the_task_row_holds_the_orders_amount_and_customer(start_quote):
    tasks = start_orders(start_quote)
    assert (tasks["Q-B"].amount, tasks["Q-B"].customer) == (Decimal("40500"), "Acme GmbH")


def test_the_inbox_shows_amount_and_customer(client, start_quote, demo_users):
    start_orders(start_quote)
    client.force_login(demo_users["manager"])
    page = client.get("/?tab=queue").content.decode()
    assert "Acme GmbH" in page and "40,500.00" in page


def test_the_inbox_sorts_by_amount_largest_first(client, start_quote, demo_users):
    start_orders(start_quote)
    client.force_login(demo_users["manager"])
    assert keys(client.get("/?tab=queue&sort=amount")) == ["Q-B", "Q-C", "Q-A"]


def test_the_inbox_sorts_by_customer_a_to_z_with_tasks_without_one_last(client, start_quote, demo_users):
    start_orders(start_quote)
    nameless = start_quote(customer="", business_key="Q-D")
    assert nameless.customer == ""
    client.force_login(demo_users["manager"])
    assert keys(client.get("/?tab=queue&sort=customer")) == ["Q-B", "Q-C", "Q-A", "Q-D"]


def test_tasks_without_an_amount_come_last_when_sorted_by_amount(client, start_quote, demo_users):
    tasks = start_orders(start_quote)
    HumanTask.objects.filter(pk=tasks["Q-B"].pk).update(amount=None)
    client.force_login(demo_users["manager"])
    assert keys(client.get("/?tab=queue&sort=amount")) == ["Q-C", "Q-A", "Q-B"]


def test_the_inbox_still_sorts_by_due_date_and_age(client, start_quote, demo_users):
    tasks = start_orders(start_quote)
    for days, key in enumerate(["Q-C", "Q-A", "Q-B"], start=1):
        HumanTask.objects.filter(pk=tasks[key].pk).update(due_at=timezone.now() + timedelta(days=days))
    client.force_login(demo_users["manager"])
    assert keys(client.get("/?tab=queue&sort=due")) == ["Q-C", "Q-A", "Q-B"]
    assert keys(client.get("/?tab=queue&sort=age")) == ["Q-A", "Q-B", "Q-C"]


def test_the_task_list_api_gives_amount_and_customer(api_as, start_quote, demo_users):
    start_orders(start_quote)
    rows = api_as(demo_users["manager"]).get("/api/v1/tasks/").json()["results"]
    by_key = {row["business_key"]: row for row in rows}
    assert by_key["Q-B"]["customer"] == "Acme GmbH"
    assert Decimal(by_key["Q-B"]["amount"]) == Decimal("40500")


def test_the_task_list_api_orders_by_amount_and_customer(api_as, start_quote, demo_users):
    start_orders(start_quote)
    api = api_as(demo_users["manager"])

    def order(ordering: str) -> list[str]:
        response = api.get(f"/api/v1/tasks/?ordering={ordering}")
        assert response.status_code == 200
        return [row["business_key"] for row in response.json()["results"]]

    assert order("-amount") == ["Q-B", "Q-C", "Q-A"]
    assert order("amount") == ["Q-A", "Q-C", "Q-B"]
    assert order("customer") == ["Q-B", "Q-C", "Q-A"]
    assert order("-customer,amount") == ["Q-A", "Q-C", "Q-B"]


def test_the_task_list_api_refuses_an_unknown_ordering_naming_the_parameter(api_as, start_quote, demo_users):
    start_orders(start_quote)
    response = api_as(demo_users["manager"]).get("/api/v1/tasks/?ordering=data")
    assert response.status_code == 400
    assert "ordering" in response.json()
