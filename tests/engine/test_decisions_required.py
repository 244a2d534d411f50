"""Decisions that require other decisions (a DRD): each required one is decided first, once, and read by name."""

from __future__ import annotations

import pytest

from engine import decisions
from engine.deploy import DeployError, deploy
from engine.models import DecisionDefinition, ProcessInstance
from engine.scripts import RestrictedEnvironment
from tests.engine import dmn
from tests.engine.test_decisions import failed_with, run, waiting_at

SEASON = dmn.decision("seasonOfMonth", [(["[3..5]"], ['"Spring"']), (["[6..8]"], ['"Summer"']),
                                        (["-"], ['"Winter"'])],
                      hit_policy="FIRST", inputs=[("Month", "month", "integer")], outputs=[("season", None, "string")],
                      rule_ids="season_")
DISH = dmn.decision("dish", [(['"Summer"', "-"], ['"Salad"']), (['"Winter"', "> 8"], ['"Stew"']),
                             (["-", "-"], ['"Soup"'])],
                    hit_policy="FIRST", inputs=[("Season", "season", "string"), ("Guests", "guests", "integer")],
                    outputs=["dish"], requires=("seasonOfMonth",), rule_ids="dish_")
evaluate = RestrictedEnvironment().evaluate
DISH_TASK = dmn.rule_task("decide", "dish", result_variable="dish", mapping="singleEntry")


def test_a_decision_reads_the_output_of_the_decision_it_requires_by_the_outputs_name(db):
    instance = run(dmn.dmn_file(SEASON + DISH), DISH_TASK, 'dish == "Stew"', {"month": 12, "guests": 10})
    summer = run(dmn.dmn_file(SEASON + DISH), DISH_TASK, 'dish == "Stew"', {"month": 7, "guests": 10})

    assert instance.variables["dish"] == "Stew" and waiting_at(instance) == ["special"]
    assert summer.variables["dish"] == "Salad" and waiting_at(summer) == ["standard"]
    # The required decision's result is read while deciding; only the called decision's result is kept.
    assert "season" not in instance.variables and "seasonOfMonth" not in instance.variables


def test_a_required_decisions_result_is_read_under_its_id_too(db):
    by_id = DISH.replace("<text>season</text>", "<text>seasonOfMonth</text>")

    instance = run(dmn.dmn_file(SEASON + by_id), DISH_TASK, 'dish == "Stew"', {"month": 1, "guests": 9})

    assert instance.variables["dish"] == "Stew" and waiting_at(instance) == ["special"]


def test_a_required_decision_with_two_outputs_is_read_as_a_dict_under_its_id(db):
    risk = dmn.decision("risk", [(["> 1000"], ['"high"', '"big order"']), (["-"], ['"low"', '"usual"'])],
                        hit_policy="FIRST", inputs=[("Amount", "amount", "double")], outputs=["level", "reason"],
                        rule_ids="risk_")
    approve = dmn.decision("approval", [(['"high"', '"big order"'], ['"manager"']), (["-", "-"], ['"clerk"'])],
                           hit_policy="FIRST", inputs=[("Level", "risk.level"), ("Reason", "reason")],
                           outputs=["approver"], requires=("risk",), rule_ids="approval_")
    task = dmn.rule_task("decide", "approval", result_variable="approver", mapping="singleEntry")

    instance = run(dmn.dmn_file(risk + approve), task, 'approver == "manager"', {"amount": 5000})

    assert instance.variables["approver"] == "manager" and waiting_at(instance) == ["special"]


def test_a_collecting_required_decision_gives_the_list_of_its_outputs(db):
    fees = dmn.decision("fees", [(["> 100"], ["10"]), (["> 1000"], ["20"]), (["-"], ["1"])], hit_policy="COLLECT",
                        inputs=[("Amount", "amount")], outputs=["fee"], rule_ids="fees_")
    total = dmn.literal("total", "fee[1] + fee[2] + fee[3]", "total", "integer", requires=("fees",))
    count = dmn.literal("count", "${fees[0] + fees[1]}", "firstTwo", "integer", requires=("fees",))
    task = dmn.rule_task("decide", "total", result_variable="total", mapping="singleEntry")

    instance = run(dmn.dmn_file(fees + total + count), task, "total == 31", {"amount": 5000})
    deploy(dmn.dmn_file(fees + total + count), "rules.dmn")
    result = decisions.decide(DecisionDefinition.objects.get(decision_id="count").table, {"amount": 5000}, evaluate)

    assert instance.variables["total"] == 31 and waiting_at(instance) == ["special"]
    assert result == [{"firstTwo": 30}]


def test_shared_requirements_are_decided_once_each_before_the_decisions_needing_them(db):
    base = dmn.literal("base", "amount * 2", "base", "double")
    left = dmn.literal("left", "base + 1", "left", "double", requires=("base",))
    right = dmn.literal("right", "base + 2", "right", "double", requires=("base",))
    top = dmn.literal("top", "left * right", "top", "double", requires=("right", "left"))
    content = dmn.dmn_file(top + left + right + base)
    decided = []

    def counting(expression, context):
        decided.append(expression)
        return evaluate(expression, context)

    deploy(content, "rules.dmn")
    table = DecisionDefinition.objects.get(decision_id="top").table
    instance = run(content, dmn.rule_task("decide", "top", result_variable="top", mapping="singleEntry"),
                   "top == 42", {"amount": 2.5})

    assert [t["decision_id"] for t in table["required"]] == ["base", "right", "left"]
    assert decisions.decide(table, {"amount": 2.5}, counting) == [{"top": 42.0}]
    assert len(decided) == 4
    assert instance.variables["top"] == 42.0 and waiting_at(instance) == ["special"]


def test_a_failing_required_decision_is_an_incident_naming_it(db):
    instance = run(dmn.dmn_file(SEASON + DISH), DISH_TASK, "True", {"guests": 3})

    message = failed_with(instance)
    assert instance.state == ProcessInstance.FAILED
    assert "'seasonOfMonth'" in message and "'Month'" in message


def line_of(content: bytes, text: str) -> int:
    return next(i for i, line in enumerate(content.decode().splitlines(), 1) if text in line)


@pytest.mark.parametrize(("decisions_xml", "decision_id"), [
    (dmn.literal("a", "b + 1", "a", requires=("b",)) + dmn.literal("b", "a + 1", "b", requires=("a",)), "a"),
    (dmn.literal("top", "a", "top", requires=("a",)) + dmn.literal("a", "b", "a", requires=("b",))
     + dmn.literal("b", "a", "b", requires=("a",)), "a"),
    (dmn.literal("self", "self + 1", "self", requires=("self",)), "self"),
])
def test_a_cycle_of_requirements_is_refused_at_deploy_naming_the_decision_and_line(db, decisions_xml, decision_id):
    content = dmn.dmn_file(decisions_xml)

    with pytest.raises(DeployError) as caught:
        deploy(content, "rules.dmn")

    assert f"Decision {decision_id!r} requires itself" in caught.value.message
    assert caught.value.element_id == decision_id
    assert caught.value.line == line_of(content, f'<decision id="{decision_id}"')
    assert not DecisionDefinition.objects.exists()


def test_a_missing_required_decision_is_refused_at_deploy_naming_the_decision_and_line(db):
    content = dmn.dmn_file(DISH)

    with pytest.raises(DeployError) as caught:
        deploy(content, "rules.dmn")

    assert "'dish'" in caught.value.message and "'#seasonOfMonth'" in caught.value.message
    assert caught.value.line == line_of(content, 'href="#seasonOfMonth"')
    assert not DecisionDefinition.objects.exists()


def test_a_required_decision_in_another_file_is_refused(db):
    content = dmn.dmn_file(SEASON + DISH.replace('href="#seasonOfMonth"', 'href="other.dmn#seasonOfMonth"'))

    with pytest.raises(DeployError) as caught:
        deploy(content, "rules.dmn")

    assert "'other.dmn#seasonOfMonth'" in caught.value.message and "same DMN file" in caught.value.message
