"""How Tryton failures reach Lanebridge: unreachable → retryable, refusals → business errors."""

from __future__ import annotations

import uuid

import pytest
import requests

from engine.connectors import BusinessError, Call, RetryableError
from integrations.erp_tryton import operations
from integrations.tryton import server
from integrations.tryton.rpc import TrytonClient, get_client, reset_clients


def test_a_stopped_server_gives_retryable_errors(tmp_path, settings, start_tryton):
    second = start_tryton(tmp_path)
    try:
        settings.ERP_URL = second.url
        reset_clients()
        found = operations.ensure_customer(
            Call("erp.ensure_customer", {"customer": {"code": "C-000123"}}, uuid.uuid4().hex, 1)
        )
        assert found["customer_code"] == "CUST123"
    finally:
        server.stop_server(second.process)
    with pytest.raises(RetryableError) as error:
        operations.ensure_customer(Call("erp.ensure_customer", {"customer": {"code": "C-000123"}}, uuid.uuid4().hex, 1))
    assert error.value.retryable and error.value.code == "ERP_UNREACHABLE"
    reset_clients()


def test_nothing_listening_is_retryable(unused_port):
    client = TrytonClient(f"http://127.0.0.1:{unused_port}", "erp", "admin", "admin", timeout=2)
    with pytest.raises(RetryableError):
        client.model("sale.sale", "search", [])


def test_http_5xx_is_retryable(monkeypatch):
    client = TrytonClient("http://127.0.0.1:9", "erp", "admin", "admin")
    client._auth = "Session x"
    response = requests.Response()
    response.status_code = 503
    monkeypatch.setattr(client._http, "post", lambda *a, **k: response)
    with pytest.raises(RetryableError) as error:
        client.call("model.sale.sale.search", [], {})
    assert error.value.code == "ERP_UNAVAILABLE"


def test_tryton_user_error_is_a_business_error_with_its_message(erp):
    sale = operations.create_sales_order(
        Call(
            "erp.create_sales_order",
            {"customer_id": _customer(erp), "lines": [{"product": "GADGET", "quantity": 1, "unit_price": "1"}]},
            uuid.uuid4().hex,
            1,
        )
    )
    operations.confirm_sales_order(Call("erp.confirm_sales_order", {"sale_id": sale["sale_id"]}, "k", 1))
    with pytest.raises(BusinessError) as error:
        erp.model("sale.sale", "delete", [sale["sale_id"]])
    assert error.value.code == "ERP_USER_ERROR"
    assert "cancel" in error.value.message.lower()
    assert error.value.details["tryton_error"] == "UserError"


def test_an_expired_session_logs_in_again(tryton_server):
    client = get_client(tryton_server.url, "erp", "admin", "admin")
    client.model("sale.sale", "search_count", [])
    client._auth = "Session " + "bm9ib2R5OjE6bm90LWEtc2Vzc2lvbg=="
    assert client.model("sale.sale", "search_count", []) >= 0


def test_a_wrong_password_is_a_business_error(tryton_server):
    client = TrytonClient(tryton_server.url, "erp", "admin", "wrong")
    with pytest.raises(BusinessError) as error:
        client.model("sale.sale", "search_count", [])
    assert error.value.code == "ERP_LOGIN_FAILED"


def _customer(erp: TrytonClient) -> int:
    (party,) = erp.search_read("party.party", [("code", "=", "CUST123")], ["id"]) or [None]
    if party:
        return party["id"]
    return operations.ensure_customer(
        Call(
            "erp.ensure_customer",
            {"customer": {"code": "C-000123", "name": "Acme", "city": "Paris", "country": "FR"}},
            "k",
            1,
        )
    )["customer_id"]
