"""ERP operations against the real Tryton server: idempotent creation and the full order chain."""

from __future__ import annotations

import uuid

import pytest

from engine.connectors import BusinessError, Call, get_operation
from integrations.erp_tryton import operations

CUSTOMER = {
    "code": "C-000777",
    "name": "Umbrella Corp",
    "phone": "+49 30 1234567",
    "street": "Hauptstr. 1",
    "city": "Berlin",
    "zip": "10115",
    "country": "DE",
}


def call(operation: str, data: dict, key: str | None = None) -> Call:
    return Call(operation, data, key or uuid.uuid4().hex, instance_id=1, business_key="Q-1")


def run(operation: str, data: dict, key: str | None = None) -> dict:
    return get_operation(operation).func(call(operation, data, key))


@pytest.fixture
def customer_id(tryton_server) -> int:
    return run("erp.ensure_customer", {"customer": CUSTOMER})["customer_id"]


def test_operations_are_registered():
    assert operations.create_sales_order is get_operation("erp.create_sales_order").func
    assert get_operation("erp.create_sales_order").ledger == {"sale_id": "erp.sale", "sale_number": "erp.sale"}


def test_ensure_customer_maps_the_code_and_finds_it_again(erp, customer_id):
    again = run("erp.ensure_customer", {"customer": CUSTOMER})
    assert again == {"customer_id": customer_id, "customer_code": "CUST777"}
    (party,) = erp.search_read("party.party", [("code", "=", "CUST777")], ["addresses", "contact_mechanisms"])
    (address,) = erp.search_read("party.address", [("id", "in", party["addresses"])], ["city", "country.code"])
    assert address["city"] == "Berlin" and address["country."]["code"] == "DE"
    (phone,) = erp.search_read("party.contact_mechanism", [("party", "=", party["id"])], ["value"])
    assert phone["value"] == "+49 30 1234567"


def test_ensure_customer_rejects_a_badly_formed_code(tryton_server):
    with pytest.raises(BusinessError) as error:
        run("erp.ensure_customer", {"customer": {**CUSTOMER, "code": "X-1"}})
    assert error.value.code == "MAPPING_ERROR"
    assert "customer.code" in error.value.message and "'X-1'" in error.value.message


def test_create_sales_order_twice_with_the_same_key_makes_one_sale(erp, customer_id):
    key = f"instance-42:Task_CreateOrder:{uuid.uuid4().hex}"
    data = {
        "customer_id": customer_id,
        "reference": "Q-2001",
        "lines": [{"product": "WIDGET", "quantity": 2, "unit_price": "1200.00"}],
    }
    first = run("erp.create_sales_order", data, key)
    # The retry of a worker that died after the ERP created the order.
    second = run("erp.create_sales_order", data, key)
    assert second == first
    assert first["state"] == "quotation" and first["sale_number"].startswith("SO-")
    sales = erp.search_read("sale.sale", [("reference", "=", "Q-2001")], ["id"])
    assert [s["id"] for s in sales] == [first["sale_id"]]


def test_unknown_product_is_a_business_error_naming_it(erp, customer_id):
    before = erp.model("sale.sale", "search_count", [])
    with pytest.raises(BusinessError) as error:
        run(
            "erp.create_sales_order",
            {
                "customer_id": customer_id,
                "reference": "Q-2002",
                "lines": [{"product": "FLUX-CAPACITOR", "quantity": 1, "unit_price": "10"}],
            },
        )
    assert error.value.code == "ERP_UNKNOWN_PRODUCT"
    assert "FLUX-CAPACITOR" in error.value.message
    assert not error.value.retryable
    assert erp.model("sale.sale", "search_count", []) == before


def test_crm_units_are_mapped_to_erp_units(erp, customer_id):
    sale = run(
        "erp.create_sales_order",
        {
            "customer_id": customer_id,
            "reference": "Q-2003",
            "lines": [{"product": "GADGET", "quantity": 3, "unit": "pcs", "unit_price": "350.00"}],
        },
    )
    (line,) = erp.search_read("sale.line", [("sale", "=", sale["sale_id"])], ["unit.symbol", "quantity"])
    assert line["unit."]["symbol"] == "u" and line["quantity"] == 3


def test_full_chain_from_customer_to_invoice(erp, customer_id):
    sale = run(
        "erp.create_sales_order",
        {
            "customer_id": customer_id,
            "reference": "Q-3000",
            "lines": [
                {"product": "WIDGET", "quantity": 2, "unit_price": "1200.00"},
                {"product": "SERVICE-INSTALL", "quantity": 1, "unit_price": "250.00"},
            ],
        },
    )
    confirmed = run("erp.confirm_sales_order", {"sale_id": sale["sale_id"]})
    assert confirmed["state"] == "processing"
    assert len(confirmed["shipment_ids"]) == 1 and len(confirmed["invoice_ids"]) == 1
    assert run("erp.confirm_sales_order", {"sale_id": sale["sale_id"]}) == confirmed

    key = uuid.uuid4().hex
    production = run("erp.create_production", {"sale_id": sale["sale_id"]}, key)
    assert production["state"] == "waiting" and production["production_number"].startswith("MO-")
    assert run("erp.create_production", {"sale_id": sale["sale_id"]}, key) == production
    inputs = erp.search_read(
        "stock.move", [("production_input", "=", production["production_id"])], ["product.code", "quantity"]
    )
    assert sorted((m["product."]["code"], m["quantity"]) for m in inputs) == [("BOLT", 16), ("FRAME", 2)]
    done = run("erp.complete_production", {"production_id": production["production_id"]})
    assert done["state"] == "done"

    shipped = run("erp.ship_order", {"sale_id": sale["sale_id"]})
    assert shipped["state"] == "done" and shipped["shipment_id"] == confirmed["shipment_ids"][0]
    assert run("erp.shipment_state", {"sale_id": sale["sale_id"]}) == shipped

    invoice = run("erp.read_invoice", {"sale_id": sale["sale_id"]})
    assert invoice["invoice_id"] == confirmed["invoice_ids"][0]
    assert invoice["total"] == "2650.00"


def test_production_for_a_sale_without_made_products_is_a_business_error(customer_id):
    sale = run(
        "erp.create_sales_order",
        {
            "customer_id": customer_id,
            "reference": "Q-3001",
            "lines": [{"product": "GADGET", "quantity": 1, "unit_price": "350"}],
        },
    )
    with pytest.raises(BusinessError) as error:
        run("erp.create_production", {"sale_id": sale["sale_id"]})
    assert error.value.code == "ERP_NOTHING_TO_PRODUCE"
