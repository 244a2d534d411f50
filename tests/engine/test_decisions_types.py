"""typeRef on inputs and outputs: values are converted to the declared DMN type, as Camunda 7 converts them."""

from __future__ import annotations

import pytest

from engine.deciding import convert
from engine.models import ProcessInstance
from tests.engine import dmn
from tests.engine.test_decisions import failed_with, run, waiting_at


def typed_check(type_ref: str, entry: str) -> bytes:
    return dmn.table("check", [([entry], ['"yes"']), (["-"], ['"no"'])], hit_policy="FIRST",
                     inputs=[("Value", "value", type_ref)], outputs=["answer"])


ANSWER = dmn.rule_task("decide", "check", result_variable="answer", mapping="singleEntry")


@pytest.mark.parametrize(("type_ref", "entry", "value"), [
    ("integer", "> 1000", "1500"),
    ("long", "[1..10]", 10.0),
    ("double", "< 0.5", "0.25"),
    ("boolean", "true", "TRUE"),
    ("string", '"42"', 42),
    ("string", '"true"', True),
    ("date", '[date("2024-01-01")..date("2024-12-31")]', "2024-06-30"),
])
def test_an_input_is_converted_to_its_type_before_the_rules_test_it(db, type_ref, entry, value):
    instance = run(typed_check(type_ref, entry), ANSWER, 'answer == "yes"', {"value": value})

    assert instance.variables["answer"] == "yes" and waiting_at(instance) == ["special"]


@pytest.mark.parametrize(("type_ref", "value"), [("integer", "lots"), ("integer", 1.5), ("long", True),
                                                 ("double", "n/a"), ("boolean", "yes"), ("date", "31.12.2024"),
                                                 ("string", {"a": 1}), ("integer", 2**40)])
def test_an_input_that_cannot_be_converted_is_an_incident_naming_the_decision_and_input(db, type_ref, value):
    instance = run(typed_check(type_ref, "-"), ANSWER, "True", {"value": value})

    message = failed_with(instance)
    assert instance.state == ProcessInstance.FAILED
    assert "decision 'check', input 'Value'" in message and type_ref in message


def test_an_input_without_a_known_type_is_tested_as_it_is(db):
    instance = run(typed_check("customerType", '"1500"'), ANSWER, 'answer == "yes"', {"value": 1500})

    assert instance.variables["answer"] == "no"


@pytest.mark.parametrize(("type_ref", "entry", "expected"), [
    ("integer", "10.0", 10),
    ("long", '"12"', 12),
    ("double", "1", 1.0),
    ("string", "10", "10"),
    ("string", "false", "false"),
    ("boolean", '"true"', True),
    ("date", '"2024-02-29"', "2024-02-29"),
    (None, "10", 10),
])
def test_an_output_entry_is_converted_to_its_outputs_type(db, type_ref, entry, expected):
    table = dmn.table("discount", [(["-", "-"], [entry])], outputs=[("discount", None, type_ref)] if type_ref
                      else ["discount"])
    task = dmn.rule_task("decide", "discount", result_variable="discount", mapping="singleEntry")

    instance = run(table, task, "True", {"status": "gold", "amount": 10})

    assert instance.variables["discount"] == expected
    assert type(instance.variables["discount"]) is type(expected)


def test_an_output_entry_that_cannot_be_converted_is_an_incident_naming_the_rule_and_output(db):
    table = dmn.table("discount", [(["-", "-"], ['"ten"'])], outputs=[("discount", None, "integer")])
    task = dmn.rule_task("decide", "discount", result_variable="discount", mapping="singleEntry")

    message = failed_with(run(table, task, "True", {"status": "gold", "amount": 10}))

    assert "'Rule_1'" in message and "output 'discount'" in message and "integer" in message


def test_a_literal_result_is_converted_to_its_variables_type(db):
    content = dmn.dmn_file(dmn.literal("discount", "amount / 4", "discount", "integer"))
    task = dmn.rule_task("decide", "discount", result_variable="discount", mapping="singleEntry")

    whole = run(content, task, "discount == 25", {"amount": 100})
    broken = run(content, task, "True", {"amount": 10})

    assert whole.variables["discount"] == 25 and waiting_at(whole) == ["special"]
    assert "variable 'discount'" in failed_with(broken) and "integer" in failed_with(broken)


def test_nothing_stays_nothing_whatever_the_type():
    assert [convert(None, t) for t in ("string", "integer", "long", "double", "boolean", "date")] == [None] * 6
