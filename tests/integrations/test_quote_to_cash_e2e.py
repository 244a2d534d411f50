"""The demo process moves a real order through the real Tryton ERP and CRM.

The ERP's own news (production done, shipment delivered, invoice paid) reaches the
instance the way it does under `make run`: someone does the step in Tryton (the
instance page's button, `manage.py erp_advance`, or its function) and the ERP
watcher's next pass sends it as a message.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from engine import connectors, runtime
from engine.deploy import deploy
from engine.jobs import run_due_work
from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance
from integrations import erp_advance, watcher
from integrations.crm_tryton import operations as crm_operations
from integrations.models import ErpChange
from integrations.tryton import server
from integrations.tryton.rpc import TrytonClient, reset_clients
from tests.integrations.conftest import free_port

# Jobs are handed to the worker on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = {"code": "C-000125", "name": "Initech", "phone": "+1 512 555 0143", "street": "4120 Freidrich Lane",
            "city": "Austin", "zip": "78744", "country": "US"}


@pytest.fixture
def quote_to_cash(roles):
    path = django_settings.BASE_DIR / "processes" / "bpmn" / "quote_to_cash.bpmn"
    deploy(path.read_bytes(), path.name)


@pytest.fixture
def people(make_user):
    return {name: make_user(name, name.capitalize()) for name in ("sales", "manager", "warehouse", "finance")}


def open_task(instance, name: str) -> HumanTask:
    return HumanTask.objects.get(instance=instance, name=name, state=HumanTask.OPEN)


def new_opportunity(crm) -> int:
    """A fresh opportunity in the CRM, copied from a demo one, so other tests' opportunities stay as they are."""
    template = crm.search_read("sale.opportunity", [("party.code", "=", "C-000125")], ["id"], limit=1)[0]["id"]
    (copy,) = crm.model("sale.opportunity", "copy", [template], {})
    crm.model("sale.opportunity", "opportunity", [copy])
    return copy


def sales_for(erp, reference: str) -> list[dict]:
    return erp.search_read("sale.sale", [("reference", "=", reference)], ["id", "state", "shipments"])


def waits_for(instance) -> list[str]:
    return list(instance.subscriptions.order_by("id").values_list("name", flat=True))


def erp_watcher_pass() -> int:
    """One pass of the ERP's watches (the CRM's would also start instances for other tests' won opportunities)."""
    return watcher.run_watchers([w for w in watcher.load_watches() if w.system == "erp"])


def test_a_large_quote_from_a_crm_opportunity_runs_as_the_business_does(
        tryton_server, erp, crm, quote_to_cash, people, make_user, client, settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "ERP_ADVANCE": True}
    opportunity_id = new_opportunity(crm)
    quote = crm_operations.read_opportunity(connectors.Call("crm.read_opportunity",
                                                            {"opportunity_id": opportunity_id}, "read", 0))
    reference = f"Q-{uuid.uuid4().hex[:8]}"
    lines = [{"product": "WIDGET", "quantity": 10, "unit_price": "1500.00"}]
    instance, _ = runtime.start_instance("quote_to_cash", {
        "customer": quote["customer"], "lines": lines, "opportunity_id": opportunity_id, "quote_id": reference,
    }, business_key=reference, user=people["sales"])

    approval = open_task(instance, "Approve quote")
    assert approval.lane == "Manager"
    runtime.complete_human_task(approval, people["manager"], {"decision": "approve", "comment": "Good customer"})

    # The order is in the ERP; the instance waits for the factory, and a watcher pass changes nothing.
    (sale,) = sales_for(erp, reference)
    assert sale["state"] == "processing"
    assert waits_for(instance) == ["production_done"]
    erp_watcher_pass()
    assert waits_for(instance) == ["production_done"]

    # An operator finishes the production from the instance page; the next watcher pass moves the instance.
    client.force_login(make_user("operator", "Operator"))
    page = client.get(f"/processes/instances/{instance.pk}/")
    assert b"Finish the production" in page.content
    answer = client.post(f"/processes/instances/{instance.pk}/erp/", {"step": "production"}, follow=True)
    assert b"is done in the ERP" in answer.content and b"next pass" in answer.content
    instance.refresh_from_db()
    production_id = instance.variables["production"]["production_id"]
    assert erp.search_read("production", [("id", "=", production_id)], ["state"])[0]["state"] == "done"
    erp_watcher_pass()
    assert waits_for(instance) == ["shipment_delivered"]
    assert "Message received" in client.get(f"/processes/instances/{instance.pk}/").content.decode()

    # The warehouse delivers; Finance posts the invoice and Sales follows up after the real delivery.
    erp_advance.advance(instance, "shipment")
    erp_watcher_pass()
    follow_up = open_task(instance, "Follow up with customer")
    assert follow_up.lane == "Sales"
    shipments = erp.search_read("stock.shipment.out", [("id", "in", sale["shipments"])], ["state", "number"])
    assert [s["state"] for s in shipments] == ["done"]
    instance.refresh_from_db()
    assert instance.variables["shipment_number"] == shipments[0]["number"]
    assert instance.variables["invoice"]["state"] == "posted"
    runtime.complete_human_task(follow_up, people["sales"], {"follow_up_note": "Delivered, customer happy",
                                                             "satisfied": True})
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.ACTIVE and waits_for(instance) == ["invoice_paid"]

    # The customer pays (from the command line this time): the instance ends.
    call_command("erp_advance", reference, "invoice")
    erp_watcher_pass()
    erp_watcher_pass()
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.COMPLETED, instance.error

    invoice = erp.search_read("account.invoice", [("id", "=", instance.variables["invoice"]["invoice_id"])],
                              ["state"])[0]
    assert invoice["state"] == "paid"
    received = [(e.element_id, e.data["message"]) for e in instance.history.filter(kind=HistoryEvent.MESSAGE)]
    assert received == [("Task_ProductionDone", "production_done"), ("Task_ShipmentDelivered", "shipment_delivered"),
                        ("Task_InvoicePaid", "invoice_paid")]
    assert set(ErpChange.objects.filter(instances=[instance.pk]).values_list("watch", "outcome")) == {
        ("erp.production_done", "delivered"), ("erp.shipment_delivered", "delivered"),
        ("erp.invoice_paid", "delivered")}
    (opportunity,) = crm.search_read("sale.opportunity", [("id", "=", opportunity_id)], ["state"])
    assert opportunity["state"] == "won"
    notes = crm.search_read("ir.note", [("resource", "=", f"sale.opportunity,{opportunity_id}")], ["message"])
    assert any("Delivered, customer happy" in note["message"] for note in notes)
    assert not Incident.objects.filter(instance=instance).exists()


def test_a_stopped_erp_means_retries_then_an_incident_and_a_retry_completes_with_one_sale(
        tryton_server, tmp_path, settings, quote_to_cash, people, api_as, make_user):
    """ERP down → retries with backoff → incident → ERP back → retry via API → exactly one sale."""
    port = free_port()
    server.prepare_run(tmp_path, port, settings.TRYTON_TEMPLATE_DIR)
    settings.ERP_URL = f"http://127.0.0.1:{port}"
    reset_clients()
    reference = f"Q-{uuid.uuid4().hex[:8]}"
    lines = [{"product": "WIDGET", "quantity": 2, "unit_price": "1200.00"}]

    instance, _ = runtime.start_instance("quote_to_cash", {
        "customer": CUSTOMER, "lines": lines, "opportunity_id": None, "quote_id": reference,
    }, business_key=reference, user=people["sales"])
    job = Job.objects.get(instance=instance, operation="erp.ensure_customer")
    assert job.attempts == 1 and job.state == Job.PENDING
    first_retry = job.due_at
    run_due_work(now=first_retry)
    job.refresh_from_db()
    assert job.attempts == 2 and job.due_at - first_retry >= timedelta(seconds=3)  # backoff doubles
    run_due_work(now=job.due_at)
    job.refresh_from_db()
    assert job.state == Job.FAILED and job.attempts == 3
    incident = Incident.objects.get(instance=instance)
    assert "ERP" in incident.message or "refused" in incident.message.lower()
    assert incident.details["input"]["customer"]["code"] == "C-000125"

    process = server.start_server(tmp_path, port)
    try:
        operator = api_as(make_user("operator", "Operator"))
        response = operator.post(f"/api/v1/incidents/{incident.pk}/retry/")
        assert response.status_code == 200, response.content
        instance.refresh_from_db()
        # The order is placed: the instance now waits for the ERP to finish the production.
        assert instance.state == ProcessInstance.ACTIVE, instance.error
        assert waits_for(instance) == ["production_done"]
        erp = TrytonClient(settings.ERP_URL, "erp", "admin", server.ADMIN_PASSWORD)
        assert len(sales_for(erp, reference)) == 1
    finally:
        server.stop_server(process)
        reset_clients()


def test_a_worker_dying_after_the_erp_created_the_order_does_not_double_it(
        tryton_server, erp, quote_to_cash, people):
    """The retry after a crash finds the order the first try created: the ERP ends with exactly one."""
    real = connectors.get_operation("erp.create_sales_order")

    def create_then_die(call):
        real.func(call)
        # The worker process dies here: the ERP has the order, Lanebridge never recorded it.
        raise SystemExit("worker killed")

    connectors.register("erp.create_sales_order", create_then_die, required=real.required, ledger=real.ledger)
    reference = f"Q-{uuid.uuid4().hex[:8]}"
    try:
        with pytest.raises(SystemExit):
            runtime.start_instance("quote_to_cash", {
                "customer": CUSTOMER, "lines": [{"product": "WIDGET", "quantity": 1, "unit_price": "1200.00"}],
                "opportunity_id": None, "quote_id": reference,
            }, business_key=reference, user=people["sales"])
    finally:
        connectors.register("erp.create_sales_order", real.func, required=real.required, ledger=real.ledger)
    job = Job.objects.get(operation="erp.create_sales_order", instance__business_key=reference)
    assert job.state == Job.RUNNING
    assert len(sales_for(erp, reference)) == 1

    # Another worker takes the job back once the dead worker's lease has passed.
    run_due_work(now=job.locked_until + timedelta(seconds=1))
    instance = ProcessInstance.objects.get(business_key=reference)
    assert waits_for(instance) == ["production_done"]
    assert len(sales_for(erp, reference)) == 1
    job.refresh_from_db()
    assert job.state == Job.DONE and job.attempts == 2
    assert instance.variables["sale"]["sale_id"] == sales_for(erp, reference)[0]["id"]


def test_an_unknown_product_is_refused_by_the_erp_and_reaches_the_error_boundary(
        tryton_server, erp, quote_to_cash, people):
    reference = f"Q-{uuid.uuid4().hex[:8]}"
    instance, _ = runtime.start_instance("quote_to_cash", {
        "customer": CUSTOMER, "lines": [{"product": "NO-SUCH-THING", "quantity": 1, "unit_price": "10.00"}],
        "opportunity_id": None, "quote_id": reference,
    }, business_key=reference, user=people["sales"])
    fix = open_task(instance, "Fix rejected order")
    assert fix.lane == "Sales"
    error = instance.history.get(kind=HistoryEvent.SERVICE_ERROR, element_id=fix.instance.jobs.get(
        operation="erp.create_sales_order").element_id)
    assert "NO-SUCH-THING" in error.data["error"]
    assert error.data["bpmn_code"] == "ERP_REJECTED"
    assert not Incident.objects.filter(instance=instance).exists()
    assert sales_for(erp, reference) == []
