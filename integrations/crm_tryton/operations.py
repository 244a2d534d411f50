"""CRM operations on the Tryton ``crm`` database (module sale_opportunity).

An opportunity is *won* when the sale it was converted to is confirmed in the
CRM database: `crm.mark_won` converts and confirms, and `won` is the CRM state
that starts a Lanebridge quote-to-cash instance (`crm.list_won_opportunities`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from engine.connectors import BusinessError, Call, register
from integrations.tryton import changes
from integrations.tryton.rpc import TrytonClient, get_client

OPPORTUNITY_FIELDS = [
    "id",
    "number",
    "state",
    "party",
    "address",
    "amount",
    "lines",
    "sales",
    "write_date",
    "create_date",
    "description",
]


def client() -> TrytonClient:
    """Return the shared client for the CRM database named in settings."""
    return get_client(
        settings.CRM_URL, settings.CRM_DATABASE, settings.CRM_USER, settings.CRM_PASSWORD, error_prefix="CRM"
    )


def _opportunity(crm: TrytonClient, opportunity_id: Any) -> dict:
    rows = crm.search_read("sale.opportunity", [("id", "=", int(opportunity_id))], OPPORTUNITY_FIELDS)
    if not rows:
        raise BusinessError(f"opportunity {opportunity_id} does not exist in the CRM", code="CRM_NOT_FOUND")
    return rows[0]


def _customer(crm: TrytonClient, party_id: int, address_id: int | None) -> dict:
    party = crm.search_read("party.party", [("id", "=", party_id)], ["code", "name", "addresses"])[0]
    address_id = address_id or (party["addresses"] or [None])[0]
    address: dict = {}
    if address_id:
        address = crm.search_read(
            "party.address", [("id", "=", address_id)], ["street", "city", "postal_code", "country.code"]
        )[0]
    phones = crm.search_read(
        "party.contact_mechanism", [("party", "=", party_id), ("type", "in", ["phone", "mobile"])], ["value"], limit=1
    )
    country = address.get("country.") or {}
    return {
        "code": party["code"],
        "name": party["name"],
        "phone": phones[0]["value"] if phones else "",
        "street": address.get("street") or "",
        "city": address.get("city") or "",
        "zip": address.get("postal_code") or "",
        "country": country.get("code") or "",
    }


def read_opportunity(call: Call) -> dict:
    """Return the opportunity with its customer, lines (priced at list price), amount and state."""
    crm = client()
    opportunity = _opportunity(crm, call.input["opportunity_id"])
    lines = crm.search_read(
        "sale.opportunity.line",
        [("opportunity", "=", opportunity["id"])],
        ["product", "product.code", "product.template", "quantity", "unit.symbol"],
        order=[("id", "ASC")],
    )
    # Opportunity lines carry no price: the CRM quotes at the product's list price.
    template_ids = sorted({(line.get("product.") or {}).get("template") for line in lines} - {None})
    prices = {
        t["id"]: t["list_price"]
        for t in crm.search_read("product.template", [("id", "in", template_ids)], ["list_price"])
    }
    for line in lines:
        line["unit_price"] = prices.get((line.get("product.") or {}).get("template")) or Decimal(0)
    amount = opportunity["amount"]
    if amount is None:
        amount = sum((Decimal(str(line["quantity"])) * line["unit_price"] for line in lines), Decimal(0))
    customer = _customer(crm, opportunity["party"], opportunity["address"]) if opportunity["party"] else None
    return {
        "opportunity_id": opportunity["id"],
        "number": opportunity["number"],
        "customer": customer,
        "lines": [
            {
                "product": (line.get("product.") or {}).get("code"),
                "quantity": line["quantity"],
                "unit": (line.get("unit.") or {}).get("symbol"),
                "unit_price": str(line["unit_price"]),
            }
            for line in lines
        ],
        "amount": str(amount.quantize(Decimal("0.01"))),
        "state": opportunity["state"],
    }


def mark_won(call: Call) -> dict:
    """Convert the opportunity to a CRM-side sale and confirm that sale, which makes it won; already won is fine."""
    crm = client()
    opportunity = _opportunity(crm, call.input["opportunity_id"])
    state = opportunity["state"]
    if state in {"lost", "cancelled"}:
        raise BusinessError(
            f"opportunity {opportunity['number']} is {state} and cannot be won",
            code="CRM_OPPORTUNITY_CLOSED",
            details={"state": state},
        )
    if state == "lead":
        crm.model("sale.opportunity", "opportunity", [opportunity["id"]])
        state = "opportunity"
    if state == "opportunity":
        crm.model("sale.opportunity", "convert", [opportunity["id"]])
    if state != "won":
        sales = crm.search_read(
            "sale.sale",
            [("origin", "=", f"sale.opportunity,{opportunity['id']}")],
            ["id", "state"],
            order=[("id", "ASC")],
        )
        for sale in sales:
            if sale["state"] == "draft":
                crm.model("sale.sale", "quote", [sale["id"]])
            if sale["state"] in {"draft", "quotation"}:
                crm.model("sale.sale", "confirm", [sale["id"]])
                break
    opportunity = _opportunity(crm, opportunity["id"])
    return {"opportunity_id": opportunity["id"], "state": opportunity["state"], "sale_ids": opportunity["sales"]}


def mark_lost(call: Call) -> dict:
    """Mark the opportunity lost with the reason; an already lost opportunity is left as is."""
    crm = client()
    opportunity = _opportunity(crm, call.input["opportunity_id"])
    if opportunity["state"] in {"won", "cancelled"}:
        raise BusinessError(
            f"opportunity {opportunity['number']} is {opportunity['state']} and cannot be lost",
            code="CRM_OPPORTUNITY_CLOSED",
            details={"state": opportunity["state"]},
        )
    if opportunity["state"] != "lost":
        crm.model(
            "sale.opportunity", "write", [opportunity["id"]], {"lost_reason": str(call.input.get("reason") or "")}
        )
        crm.model("sale.opportunity", "lost", [opportunity["id"]])
    return {"opportunity_id": opportunity["id"], "state": "lost"}


def record_follow_up(call: Call) -> dict:
    """Attach a note to the opportunity, once per idempotency key."""
    crm = client()
    opportunity = _opportunity(crm, call.input["opportunity_id"])
    resource = f"sale.opportunity,{opportunity['id']}"
    # The key travels as the note's last line, the only free field ir.note has.
    marker = f"[lanebridge:{call.idempotency_key}]"
    existing = crm.search_read(
        "ir.note", [("resource", "=", resource), ("message", "like", f"%{marker}")], ["id"], limit=1
    )
    if existing:
        return {"note_id": existing[0]["id"]}
    (note_id,) = crm.model("ir.note", "create", [{"resource": resource, "message": f"{call.input['note']}\n{marker}"}])
    return {"note_id": note_id}


def list_won_opportunities(call: Call) -> dict:
    """List won opportunities with an id above ``since_id``, oldest first, for the inbound poller."""
    domain: list = [("state", "=", "won")]
    if call.input.get("since_id") is not None:
        domain.append(("id", ">", int(call.input["since_id"])))
    rows = client().search_read(
        "sale.opportunity",
        domain,
        ["id", "number", "write_date", "create_date"],
        limit=int(call.input.get("limit") or 100),
        order=[("id", "ASC")],
    )
    return {
        "opportunities": [
            {
                "opportunity_id": row["id"],
                "number": row["number"],
                "write_date": (row["write_date"] or row["create_date"]).isoformat(),
            }
            for row in rows
        ]
    }


def list_changes(call: Call) -> dict:
    """Records of a CRM model that changed past the watcher's cursor (see integrations.tryton.changes)."""
    return changes.list_changes(client(), call)


def list_customers(call: Call) -> dict:
    """CRM customers for a form's picker, each with the customer record the quote process expects."""
    crm = client()
    # The company itself and its employees are parties too, but nobody quotes them.
    staff = [row["party"] for model in ("company.company", "company.employee")
             for row in crm.search_read(model, [], ["party"])]
    parties = crm.search_read("party.party", [("code", "!=", None), ("id", "not in", staff)],
                              ["id", "code", "name", "addresses"], limit=500, order=[("name", "ASC")])
    first_address = {p["id"]: p["addresses"][0] for p in parties if p["addresses"]}
    addresses = {a["id"]: a for a in crm.search_read(
        "party.address", [("id", "in", list(first_address.values()))],
        ["id", "street", "city", "postal_code", "country.code"])}
    phones: dict[int, str] = {}
    for row in crm.search_read("party.contact_mechanism", [("party", "in", [p["id"] for p in parties]),
                                                           ("type", "in", ["phone", "mobile"])], ["party", "value"]):
        phones.setdefault(row["party"], row["value"])
    options = []
    for party in parties:
        address = addresses.get(first_address.get(party["id"]), {})
        customer = {
            "code": party["code"], "name": party["name"], "phone": phones.get(party["id"], ""),
            "street": address.get("street") or "", "city": address.get("city") or "",
            "zip": address.get("postal_code") or "", "country": (address.get("country.") or {}).get("code") or "",
        }
        options.append({"id": party["code"], "name": f"{party['name']} ({party['code']})", "value": customer})
    return {"options": options}


register(
    "crm.read_opportunity", read_opportunity, required=("opportunity_id",), ledger={"opportunity_id": "crm.opportunity"}
)
register("crm.mark_won", mark_won, required=("opportunity_id",), ledger={"opportunity_id": "crm.opportunity"})
register("crm.mark_lost", mark_lost, required=("opportunity_id",), ledger={"opportunity_id": "crm.opportunity"})
register("crm.record_follow_up", record_follow_up, required=("opportunity_id", "note"))
register("crm.list_won_opportunities", list_won_opportunities)
register("crm.list_changes", list_changes, required=("model",))
register("crm.list_customers", list_customers, read_only=True)
