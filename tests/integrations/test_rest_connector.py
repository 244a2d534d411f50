"""The REST connector, configured as data, against a real HTTP server started by the test."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from engine import connectors, jobs
from engine.connectors import BusinessError, Call, RetryableError
from engine.deploy import deploy
from engine.models import Job, ProcessInstance
from engine.runtime import start_instance
from integrations.models import ExternalId
from integrations.rest import load_rest_connector
from tests.engine import bpmn


class Handler(BaseHTTPRequestHandler):
    """Records every request and answers with the reply set for its method and path."""

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                     "body": json.loads(raw) if raw else None})
        status, payload = self.server.replies.get((self.command, self.path), (404, {"message": "no such route"}))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    def log_message(self, *args):
        pass


@pytest.fixture
def shop(monkeypatch):
    """A running HTTP server playing a shop; SHOP_URL and SHOP_TOKEN point at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.requests, server.replies = [], {}
    # A short poll interval keeps shutdown() from waiting half a second per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("SHOP_URL", server.url)
    monkeypatch.setenv("SHOP_TOKEN", "s3cret")
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def load():
    """Load a REST connector config; its operations are unregistered after the test."""
    names: list[str] = []

    def load_config(config: dict) -> list[str]:
        loaded = load_rest_connector(config)
        names.extend(loaded)
        return loaded

    yield load_config
    for name in names:
        connectors.unregister(name)


CREATE_ORDER = {
    "name": "shop.create_order",
    "method": "POST",
    "url": "${SHOP_URL}/customers/{customer.code}/orders",
    "headers": {"Authorization": "Bearer ${SHOP_TOKEN}"},
    "body": {"reference": "quote_id", "currency": {"literal": "EUR"}, "first": {"product": "lines.0.product"}},
    "result": {"order_id": "data.id", "order_number": "data.number"},
    "errors": {"422": {"code": "SHOP_REJECTED"}, "409": {"code": "SHOP_DUPLICATE", "message": "problem.text"}},
    "ledger": {"order_id": "shop.order", "order_number": "shop.order"},
    "timeout": 5,
}
ORDER_INPUT = {"customer": {"code": "C 1/2"}, "quote_id": "Q-7", "lines": [{"product": "P-1"}]}
ORDERS_PATH = "/customers/C%201%2F2/orders"


def call(name: str = "shop.create_order", data: dict | None = None, key: str = "lanebridge-1-abc") -> dict:
    operation = connectors.get_operation(name)
    return operation.func(Call(operation=name, input=ORDER_INPUT if data is None else data, idempotency_key=key,
                               instance_id=1))


def test_a_success_returns_the_extracted_result(shop, load):
    shop.replies[("POST", ORDERS_PATH)] = (201, {"data": {"id": 991, "number": "WEB-991", "extra": 1}})
    assert load({"operations": [CREATE_ORDER]}) == ["shop.create_order"]

    assert call() == {"order_id": 991, "order_number": "WEB-991"}
    [request] = shop.requests
    assert request["body"] == {"reference": "Q-7", "currency": "EUR", "first": {"product": "P-1"}}


def test_the_header_secret_comes_from_the_environment(shop, load):
    shop.replies[("POST", ORDERS_PATH)] = (201, {"data": {"id": 1, "number": "W-1"}})
    load({"operations": [CREATE_ORDER]})

    call()

    assert shop.requests[0]["headers"]["Authorization"] == "Bearer s3cret"


def test_the_idempotency_key_of_the_call_is_sent(shop, load):
    shop.replies[("POST", ORDERS_PATH)] = (201, {"data": {"id": 1, "number": "W-1"}})
    load({"operations": [CREATE_ORDER]})

    call(key="lanebridge-7-task")

    assert shop.requests[0]["headers"]["Idempotency-Key"] == "lanebridge-7-task"


def test_a_mapped_status_is_a_business_error_with_its_code_and_the_message(shop, load):
    shop.replies[("POST", ORDERS_PATH)] = (422, {"message": "customer has no address"})
    load({"operations": [CREATE_ORDER]})

    with pytest.raises(BusinessError) as raised:
        call()

    assert raised.value.code == "SHOP_REJECTED"
    assert "customer has no address" in raised.value.message
    assert raised.value.details["status"] == 422


def test_the_message_is_read_from_the_configured_path(shop, load):
    shop.replies[("POST", ORDERS_PATH)] = (409, {"problem": {"text": "order Q-7 exists"}})
    load({"operations": [CREATE_ORDER]})

    with pytest.raises(BusinessError) as raised:
        call()

    assert raised.value.code == "SHOP_DUPLICATE"
    assert "order Q-7 exists" in raised.value.message


def test_an_unmapped_client_error_is_a_business_error_named_by_status(shop, load):
    shop.replies[("POST", ORDERS_PATH)] = (403, {"error": "forbidden"})
    load({"operations": [CREATE_ORDER]})

    with pytest.raises(BusinessError) as raised:
        call()

    assert raised.value.code == "HTTP_403"


def test_a_server_error_is_retryable(shop, load):
    shop.replies[("POST", ORDERS_PATH)] = (503, {"message": "maintenance"})
    load({"operations": [CREATE_ORDER]})

    with pytest.raises(RetryableError) as raised:
        call()

    assert "maintenance" in raised.value.message


def test_a_refused_connection_is_retryable(shop, load):
    load({"operations": [CREATE_ORDER]})
    shop.shutdown()
    shop.server_close()

    with pytest.raises(RetryableError):
        call()


def test_a_missing_input_is_a_business_error_naming_the_path(shop, load):
    load({"operations": [CREATE_ORDER]})

    with pytest.raises(BusinessError) as raised:
        call(data={"customer": {"code": "C1"}, "lines": []})

    assert raised.value.code == "MISSING_INPUT"
    assert "quote_id" in raised.value.message
    assert shop.requests == []


def test_a_missing_environment_variable_is_a_config_error_naming_it(shop, load, monkeypatch):
    monkeypatch.delenv("SHOP_TOKEN")

    with pytest.raises(ValueError, match="'shop.create_order': headers.Authorization: .*SHOP_TOKEN"):
        load({"operations": [CREATE_ORDER]})

    with pytest.raises(KeyError):
        connectors.get_operation("shop.create_order")


@pytest.mark.parametrize("change, message", [
    ({"method": "FETCH"}, "'shop.create_order': method"),
    ({"url": "ftp://x/orders"}, "'shop.create_order': url"),
    ({"result": {"order_id": 5}}, "'shop.create_order': result"),
    ({"errors": {"abc": {"code": "X"}}}, "'shop.create_order': errors.abc"),
    ({"errors": {"422": {}}}, "'shop.create_order': errors.422"),
    ({"timeout": 0}, "'shop.create_order': timeout"),
    ({"bodyy": {}}, "'shop.create_order': bodyy: unknown field"),
    ({"name": ""}, "#1: name"),
])
def test_an_invalid_config_is_refused_naming_the_operation_and_field(shop, load, change, message):
    with pytest.raises(ValueError) as raised:
        load({"operations": [{**CREATE_ORDER, **change}]})

    assert message in str(raised.value)


def test_one_invalid_operation_registers_none_of_the_config(shop, load):
    broken = {"name": "shop.cancel_order", "method": "POST"}

    with pytest.raises(ValueError, match="'shop.cancel_order': url"):
        load({"operations": [CREATE_ORDER, broken]})

    assert "shop.create_order" not in connectors.operation_names()


def test_a_service_task_calling_the_operation_completes_with_the_result_and_records_the_id(db, shop, load):
    shop.replies[("POST", ORDERS_PATH)] = (201, {"data": {"id": 991, "number": "WEB-991"}})
    load({"operations": [CREATE_ORDER]})
    deploy(bpmn.chain("web_order", bpmn.service_task(
        "place_order", "shop.create_order", {"customer": "customer", "quote_id": "quote_id", "lines": "lines"},
        result_variable="order")), "web_order.bpmn")

    instance, _ = start_instance("web_order", ORDER_INPUT)
    job = Job.objects.get(instance=instance)
    assert jobs.run_job(job.pk, timezone.now()) == "done"

    instance = ProcessInstance.objects.get(pk=instance.pk)
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["order"] == {"order_id": 991, "order_number": "WEB-991"}
    assert shop.requests[0]["headers"]["Idempotency-Key"] == job.idempotency_key
    assert set(ExternalId.objects.filter(instance=instance).values_list("kind", "value")) == {
        ("shop.order", "991"), ("shop.order", "WEB-991")}
