"""A Celery worker process is killed mid-hand-off; the ERP still ends with exactly one order."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings

from engine import runtime
from engine.deploy import deploy
from engine.jobs import run_due_work
from engine.models import HumanTask, Job
from lanebridge.celery import app
from tests.celery_workers import start_workers, stop_workers, wait_for

pytestmark = [pytest.mark.scaled, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_after_the_erp_created_the_order_leaves_one_order(tryton_server, erp, roles, tmp_path):
    path = settings.BASE_DIR / "processes" / "bpmn" / "quote_to_cash.bpmn"
    deploy(path.read_bytes(), path.name)
    marker = tmp_path / "crash-once"
    marker.touch()
    env = {"ERP_URL": settings.ERP_URL, "CRM_URL": settings.CRM_URL,
           "LANEBRIDGE_CONNECTOR_MODULES": "tests.integrations.crashing_worker",
           "LANEBRIDGE_CRASH_MARKER": str(marker)}
    app.control.purge()
    (doomed,) = start_workers(1, name="doomed", pool="solo", **env)
    reference = f"Q-{uuid.uuid4().hex[:8]}"
    try:
        instance, _ = runtime.start_instance("quote_to_cash", {
            "customer": {"code": "C-000124", "name": "Globex Corporation", "street": "221B Baker Street",
                         "city": "London", "zip": "NW1 6XE", "country": "GB"},
            "lines": [{"product": "WIDGET", "quantity": 1, "unit_price": "1200.00"}],
            "opportunity_id": None, "quote_id": reference,
        }, business_key=reference)
        assert doomed.wait(timeout=120) == -9  # SIGKILL, inside erp.create_sales_order
    finally:
        stop_workers([doomed])

    job = Job.objects.get(instance=instance, operation="erp.create_sales_order")
    assert job.state == Job.RUNNING and not marker.exists()
    assert len(erp.search_read("sale.sale", [("reference", "=", reference)], ["id"])) == 1

    survivors = start_workers(1, name="survivor", **env)
    try:
        # The scheduler takes the job back once the dead worker's lease has run out.
        run_due_work(now=job.locked_until + timedelta(seconds=1))
        # The order placed, the instance waits for the ERP to finish the production.
        assert wait_for(lambda: instance.subscriptions.filter(name="production_done").exists(), 120)
    finally:
        stop_workers(survivors)

    job.refresh_from_db()
    assert job.state == Job.DONE and job.attempts == 2
    sales = erp.search_read("sale.sale", [("reference", "=", reference)], ["id"])
    assert len(sales) == 1
    instance.refresh_from_db()
    assert instance.variables["sale"]["sale_id"] == sales[0]["id"]
    assert open_task_names(instance) == []
    assert list(instance.subscriptions.values_list("name", flat=True)) == ["production_done"]


def open_task_names(instance) -> list[str]:
    return list(HumanTask.objects.filter(instance=instance, state=HumanTask.OPEN).values_list("name", flat=True))
