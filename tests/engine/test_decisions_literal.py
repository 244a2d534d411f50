"""Literal-expression decisions: one FEEL or JUEL expression, translated at deploy, whose value is the result."""

from __future__ import annotations

import pytest

from engine.deploy import DeployError, deploy
from engine.models import DecisionDefinition
from tests.engine import dmn
from tests.engine.test_decisions import failed_with, run, waiting_at
from tests.engine.test_decisions_required import line_of

DISCOUNT = dmn.dmn_file(dmn.literal("discount", "amount * 0.1", "discount", "double"))


def test_a_feel_literal_expression_decides_the_result_variable(db):
    task = dmn.rule_task("decide", "discount", result_variable="discount", mapping="singleEntry")

    big = run(DISCOUNT, task, "discount > 100", {"amount": 1500})
    small = run(DISCOUNT, task, "discount > 100", {"amount": 50})

    assert big.variables["discount"] == 150.0 and waiting_at(big) == ["special"]
    assert small.variables["discount"] == 5.0 and waiting_at(small) == ["standard"]


def test_a_juel_literal_expression_decides_too(db):
    content = dmn.dmn_file(dmn.literal("vip", '${customer.status == "gold" && amount > 1000}', "isVip", "boolean"))
    task = dmn.rule_task("decide", "vip", result_variable="vip", mapping="singleEntry")

    instance = run(content, task, "vip", {"customer": {"status": "gold"}, "amount": 5000})

    assert instance.variables["vip"] is True and waiting_at(instance) == ["special"]


@pytest.mark.parametrize(("mapping", "expected"), [
    (None, [{"discount": 150.0}]),
    ("singleResult", {"discount": 150.0}),
    ("collectEntries", [150.0]),
    ("singleEntry", 150.0),
])
def test_a_literal_result_is_named_by_its_variable_and_mapped_like_a_tables(db, mapping, expected):
    task = dmn.rule_task("decide", "discount", result_variable="offer", mapping=mapping)

    instance = run(DISCOUNT, task, "True", {"amount": 1500})

    assert instance.variables["offer"] == expected


def test_a_spiff_task_merges_a_literal_result_under_its_variable_name(db):
    instance = run(DISCOUNT, dmn.spiff_rule_task("decide", "discount"), "discount > 100", {"amount": 1500})

    assert instance.variables["discount"] == 150.0 and waiting_at(instance) == ["special"]


def test_a_literal_expression_may_require_a_decision_table(db):
    rate = dmn.decision("rate", [(['"gold"'], ["0.2"]), (["-"], ["0.05"])], hit_policy="FIRST",
                        inputs=[("Status", "status", "string")], outputs=["rate"], rule_ids="rate_")
    content = dmn.dmn_file(rate + dmn.literal("discount", "amount * rate", "discount", "double",
                                              requires=("rate",)))
    task = dmn.rule_task("decide", "discount", result_variable="discount", mapping="singleEntry")

    instance = run(content, task, "discount > 100", {"status": "gold", "amount": 1000})

    assert instance.variables["discount"] == 200.0 and waiting_at(instance) == ["special"]


def test_a_literal_that_fails_is_an_incident_naming_the_decision(db):
    task = dmn.rule_task("decide", "discount", result_variable="discount", mapping="singleEntry")

    message = failed_with(run(DISCOUNT, task, "True", {}))

    assert "'discount'" in message and "literal expression" in message


@pytest.mark.parametrize("text", ["for a in amounts return a * 2", "date(\"2024-01-31\")", "${order.total()}",
                                  "__import__('os')"])
def test_a_literal_outside_the_subset_is_refused_naming_the_decision_and_line(db, text):
    content = dmn.dmn_file(dmn.decision("check", [(["-", "-"], ["1"])]) + dmn.literal("score", text, "score"))

    with pytest.raises(DeployError) as caught:
        deploy(content, "rules.dmn")

    assert "Decision 'score'" in caught.value.message and "literal expression" in caught.value.message
    assert caught.value.element_id == "Literal_score"
    assert caught.value.line == line_of(content, 'id="Literal_score"')
    assert not DecisionDefinition.objects.exists()


def test_a_literal_without_a_variable_name_is_refused(db):
    content = dmn.dmn_file(dmn.literal("score", "1", "score").replace(
        '    <variable id="Variable_score" name="score" />\n', ""))

    with pytest.raises(DeployError) as caught:
        deploy(content, "rules.dmn")

    assert "'score'" in caught.value.message and "variable name" in caught.value.message


def test_a_literal_in_another_language_is_refused(db):
    content = dmn.dmn_file(dmn.literal("score", "1", "score").replace(
        '<literalExpression id="Literal_score"', '<literalExpression id="Literal_score" expressionLanguage="groovy"'))

    with pytest.raises(DeployError) as caught:
        deploy(content, "rules.dmn")

    assert "'score'" in caught.value.message and "'groovy'" in caught.value.message
