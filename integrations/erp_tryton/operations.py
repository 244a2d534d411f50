"""ERP operations on the Tryton ``erp`` database: customers, sales, production, shipping, invoices.

Every creating operation is idempotent: the record it creates carries the
call's idempotency key, and a retry finds that record instead of creating another.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from engine.connectors import BusinessError, Call, register
from integrations.mappings import MappingError, map_value, mapping_for
from integrations.tryton import changes
from integrations.tryton.rpc import TrytonClient, get_client

DONE_SALE_STATES = {"confirmed", "processing", "done"}
# The payment method invoices are paid with when a newcomer pays one from Lanebridge (demo, local ERP).
PAYMENT_METHOD_NAME = "Lanebridge demo payment"
CASH_ACCOUNT_CODE = "1.1.1"
CASH_JOURNAL_CODE = "CASH"


def client() -> TrytonClient:
    """Return the shared client for the ERP database named in settings."""
    return get_client(
        settings.ERP_URL, settings.ERP_DATABASE, settings.ERP_USER, settings.ERP_PASSWORD, error_prefix="ERP"
    )


def key_marker(call: Call) -> str:
    """Return the text stored on a created record so a retry of `call` can find it."""
    return f"lanebridge:{call.idempotency_key}"


def _mapped(call: Call, field: str, value: Any) -> Any:
    """`value` converted by the field mappings deployed with the calling process."""
    try:
        return map_value(mapping_for(call.mappings), field, value)
    except MappingError as exc:
        raise BusinessError(str(exc), code="MAPPING_ERROR", details={"field": exc.field}) from None


def _one(erp: TrytonClient, model: str, record_id: int, fields: list[str], what: str) -> dict:
    rows = erp.search_read(model, [("id", "=", int(record_id))], fields)
    if not rows:
        raise BusinessError(
            f"{what} {record_id} does not exist in the ERP",
            code="ERP_NOT_FOUND",
            details={"model": model, "id": record_id},
        )
    return rows[0]


def ensure_customer(call: Call) -> dict:
    """Find the ERP party for the CRM customer by its mapped code, or create it with an address and phone."""
    customer = call.input["customer"]
    code = _mapped(call, "customer.code", customer.get("code"))
    erp = client()
    found = erp.search_read("party.party", [("code", "=", code)], ["id", "code"], limit=1)
    if found:
        return {"customer_id": found[0]["id"], "customer_code": code}
    address = {
        "street": customer.get("street") or "",
        "city": customer.get("city") or "",
        "postal_code": customer.get("zip") or "",
    }
    if customer.get("country"):
        countries = erp.search_read("country.country", [("code", "=", customer["country"])], ["id"], limit=1)
        if countries:
            address["country"] = countries[0]["id"]
    values: dict[str, Any] = {"name": customer.get("name") or code, "code": code, "addresses": [["create", [address]]]}
    if customer.get("phone"):
        phone = _mapped(call, "customer.phone", customer["phone"])
        values["contact_mechanisms"] = [
            ["create", [{"type": "phone", "value": f"+{phone['country']} {phone['area']} {phone['number']}"}]]
        ]
    (party_id,) = erp.model("party.party", "create", [values])
    return {"customer_id": party_id, "customer_code": code}


def _price(value: Any, product: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise BusinessError(
            f"unit price {value!r} of product {product!r} is not a number", code="ERP_BAD_PRICE"
        ) from None


def _sale_lines(call: Call, erp: TrytonClient, lines: list[dict]) -> list[dict]:
    codes = sorted({str(line["product"]) for line in lines})
    products = {
        p["code"]: p
        for p in erp.search_read("product.product", [("code", "in", codes)], ["id", "code", "default_uom", "salable"])
    }
    missing = [code for code in codes if code not in products]
    if missing:
        raise BusinessError(
            f"Unknown product {', '.join(repr(c) for c in missing)} in the ERP",
            code="ERP_UNKNOWN_PRODUCT",
            details={"products": missing},
        )
    values = []
    for line in lines:
        product = products[str(line["product"])]
        unit = product["default_uom"]
        if line.get("unit"):
            symbol = _mapped(call, "line.unit", line["unit"])
            units = erp.search_read("product.uom", [("symbol", "=", symbol)], ["id"], limit=1)
            if not units:
                raise BusinessError(f"unit {symbol!r} does not exist in the ERP", code="ERP_UNKNOWN_UNIT")
            unit = units[0]["id"]
        values.append(
            {
                "type": "line",
                "product": product["id"],
                "unit": unit,
                "quantity": float(line["quantity"]),
                "unit_price": _price(line["unit_price"], product["code"]),
            }
        )
    return values


def _sale_result(sale: dict) -> dict:
    return {"sale_id": sale["id"], "sale_number": sale["number"], "state": sale["state"]}


def create_sales_order(call: Call) -> dict:
    """Create the customer's sale with the given lines and move it to quotation; return its id, number and state."""
    erp = client()
    marker = key_marker(call)
    fields = ["id", "number", "state"]
    existing = erp.search_read("sale.sale", [("comment", "=", marker)], fields, limit=1, order=[("id", "ASC")])
    if existing:
        sale = existing[0]
    else:
        party = _one(erp, "party.party", call.input["customer_id"], ["id", "addresses"], "Customer")
        if not party["addresses"]:
            raise BusinessError(
                f"customer {party['id']} has no address in the ERP; a sale needs one", code="ERP_CUSTOMER_NO_ADDRESS"
            )
        if not call.input.get("lines"):
            raise BusinessError("a sales order needs at least one line", code="ERP_NO_LINES")
        terms = erp.search_read("account.invoice.payment_term", [], ["id"], limit=1)
        values = {
            "party": party["id"],
            "invoice_address": party["addresses"][0],
            "shipment_address": party["addresses"][0],
            "reference": str(call.input.get("reference") or call.business_key or "")[:100],
            "description": str(call.input.get("description") or call.input.get("reference") or ""),
            "comment": marker,
            "lines": [["create", _sale_lines(call, erp, call.input["lines"])]],
        }
        if terms:
            values["payment_term"] = terms[0]["id"]
        (sale_id,) = erp.model("sale.sale", "create", [values])
        sale = {"id": sale_id, "state": "draft"}
    if sale["state"] == "draft":
        # A retry after a failed quote resumes here instead of making another sale.
        erp.model("sale.sale", "quote", [sale["id"]])
    return _sale_result(_one(erp, "sale.sale", sale["id"], fields, "Sale"))


def confirm_sales_order(call: Call) -> dict:
    """Confirm the sale (quoting it first if needed); confirming an already confirmed sale changes nothing."""
    erp = client()
    sale_id = int(call.input["sale_id"])
    sale = _one(erp, "sale.sale", sale_id, ["state"], "Sale")
    if sale["state"] == "cancelled":
        raise BusinessError(f"sale {sale_id} is cancelled and cannot be confirmed", code="ERP_SALE_CANCELLED")
    if sale["state"] == "draft":
        erp.model("sale.sale", "quote", [sale_id])
    if sale["state"] not in DONE_SALE_STATES:
        erp.model("sale.sale", "confirm", [sale_id])
    sale = _one(erp, "sale.sale", sale_id, ["state", "shipments", "invoices"], "Sale")
    return {
        "sale_id": sale_id,
        "state": sale["state"],
        "shipment_ids": sale["shipments"],
        "invoice_ids": sale["invoices"],
    }


def _production_result(production: dict) -> dict:
    return {"production_id": production["id"], "production_number": production["number"], "state": production["state"]}


def create_production(call: Call) -> dict:
    """Create one production order for the sale's produced goods (from their BOM) and set it waiting."""
    erp = client()
    fields = ["id", "number", "state"]
    marker = key_marker(call)
    existing = erp.search_read("production", [("reference", "=", marker)], fields, limit=1)
    if existing:
        production = existing[0]
    else:
        sale_id = int(call.input["sale_id"])
        sale = _one(erp, "sale.sale", sale_id, ["lines", "warehouse", "company", "number"], "Sale")
        lines = erp.search_read(
            "sale.line", [("sale", "=", sale_id), ("type", "=", "line")], ["product", "quantity", "unit"]
        )
        product_ids = sorted({line["product"] for line in lines if line["product"]})
        products = {
            p["id"]: p
            for p in erp.search_read(
                "product.product", [("id", "in", product_ids)], ["id", "code", "boms", "cost_price"]
            )
        }
        produced = [line for line in lines if products.get(line["product"], {}).get("boms")]
        if not produced:
            raise BusinessError(
                f"sale {sale['number'] or sale_id} has no product made from a bill of materials",
                code="ERP_NOTHING_TO_PRODUCE",
            )
        # One production order per call: the first produced line (the demo sells one made product).
        line = produced[0]
        product = products[line["product"]]
        values = _production_values(erp, sale, line, product, marker)
        (production_id,) = erp.model("production", "create", [values])
        production = {"id": production_id, "state": "draft"}
    if production["state"] == "draft":
        erp.model("production", "wait", [production["id"]])
    return _production_result(_one(erp, "production", production["id"], fields, "Production"))


def _production_values(erp: TrytonClient, sale: dict, line: dict, product: dict, marker: str) -> dict:
    # Tryton explodes the BOM in a client-side on_change; over RPC the moves
    # are written here from the BOM, as explode_bom would.
    link = erp.search_read("product.product-production.bom", [("id", "=", product["boms"][0])], ["bom"])[0]
    bom = _one(erp, "production.bom", link["bom"], ["inputs", "outputs"], "BOM")
    inputs = erp.search_read("production.bom.input", [("id", "in", bom["inputs"])], ["product", "quantity", "unit"])
    outputs = erp.search_read("production.bom.output", [("id", "in", bom["outputs"])], ["product", "quantity", "unit"])
    warehouse = _one(
        erp,
        "stock.location",
        sale["warehouse"],
        ["production_location", "storage_location", "production_picking_location", "production_output_location"],
        "Warehouse",
    )
    production_location = warehouse["production_location"]
    picking = warehouse["production_picking_location"] or warehouse["storage_location"]
    output_to = warehouse["production_output_location"] or warehouse["storage_location"]
    company = _one(erp, "company.company", sale["company"], ["currency"], "Company")
    factor = line["quantity"] / (next(o["quantity"] for o in outputs if o["product"] == product["id"]) or 1)
    today = dt.date.today()
    return {
        "product": product["id"],
        "bom": link["bom"],
        "quantity": line["quantity"],
        "unit": line["unit"],
        "warehouse": sale["warehouse"],
        "location": production_location,
        "company": sale["company"],
        "reference": marker,
        "planned_date": today,
        "planned_start_date": today,
        "inputs": [
            [
                "create",
                [
                    {
                        "product": i["product"],
                        "unit": i["unit"],
                        "quantity": i["quantity"] * factor,
                        "from_location": picking,
                        "to_location": production_location,
                        "company": sale["company"],
                        "planned_date": today,
                    }
                    for i in inputs
                ],
            ]
        ],
        "outputs": [
            [
                "create",
                [
                    {
                        "product": o["product"],
                        "unit": o["unit"],
                        "quantity": o["quantity"] * factor,
                        "from_location": production_location,
                        "to_location": output_to,
                        "company": sale["company"],
                        "unit_price": Decimal(str(product["cost_price"] or 0)),
                        "currency": company["currency"],
                        "planned_date": today,
                    }
                    for o in outputs
                ],
            ]
        ],
    }


def complete_production(call: Call) -> dict:
    """Advance the production through waiting, assigned and running to done, as far as stock allows."""
    erp = client()
    production_id = int(call.input["production_id"])
    steps = {"draft": "wait", "waiting": "assign_try", "assigned": "run", "running": "do"}
    state = _one(erp, "production", production_id, ["state"], "Production")["state"]
    while state in steps:
        erp.model("production", steps[state], [production_id])
        new_state = _one(erp, "production", production_id, ["state"], "Production")["state"]
        if new_state == state:
            # assign_try leaves it waiting when components are short.
            raise BusinessError(
                f"production {production_id} stays {state}: not enough components in stock",
                code="ERP_PRODUCTION_BLOCKED",
                details={"state": state},
            )
        state = new_state
    return production_state(call)


def production_state(call: Call) -> dict:
    """Report the production's number and state."""
    production = _one(client(), "production", int(call.input["production_id"]), ["id", "number", "state"], "Production")
    return _production_result(production)


def _shipment(erp: TrytonClient, sale_id: int) -> dict:
    sale = _one(erp, "sale.sale", sale_id, ["shipments", "state"], "Sale")
    if not sale["shipments"]:
        raise BusinessError(
            f"sale {sale_id} has no shipment (state {sale['state']}); confirm it first", code="ERP_NO_SHIPMENT"
        )
    shipments = erp.search_read(
        "stock.shipment.out", [("id", "in", sale["shipments"])], ["id", "number", "state"], order=[("id", "ASC")]
    )
    # After a partial shipment a backorder appears: act on the first one not done.
    return next((s for s in shipments if s["state"] not in {"done", "cancelled"}), shipments[-1])


def ship_order(call: Call) -> dict:
    """Advance the sale's customer shipment through assigned, picked and packed to done."""
    erp = client()
    sale_id = int(call.input["sale_id"])
    shipment = _shipment(erp, sale_id)
    steps = {"draft": "wait", "waiting": "assign_try", "assigned": "pick", "picked": "pack", "packed": "do"}
    state = shipment["state"]
    while state in steps:
        erp.model("stock.shipment.out", steps[state], [shipment["id"]])
        new_state = _one(erp, "stock.shipment.out", shipment["id"], ["state"], "Shipment")["state"]
        if new_state == state:
            raise BusinessError(
                f"shipment {shipment['number']} stays {state}: not enough stock",
                code="ERP_SHIPMENT_BLOCKED",
                details={"state": state},
            )
        state = new_state
    return shipment_state(call)


def shipment_state(call: Call) -> dict:
    """Report the sale's customer shipment number and state."""
    shipment = _shipment(client(), int(call.input["sale_id"]))
    return {"shipment_id": shipment["id"], "shipment_number": shipment["number"], "state": shipment["state"]}


def _invoice(erp: TrytonClient, sale_id: int) -> dict:
    sale = _one(erp, "sale.sale", sale_id, ["invoices", "state"], "Sale")
    if not sale["invoices"]:
        raise BusinessError(f"sale {sale_id} has no invoice (state {sale['state']})", code="ERP_NO_INVOICE")
    return erp.search_read(
        "account.invoice",
        [("id", "in", sale["invoices"])],
        ["id", "number", "total_amount", "amount_to_pay", "state"],
        order=[("id", "ASC")],
    )[0]


def _invoice_result(invoice: dict) -> dict:
    return {
        "invoice_id": invoice["id"],
        "invoice_number": invoice["number"],
        "total": str(invoice["total_amount"]),
        "state": invoice["state"],
    }


def read_invoice(call: Call) -> dict:
    """Return the sale's customer invoice: id, number (once posted), total and state."""
    return _invoice_result(_invoice(client(), int(call.input["sale_id"])))


def post_invoice(call: Call) -> dict:
    """Post the sale's customer invoice (it gets its number and is due); a posted or paid one is left as is."""
    erp = client()
    invoice = _invoice(erp, int(call.input["sale_id"]))
    if invoice["state"] == "cancelled":
        raise BusinessError(f"invoice {invoice['id']} is cancelled", code="ERP_INVOICE_CANCELLED")
    if invoice["state"] in ("draft", "validated"):
        try:
            erp.model("account.invoice", "post", [invoice["id"]])
        except BusinessError:
            # Posted meanwhile by someone else (Finance's own step and a payment racing): that is done too.
            if _invoice(erp, int(call.input["sale_id"]))["state"] not in ("posted", "paid"):
                raise
        invoice = _invoice(erp, int(call.input["sale_id"]))
    return _invoice_result(invoice)


def _payment_method(erp: TrytonClient) -> int:
    found = erp.search_read("account.invoice.payment.method", [("name", "=", PAYMENT_METHOD_NAME)], ["id"], limit=1)
    if found:
        return found[0]["id"]
    cash = erp.search_read("account.account", [("code", "=", CASH_ACCOUNT_CODE)], ["id"], limit=1)
    journal = erp.search_read("account.journal", [("code", "=", CASH_JOURNAL_CODE)], ["id"], limit=1)
    if not cash or not journal:
        raise BusinessError("the ERP has no cash account or cash journal to pay invoices with",
                            code="ERP_NO_PAYMENT_METHOD")
    (method_id,) = erp.model("account.invoice.payment.method", "create", [{
        "name": PAYMENT_METHOD_NAME, "company": erp.context.get("company"), "journal": journal[0]["id"],
        "credit_account": cash[0]["id"], "debit_account": cash[0]["id"]}])
    return method_id


def pay_invoice(call: Call) -> dict:
    """Post the sale's invoice if needed and pay what is left of it in cash, as Tryton's pay wizard does."""
    erp = client()
    sale_id = int(call.input["sale_id"])
    invoice = post_invoice(call)
    if invoice["state"] == "paid":
        return invoice
    method = _payment_method(erp)
    context = {**erp.context, "active_model": "account.invoice", "active_id": invoice["invoice_id"],
               "active_ids": [invoice["invoice_id"]]}
    session, _start, _end = erp.call("wizard.account.invoice.pay.create", erp.context)
    try:
        defaults = erp.call("wizard.account.invoice.pay.execute", session, {}, "start", context)["view"]["defaults"]
        # The wizard's defaults carry display names under "field." keys, which it does not take back.
        start = {key: value for key, value in defaults.items() if not key.endswith(".")}
        start.update(payment_method=method, date=dt.date.today(),
                     description=f"Paid from Lanebridge ({call.idempotency_key})"[:100])
        erp.call("wizard.account.invoice.pay.execute", session, {"start": start}, "choice", context)
    finally:
        erp.call("wizard.account.invoice.pay.delete", session, erp.context)
    invoice = _invoice_result(_invoice(erp, sale_id))
    if invoice["state"] != "paid":
        raise BusinessError(f"invoice {invoice['invoice_number']} is still {invoice['state']} after the payment",
                            code="ERP_INVOICE_NOT_PAID", details={"state": invoice["state"]})
    return invoice


def list_changes(call: Call) -> dict:
    """Records of an ERP model that changed past the watcher's cursor (see integrations.tryton.changes)."""
    return changes.list_changes(client(), call)


def list_products(call: Call) -> dict:
    """Salable products for a form's picker: code, name, unit and list price (null when the ERP has none)."""
    fields = ["code", "name", "list_price", "default_uom.symbol"]
    rows = client().search_read("product.product", [("salable", "=", True)], fields, limit=500, order=[("code", "ASC")])
    return {"options": [
        {"id": row["code"], "name": row["name"], "unit": (row.get("default_uom.") or {}).get("symbol") or "",
         "price": None if row["list_price"] is None else str(row["list_price"])}
        for row in rows if row["code"]
    ]}


register("erp.ensure_customer", ensure_customer, required=("customer",), ledger={"customer_id": "erp.customer"})
register(
    "erp.create_sales_order",
    create_sales_order,
    required=("customer_id", "lines"),
    ledger={"sale_id": "erp.sale", "sale_number": "erp.sale"},
)
register("erp.confirm_sales_order", confirm_sales_order, required=("sale_id",), ledger={"sale_id": "erp.sale"})
register(
    "erp.create_production",
    create_production,
    required=("sale_id",),
    ledger={"production_id": "erp.production", "production_number": "erp.production"},
)
register("erp.complete_production", complete_production, required=("production_id",))
register("erp.production_state", production_state, required=("production_id",))
register(
    "erp.ship_order",
    ship_order,
    required=("sale_id",),
    ledger={"shipment_id": "erp.shipment", "shipment_number": "erp.shipment"},
)
register("erp.shipment_state", shipment_state, required=("sale_id",))
register(
    "erp.read_invoice",
    read_invoice,
    required=("sale_id",),
    ledger={"invoice_id": "erp.invoice", "invoice_number": "erp.invoice"},
)
register(
    "erp.post_invoice",
    post_invoice,
    required=("sale_id",),
    ledger={"invoice_id": "erp.invoice", "invoice_number": "erp.invoice"},
)
register(
    "erp.pay_invoice",
    pay_invoice,
    required=("sale_id",),
    ledger={"invoice_id": "erp.invoice", "invoice_number": "erp.invoice"},
)
register("erp.list_changes", list_changes, required=("model",))
register("erp.list_products", list_products, read_only=True)
