"""The demo's start page is a quote form: a customer from the CRM, lines with products from the ERP."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from engine.deploy import deploy
from engine.models import HumanTask, Job, ProcessInstance
from integrations.tryton.rpc import reset_clients
from tests.integrations.conftest import free_port

ACME = {"code": "C-000123", "name": "Acme Robotics", "phone": "+33 1 42 68 53 00", "street": "12 rue de la Paix",
        "city": "Paris", "zip": "75002", "country": "FR"}


@pytest.fixture
def quote_to_cash(roles):
    path = django_settings.BASE_DIR / "processes" / "bpmn" / "quote_to_cash.bpmn"
    return deploy(path.read_bytes(), path.name).definitions[0]


@pytest.fixture
def sales(client, make_user):
    client.force_login(make_user("sales", "Sales"))
    return client


def quote(*lines, customer="C-000123", business_key="Q-100", **extra) -> dict:
    data = {"business_key": business_key, "customer": customer, **extra}
    for number, (product, quantity, price) in enumerate(lines):
        data.update({f"lines-{number}-product": product, f"lines-{number}-quantity": quantity,
                     f"lines-{number}-unit_price": price})
    return data


def test_the_start_page_is_a_quote_form_not_a_json_box(sales, quote_to_cash):
    body = sales.get("/start/quote_to_cash/").content.decode()
    assert 'name="customer"' in body and 'data-options-url="/start/quote_to_cash/options/customer/"' in body
    assert 'name="lines-0-product"' in body and 'data-options-url="/start/quote_to_cash/options/lines/"' in body
    assert "JSON" not in body and 'name="variables"' not in body


def test_the_pickers_list_crm_customers_and_erp_products(sales, quote_to_cash, tryton_server):
    customers = sales.get("/start/quote_to_cash/options/customer/").json()["options"]
    acme = next(c for c in customers if c["id"] == "C-000123")
    assert acme["name"] == "Acme Robotics (C-000123)" and acme["value"] == ACME
    assert "COMPANY" not in [c["id"] for c in customers]  # the company itself is no customer
    products = sales.get("/start/quote_to_cash/options/lines/").json()["options"]
    assert [p["id"] for p in products] == ["GADGET", "SERVICE-INSTALL", "WIDGET"]
    assert "FRAME" not in [p["id"] for p in products]  # components are not sold


def test_a_large_quote_posted_through_the_form_reaches_the_instance_and_waits_for_approval(
        sales, quote_to_cash, tryton_server):
    response = sales.post("/start/quote_to_cash/", quote(("WIDGET", "10", "1200"), ("GADGET", "2", "350.50")))
    instance = ProcessInstance.objects.get(business_key="Q-100")
    assert response.status_code == 302 and response.url == f"/orders/{instance.pk}/"
    assert instance.variables["customer"] == ACME
    assert instance.variables["lines"] == [{"product": "WIDGET", "quantity": 10, "unit_price": "1200"},
                                           {"product": "GADGET", "quantity": 2, "unit_price": "350.50"}]
    assert instance.variables["total"] == 12701.0
    assert HumanTask.objects.get(instance=instance, state="open").name == "Approve quote"


@pytest.mark.django_db(transaction=True)
def test_a_small_quote_from_the_form_runs_into_the_real_erp(sales, quote_to_cash, tryton_server):
    response = sales.post("/start/quote_to_cash/", quote(("WIDGET", "1", "1200"), business_key="Q-SMALL-FORM"))
    instance = ProcessInstance.objects.get(business_key="Q-SMALL-FORM")
    assert response.status_code == 302
    calls = {job.operation: job for job in Job.objects.filter(instance=instance)}
    # The customer and the sales order were created in the ERP from what the form sent.
    assert calls["erp.ensure_customer"].state == Job.DONE, calls["erp.ensure_customer"].last_error
    assert calls["erp.create_sales_order"].state == Job.DONE, calls["erp.create_sales_order"].last_error
    erp = tryton_server.client("erp")
    (sale,) = erp.search_read("sale.sale", [("reference", "=", "Q-SMALL-FORM")], ["party.code", "total_amount"])
    assert sale["party."]["code"] == "CUST123" and float(sale["total_amount"]) == 1200.0
    assert list(instance.incidents.values_list("element_id", "message")) == []


def test_removed_and_empty_lines_are_left_out_and_the_rest_kept_in_order(sales, quote_to_cash, tryton_server):
    data = quote(("WIDGET", "10", "1200"), ("", "", ""), ("GADGET", "1", "350"))
    sales.post("/start/quote_to_cash/", data)
    lines = ProcessInstance.objects.get(business_key="Q-100").variables["lines"]
    assert [line["product"] for line in lines] == ["WIDGET", "GADGET"]


def test_a_product_the_erp_does_not_sell_is_refused_naming_the_line(sales, quote_to_cash, tryton_server):
    response = sales.post("/start/quote_to_cash/", quote(("WIDGET", "1", "1200"), ("FRAME", "2", "10")))
    assert response.status_code == 400
    assert response.context["form"].errors["lines"] == ["Line 2: “FRAME” is not one of the listed products."]
    assert not ProcessInstance.objects.exists()


def test_a_customer_not_in_the_crm_is_refused(sales, quote_to_cash, tryton_server):
    response = sales.post("/start/quote_to_cash/", quote(("WIDGET", "1", "1200"), customer="C-999999"))
    assert response.status_code == 400
    assert response.context["form"].errors["customer"] == ["Choose one of the listed options."]
    assert not ProcessInstance.objects.exists()


def test_bad_quantities_and_prices_are_refused_per_line_and_kept_on_the_page(sales, quote_to_cash, tryton_server):
    response = sales.post("/start/quote_to_cash/", quote(("WIDGET", "0", "12"), ("GADGET", "2", "-1"),
                                                         ("", "3", "abc")))
    assert response.status_code == 400
    assert response.context["form"].errors["lines"] == [
        "Line 1: the quantity must be a number above 0.",
        "Line 2: the unit price must be a number, 0 or more.",
        "Line 3: choose a product.",
        "Line 3: the unit price must be a number, 0 or more.",
    ]
    body = response.content.decode()
    assert 'name="lines-1-unit_price" class="line-price" value="-1"' in body  # what was typed is still there
    assert not ProcessInstance.objects.exists()


def test_garbage_lines_get_400_naming_the_lines(sales, quote_to_cash):
    response = sales.post("/start/quote_to_cash/", {
        "customer": "[" * 500, "lines-0-product": "\x00", "lines-0-quantity": "1e400", "lines-0-unit_price": "NaN",
        "lines-99999999999-quantity": "-0", "lines-x-product": "WIDGET"})
    assert response.status_code == 400
    assert response.context["form"].errors["lines"] == [
        "Line 1: the quantity must be a number above 0.",
        "Line 1: the unit price must be a number, 0 or more.",
        "Line 2: choose a product.",
        "Line 2: the quantity must be a number above 0.",
        "Line 2: the unit price must be a number, 0 or more.",
    ]
    assert not ProcessInstance.objects.exists()


def test_a_quote_needs_a_customer_and_a_line(sales, quote_to_cash):
    response = sales.post("/start/quote_to_cash/", {"business_key": "Q-1"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"customer", "lines"}


def test_when_the_crm_is_down_the_picker_and_the_form_say_so(sales, quote_to_cash, settings):
    settings.CRM_URL = f"http://127.0.0.1:{free_port()}"
    settings.ERP_URL = settings.CRM_URL
    reset_clients()
    try:
        answer = sales.get("/start/quote_to_cash/options/customer/")
        assert answer.status_code == 502 and "could not be loaded" in answer.json()["error"]
        response = sales.post("/start/quote_to_cash/", quote(("WIDGET", "1", "1200")))
        assert response.status_code == 400
        assert "could not be loaded" in response.context["form"].errors["customer"][0]
        assert not ProcessInstance.objects.exists()
    finally:
        reset_clients()


def test_the_options_are_closed_to_who_may_not_start(client, quote_to_cash, make_user):
    client.force_login(make_user("wh", "Warehouse"))
    assert client.get("/start/quote_to_cash/options/customer/").status_code == 403


def test_only_a_field_with_a_list_has_options(sales, quote_to_cash):
    assert sales.get("/start/quote_to_cash/options/business_key/").status_code == 404
    assert sales.get("/start/quote_to_cash/options/nothing/").status_code == 404


def test_a_diagram_naming_an_operation_that_writes_gets_no_list(sales, roles, make_user, tryton_server):
    xml = (django_settings.BASE_DIR / "processes" / "bpmn" / "quote_to_cash.bpmn").read_text()
    deploy(xml.replace('value="crm.list_customers"', 'value="erp.create_sales_order"').encode(), "q.bpmn")
    answer = sales.get("/start/quote_to_cash/options/customer/")
    assert answer.status_code == 502 and "no list called" in answer.json()["error"]


def test_the_form_labels_follow_the_language(sales, quote_to_cash):
    sales.cookies["django_language"] = "zh-hans"
    body = sales.get("/start/quote_to_cash/").content.decode()
    assert "客户" in body and "订单行" in body and "添加一行" in body
