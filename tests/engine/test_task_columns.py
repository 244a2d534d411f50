"""A process names the variables its tasks show as amount and customer; opening a task copies them into its row."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from engine.deploy import DeployError, deploy
from engine.models import HumanTask
from engine.runtime import start_instance

DEMO = Path(__file__).resolve().parents[2] / "processes" / "bpmn" / "quote_to_cash.bpmn"

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_columns" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="columns" name="Columns" isExecutable="true">
    <bpmn:extensionElements>
      {properties}
    </bpmn:extensionElements>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="check" name="Check order">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
CAMUNDA = """<camunda:properties>
        <camunda:property name="inbox.amount" value="{amount}" />
        <camunda:property name="inbox.customer" value="{customer}" />
      </camunda:properties>"""


def process(amount: str = "order.total", customer: str = "order.customer.name", properties: str | None = None) -> bytes:
    return PROCESS.format(properties=CAMUNDA.format(amount=amount, customer=customer)
                          if properties is None else properties).encode()


def open_task(variables: dict) -> HumanTask:
    instance, _ = start_instance("columns", variables)
    return instance.human_tasks.get()


def test_the_definition_keeps_the_columns_the_process_declares(db):
    definition = deploy(process(), "columns.bpmn").definitions[0]
    assert definition.task_columns == {"amount": "order.total", "customer": "order.customer.name"}


def test_opening_a_task_copies_amount_and_customer_into_its_row(db):
    deploy(process(), "columns.bpmn")
    task = open_task({"order": {"total": 13500.5, "customer": {"name": "Acme Tools Ltd", "code": "C-1"}}})
    assert task.amount == Decimal("13500.5")
    assert task.customer == "Acme Tools Ltd"
    # Read back from the database, not only from the object the engine built.
    assert HumanTask.objects.values_list("amount", "customer").get(pk=task.pk) == (
        Decimal("13500.5000"), "Acme Tools Ltd")


def test_an_amount_given_as_text_is_read_as_a_number(db):
    deploy(process(amount="total", customer="customer"), "columns.bpmn")
    task = open_task({"total": "1500.25", "customer": "Globex"})
    assert (task.amount, task.customer) == (Decimal("1500.25"), "Globex")


@pytest.mark.parametrize("variables", [
    {},
    {"total": "a lot", "customer": {"name": "an object is no name"}},
    {"total": True, "customer": ["a", "list"]},
    {"total": 1e30, "customer": None},
])
def test_missing_or_unusable_values_leave_the_columns_empty(db, variables):
    deploy(process(amount="total", customer="customer"), "columns.bpmn")
    task = open_task(variables)
    assert (task.amount, task.customer) == (None, "")


def test_a_process_without_the_properties_has_empty_columns(db):
    definition = deploy(process(properties=""), "columns.bpmn").definitions[0]
    task = open_task({"total": 10, "customer": "Acme"})
    assert definition.task_columns == {}
    assert (task.amount, task.customer) == (None, "")


def test_spiffworkflow_properties_declare_them_too(db):
    spiff = """<spiffworkflow:properties>
        <spiffworkflow:property name="inbox.amount" value="total" />
      </spiffworkflow:properties>"""
    deploy(process(properties=spiff), "columns.bpmn")
    assert open_task({"total": 7}).amount == Decimal(7)


def test_an_unknown_inbox_property_is_refused_naming_the_process_and_line(db):
    bad = """<camunda:properties>
        <camunda:property name="inbox.amout" value="total" />
      </camunda:properties>"""
    with pytest.raises(DeployError) as refused:
        deploy(process(properties=bad), "columns.bpmn")
    assert "'inbox.amout'" in refused.value.message and "inbox.amount" in refused.value.message
    assert refused.value.line == 9


def test_a_value_that_is_no_variable_path_is_refused(db):
    with pytest.raises(DeployError) as refused:
        deploy(process(amount="sum(lines)"), "columns.bpmn")
    assert "'inbox.amount'" in refused.value.message and "'sum(lines)'" in refused.value.message
    assert refused.value.line == 9


def test_other_properties_of_the_process_are_left_alone(db):
    other = """<camunda:properties>
        <camunda:property name="owner" value="sales ops" />
      </camunda:properties>"""
    assert deploy(process(properties=other), "columns.bpmn").definitions[0].task_columns == {}


def test_the_demo_process_declares_the_quote_total_and_the_customer_name(db):
    definition = deploy(DEMO.read_bytes(), DEMO.name).definitions[0]
    assert definition.task_columns == {"amount": "total", "customer": "customer.name"}
