"""CRM operations against the real Tryton server: read, won, lost, follow-up, won list."""

from __future__ import annotations

import uuid

import pytest

from engine.connectors import BusinessError, Call, get_operation
from integrations.crm_tryton import operations  # noqa: F401  (registers the operations)


def run(operation: str, data: dict, key: str | None = None) -> dict:
    return get_operation(operation).func(Call(operation, data, key or uuid.uuid4().hex, instance_id=1))


def opportunity_id(crm, customer_code: str) -> int:
    (party,) = crm.search_read("party.party", [("code", "=", customer_code)], ["id"])
    # The first (demo) opportunity of the customer; other tests may add more.
    opportunities = crm.search_read("sale.opportunity", [("party", "=", party["id"])], ["id"])
    return min(o["id"] for o in opportunities)


def test_read_opportunity_returns_customer_and_priced_lines(crm):
    result = run("crm.read_opportunity", {"opportunity_id": opportunity_id(crm, "C-000123")})
    assert result["customer"] == {
        "code": "C-000123",
        "name": "Acme Robotics",
        "phone": "+33 1 42 68 53 00",
        "street": "12 rue de la Paix",
        "city": "Paris",
        "zip": "75002",
        "country": "FR",
    }
    assert result["lines"] == [
        {"product": "WIDGET", "quantity": 2.0, "unit": "u", "unit_price": "1200.00"},
        {"product": "SERVICE-INSTALL", "quantity": 1.0, "unit": "u", "unit_price": "250.00"},
    ]
    assert result["amount"] == "2650.00"
    assert result["state"] == "opportunity"


def test_unknown_opportunity_is_a_business_error(tryton_server):
    with pytest.raises(BusinessError) as error:
        run("crm.read_opportunity", {"opportunity_id": 999999})
    assert error.value.code == "CRM_NOT_FOUND"


def test_mark_won_confirms_the_crm_sale_and_lists_it(crm):
    oid = opportunity_id(crm, "C-000125")
    before = run("crm.list_won_opportunities", {"since_id": None})["opportunities"]
    won = run("crm.mark_won", {"opportunity_id": oid})
    assert won["state"] == "won"
    assert run("crm.mark_won", {"opportunity_id": oid})["state"] == "won"
    (sale,) = crm.search_read("sale.sale", [("id", "in", won["sale_ids"])], ["state"])
    assert sale["state"] in {"confirmed", "processing"}
    listed = [o["opportunity_id"] for o in run("crm.list_won_opportunities", {"since_id": None})["opportunities"]]
    assert listed == sorted(listed)
    assert set(listed) == {o["opportunity_id"] for o in before} | {oid}
    later = run("crm.list_won_opportunities", {"since_id": oid})["opportunities"]
    assert all(o["opportunity_id"] > oid for o in later)


def test_mark_lost_records_the_reason_and_cannot_then_be_won(crm):
    oid = opportunity_id(crm, "C-000124")
    assert run("crm.mark_lost", {"opportunity_id": oid, "reason": "Too expensive"})["state"] == "lost"
    assert run("crm.mark_lost", {"opportunity_id": oid, "reason": "again"})["state"] == "lost"
    (stored,) = crm.search_read("sale.opportunity", [("id", "=", oid)], ["state", "lost_reason"])
    assert stored == {"id": oid, "state": "lost", "lost_reason": "Too expensive"}
    with pytest.raises(BusinessError) as error:
        run("crm.mark_won", {"opportunity_id": oid})
    assert error.value.code == "CRM_OPPORTUNITY_CLOSED"


def test_follow_up_note_is_recorded_once_per_key(crm):
    oid = opportunity_id(crm, "C-000123")
    key = uuid.uuid4().hex
    first = run("crm.record_follow_up", {"opportunity_id": oid, "note": "Call about delivery"}, key)
    assert run("crm.record_follow_up", {"opportunity_id": oid, "note": "Call about delivery"}, key) == first
    notes = crm.search_read("ir.note", [("resource", "=", f"sale.opportunity,{oid}")], ["message"])
    assert [n["message"].splitlines()[0] for n in notes].count("Call about delivery") == 1
