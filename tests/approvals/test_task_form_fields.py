"""A user task's form data renders like the start form's: dropdowns, pickers from a list, order lines to edit."""

from __future__ import annotations

import pytest

from engine import connectors, runtime
from engine.models import HumanTask, ProcessInstance

CUSTOMERS = [{"id": "C-1", "name": "Acme Robotics", "value": {"code": "C-1", "name": "Acme Robotics"}},
             {"id": "C-2", "name": "Globex"}]
PRODUCTS = [{"id": "WIDGET", "name": "Widget", "price": "12.50"}, {"id": "GADGET", "name": "Gadget"}]


@pytest.fixture
def lists():
    """Two read-only operations listing customers and products, as a CRM and an ERP would."""
    connectors.register("test.list_customers", lambda call: {"options": CUSTOMERS}, read_only=True)
    connectors.register("test.list_products", lambda call: {"options": PRODUCTS}, read_only=True)
    yield
    connectors.unregister("test.list_customers")
    connectors.unregister("test.list_products")


@pytest.fixture
def review(deploy_file, demo_users, lists) -> HumanTask:
    """The open "Review order" task of an order started with one line."""
    deploy_file("order_review_form.bpmn")
    instance, _ = runtime.start_instance(
        "order_review_form", {"lines": [{"product": "WIDGET", "quantity": 2, "unit_price": "12.50"}]},
        business_key="O-7", user=demo_users["sales"])
    return instance.human_tasks.get(state=HumanTask.OPEN)


@pytest.fixture
def sales(client, demo_users):
    client.force_login(demo_users["sales"])
    return client


def form_data(**changes) -> dict:
    data = {"delivery": "rush", "customer": "C-1", "items": "3",
            "lines-0-product": "WIDGET", "lines-0-quantity": "2", "lines-0-unit_price": "12.50",
            "lines-1-product": "GADGET", "lines-1-quantity": "1.5", "lines-1-unit_price": "4"}
    data.update(changes)
    return data


def test_the_task_page_shows_a_dropdown_with_labels_a_picker_and_the_order_lines(sales, review):
    body = sales.get(f"/tasks/{review.pk}/").content.decode()
    assert '<select name="delivery"' in body
    assert '<option value="rush">Rush delivery</option>' in body and "Standard delivery" in body
    assert f'data-options-url="/tasks/{review.pk}/options/customer/"' in body
    assert f'data-options-url="/tasks/{review.pk}/options/lines/"' in body
    # The line the order already has is there to edit, with the total the script keeps.
    assert 'name="lines-0-product"' in body and '<option value="WIDGET" selected>' in body
    assert 'name="lines-0-quantity" class="line-quantity" value="2"' in body
    assert 'class="add-line"' in body and 'class="num lines-total"' in body
    assert "lanebridge/start_form.js" in body


def test_the_dropdown_label_follows_the_language(sales, review):
    body = sales.get(f"/tasks/{review.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "交付方式" in body


def test_the_pickers_list_their_options_for_those_who_see_the_task(sales, review, client, make_user):
    assert sales.get(f"/tasks/{review.pk}/options/customer/").json()["options"][0]["name"] == "Acme Robotics"
    assert [p["id"] for p in sales.get(f"/tasks/{review.pk}/options/lines/").json()["options"]] == ["WIDGET",
                                                                                                   "GADGET"]
    assert sales.get(f"/tasks/{review.pk}/options/delivery/").status_code == 404
    client.force_login(make_user("wanda", "Warehouse"))
    assert client.get(f"/tasks/{review.pk}/options/customer/").status_code == 403


def test_the_submitted_form_completes_the_task_with_typed_values(sales, review):
    response = sales.post(f"/tasks/{review.pk}/complete/", form_data())
    assert response.status_code == 302
    instance = ProcessInstance.objects.get(pk=review.instance_id)
    assert instance.state == ProcessInstance.COMPLETED
    variables = instance.variables
    assert variables["delivery"] == "rush" and variables["items"] == 3
    # The picked customer's record, as on the start form.
    assert variables["customer"] == {"code": "C-1", "name": "Acme Robotics"}
    assert variables["lines"] == [{"product": "WIDGET", "quantity": 2, "unit_price": "12.50"},
                                  {"product": "GADGET", "quantity": 1.5, "unit_price": "4"}]


@pytest.mark.parametrize("changes, field, error", [
    ({"delivery": "teleport"}, "delivery", "Select a valid choice. teleport is not one of the available choices."),
    ({"customer": "C-404"}, "customer", "Choose one of the listed options."),
    ({"lines-1-product": "FRAME"}, "lines", "Line 2: “FRAME” is not one of the listed products."),
    ({"lines-0-quantity": "0"}, "lines", "Line 1: the quantity must be a number above 0."),
    ({"items": "three"}, "items", "Enter a whole number."),
])
def test_a_bad_value_gets_the_form_back_with_the_error_on_its_field(sales, review, changes, field, error):
    response = sales.post(f"/tasks/{review.pk}/complete/", form_data(**changes))
    assert response.status_code == 400
    assert response.context["form"].errors == {field: [error]}
    body = response.content.decode()
    # What was typed is kept, and nothing moved.
    assert 'name="lines-1-unit_price" class="line-price" value="4"' in body
    assert 'data-options-url' in body
    review.refresh_from_db()
    assert review.state == HumanTask.OPEN


def test_the_api_checks_a_task_picker_like_the_page(api_as, review, demo_users):
    client = api_as(demo_users["sales"])
    lines = [{"product": "GADGET", "quantity": 1, "unit_price": "3"}]
    response = client.post(f"/api/v1/tasks/{review.pk}/complete/",
                           {"data": {"delivery": "standard", "customer": "C-404", "lines": lines}}, format="json")
    assert response.status_code == 400, response.content
    assert "customer" in response.content.decode()
    response = client.post(f"/api/v1/tasks/{review.pk}/complete/",
                           {"data": {"delivery": "standard", "customer": "C-2", "lines": lines}}, format="json")
    assert response.status_code == 200, response.content
    assert ProcessInstance.objects.get(pk=review.instance_id).variables["customer"] == "C-2"
