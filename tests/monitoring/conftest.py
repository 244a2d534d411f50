"""An order process whose instances the tests drive step by step, with times the tests set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import connectors, jobs
from engine.deploy import _spec_cache, deploy
from engine.models import HumanTask, Job, ProcessInstance
from engine.runtime import complete_human_task, start_instance
from monitoring import elements

ORDER_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_order" targetNamespace="http://lanebridge.test/bpmn">
  <bpmn:process id="order" name="Order" isExecutable="true">
    <bpmn:startEvent id="start" name="Quote received" />
    <bpmn:userTask id="approve" name="Approve quote" />
    <bpmn:exclusiveGateway id="decide" name="Approved?" default="no" />
    <bpmn:serviceTask id="create_order" name="Create ERP order">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="test.create_order" resultVariable="order">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="quote" type="any" value="'Q'" />
          </spiffworkflow:parameters>
          <spiffworkflow:retry retries="1" />
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="delivered" name="Order delivered" />
    <bpmn:endEvent id="rejected" name="Quote rejected" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="decide" />
    <bpmn:sequenceFlow id="yes" sourceRef="decide" targetRef="create_order">
      <bpmn:conditionExpression>approved == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="no" sourceRef="decide" targetRef="rejected" />
    <bpmn:sequenceFlow id="f3" sourceRef="create_order" targetRef="delivered" />
  </bpmn:process>
</bpmn:definitions>
"""

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Orders:
    """Drives instances of the order process: start, approve or reject, run the ERP call."""

    def __init__(self, user):
        self.user = user
        self.numbers = iter(range(1, 10_000))
        self.erp_fails = False

    def create_order(self, call):
        if self.erp_fails:
            raise connectors.BusinessError("ERP refused the order", code="REFUSED")
        return {"sale_number": f"SO-{next(self.numbers):04d}"}

    def start(self, key: str, at: datetime | None = None) -> ProcessInstance:
        instance, _ = start_instance("order", {}, business_key=key, user=self.user)
        if at is not None:
            ProcessInstance.objects.filter(pk=instance.pk).update(started_at=at)
            HumanTask.objects.filter(instance=instance).update(created_at=at)
        return instance

    def decide(self, instance: ProcessInstance, approved: bool, at: datetime | None = None) -> None:
        task = HumanTask.objects.get(instance=instance, state=HumanTask.OPEN)
        complete_human_task(task, self.user, {"approved": approved})
        if at is not None:
            HumanTask.objects.filter(pk=task.pk).update(completed_at=at)
            Job.objects.filter(instance=instance).update(created_at=at)
            ProcessInstance.objects.filter(pk=instance.pk, ended_at__isnull=False).update(ended_at=at)

    def run_call(self, instance: ProcessInstance, at: datetime | None = None) -> str:
        job = Job.objects.get(instance=instance, state=Job.PENDING)
        outcome = jobs.run_job(job.pk)
        if at is not None:
            Job.objects.filter(pk=job.pk).update(updated_at=at)
            ProcessInstance.objects.filter(pk=instance.pk, ended_at__isnull=False).update(ended_at=at)
        return outcome


@pytest.fixture
def orders(db, make_user):
    """The order process deployed, its ERP operation registered, and a driver for its instances."""
    _spec_cache.clear()
    elements._cache.clear()
    deploy(ORDER_BPMN, "order.bpmn")
    driver = Orders(make_user("seller", "Sales"))
    connectors.register("test.create_order", driver.create_order, ledger={"sale_number": "erp.sale"})
    yield driver
    connectors.unregister("test.create_order")
    _spec_cache.clear()


def after(seconds: float, start: datetime = T0) -> datetime:
    return start + timedelta(seconds=seconds)
