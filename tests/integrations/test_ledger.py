"""The id ledger records every external id a call returns, and the ids an instance starts with."""

from __future__ import annotations

import pytest
from django.utils import timezone

from engine import connectors, jobs
from engine.deploy import deploy
from engine.models import Job
from engine.runtime import start_instance
from integrations import ledger
from integrations.models import ExternalId
from tests.engine import bpmn


@pytest.fixture
def operation():
    """Register a connector operation for one test; the previous one is restored afterwards."""
    saved: dict[str, connectors.Operation | None] = {}

    def add(name: str, func, **kwargs):
        saved.setdefault(name, connectors._operations.get(name))
        connectors.register(name, func, **kwargs)

    yield add
    for name, previous in saved.items():
        connectors.unregister(name)
        if previous is not None:
            connectors._operations[name] = previous


def run_service(operation, operation_name: str, output: dict, **register_kwargs):
    """Start a process whose one service task calls `operation_name` returning `output`; run the call."""
    deploy(bpmn.service_process(operation_name, then_user_task=False, process_id="ledgered"), "ledgered.bpmn")
    operation(operation_name, lambda call: output, **register_kwargs)
    instance, _ = start_instance("ledgered", {})
    job = Job.objects.get(instance=instance)
    assert jobs.run_job(job.pk, timezone.now()) == "done"
    return instance, job


def recorded(instance) -> set[tuple[str, str]]:
    return set(ExternalId.objects.filter(instance=instance).values_list("kind", "value"))


def test_declared_ledger_keys_are_recorded_against_the_instance_and_the_call(db, operation):
    instance, job = run_service(operation, "erp.sale_like", {"sale_id": 17, "sale_number": "SO-0017", "customer_id": 3},
                                ledger={"sale_id": "erp.sale", "sale_number": "erp.sale"})

    assert recorded(instance) == {("erp.sale", "17"), ("erp.sale", "SO-0017")}
    row = ExternalId.objects.get(instance=instance, value="SO-0017")
    assert row.job_id == job.pk
    assert row.value_normalized == "SO-0017"


def test_without_a_declared_ledger_keys_ending_in_id_or_number_are_recorded(db, operation):
    instance, _ = run_service(operation, "shop.create_order",
                              {"order_id": "ab-12", "invoice_number": "INV 9", "paid": True, "total": 12})

    assert recorded(instance) == {("shop.order", "ab-12"), ("shop.invoice", "INV 9")}
    assert ExternalId.objects.get(instance=instance, kind="shop.order").value_normalized == "AB-12"


def test_a_result_recorded_twice_leaves_one_row_per_id(db, operation):
    instance, job = run_service(operation, "erp.sale_like", {"sale_id": 17}, ledger={"sale_id": "erp.sale"})

    ledger.record(instance.pk, [("erp.sale", "17")], job=job)

    row = ExternalId.objects.get(instance=instance)
    assert (row.kind, row.value) == ("erp.sale", "17")


def test_the_business_key_and_the_opportunity_id_are_recorded_when_the_instance_starts(db):
    deploy(bpmn.user_task_process("waiting"), "waiting.bpmn")

    instance, _ = start_instance("waiting", {"opportunity_id": 42}, business_key="OPP-42")

    assert recorded(instance) == {("business_key", "OPP-42"), ("crm.opportunity", "42")}


def test_values_that_are_not_ids_are_skipped():
    output = {"sale_id": None, "shipment_id": False, "invoice_id": "", "production_id": {"id": 1},
              "note_number": "x" * 300, "customer_id": 7}

    assert ledger.ids_in_output("erp.anything", {}, output) == [("erp.customer", "7")]


def test_a_declared_key_holding_a_list_records_each_id():
    output = {"sale_ids": [4, 5, None], "state": "won"}

    assert ledger.ids_in_output("crm.mark_won", {"sale_ids": "crm.sale"}, output) == [
        ("crm.sale", "4"), ("crm.sale", "5")]
