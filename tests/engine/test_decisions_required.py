"""Decisions that require other decisions (a DRD): each required one is decided first, once, and read by name."""

from __future__ import annotations

import pytest

from engine import deciding
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
    result = deciding.decide(DecisionDefinition.objects.get(decision_id="count").table, {"amount": 5000}, evaluate)

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
    assert deciding.decide(table, {"amount": 2.5}, counting) == [{"top": 42.0}]
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


# A DRD as Camunda Modeler saves it: input data, a knowledge source, diagram shapes, a literal expression.
DINNER = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/"
    xmlns:di="http://www.omg.org/spec/DMN/20180521/DI/" xmlns:camunda="http://camunda.org/schema/1.0/dmn"
    id="dinnerDecisions" name="Dinner Decisions" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="dish" name="Dish" camunda:versionTag="1.0">
    <informationRequirement id="InformationRequirement_1">
      <requiredDecision href="#season" />
    </informationRequirement>
    <informationRequirement id="InformationRequirement_2">
      <requiredDecision href="#guestCount" />
    </informationRequirement>
    <authorityRequirement id="AuthorityRequirement_1">
      <requiredAuthority href="#menu" />
    </authorityRequirement>
    <decisionTable id="dishDecisionTable">
      <input id="seasonInput" label="Season">
        <inputExpression id="seasonInputExpression" typeRef="string">
          <text>season</text>
        </inputExpression>
      </input>
      <input id="guestCountInput" label="How many guests">
        <inputExpression id="guestCountInputExpression" typeRef="integer">
          <text>guestCount</text>
        </inputExpression>
      </input>
      <output id="output1" label="Dish" name="desiredDish" typeRef="string" />
      <rule id="row-1">
        <inputEntry id="UnaryTests_1"><text>"Winter"</text></inputEntry>
        <inputEntry id="UnaryTests_2"><text><![CDATA[<= 8]]></text></inputEntry>
        <outputEntry id="LiteralExpression_1"><text>"Spareribs"</text></outputEntry>
      </rule>
      <rule id="row-2">
        <inputEntry id="UnaryTests_3"><text>"Winter"</text></inputEntry>
        <inputEntry id="UnaryTests_4"><text><![CDATA[> 8]]></text></inputEntry>
        <outputEntry id="LiteralExpression_2"><text>"Pasta"</text></outputEntry>
      </rule>
      <rule id="row-3">
        <inputEntry id="UnaryTests_5"><text>"Summer"</text></inputEntry>
        <inputEntry id="UnaryTests_6"><text>-</text></inputEntry>
        <outputEntry id="LiteralExpression_3"><text>"Light salad"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <decision id="season" name="Season">
    <informationRequirement id="InformationRequirement_3">
      <requiredInput href="#weatherInCelsius" />
    </informationRequirement>
    <decisionTable id="seasonDecisionTable">
      <input id="temperatureInput" label="Weather in Celsius">
        <inputExpression id="temperatureInputExpression" typeRef="integer">
          <text>temperature</text>
        </inputExpression>
      </input>
      <output id="seasonOutput" label="season" name="season" typeRef="string" />
      <rule id="row-4">
        <inputEntry id="UnaryTests_7"><text><![CDATA[>30]]></text></inputEntry>
        <outputEntry id="LiteralExpression_4"><text>"Summer"</text></outputEntry>
      </rule>
      <rule id="row-5">
        <inputEntry id="UnaryTests_8"><text><![CDATA[<=30]]></text></inputEntry>
        <outputEntry id="LiteralExpression_5"><text>"Winter"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <decision id="guestCount" name="Guest Count">
    <variable id="InformationItem_1" name="guestCount" typeRef="integer" />
    <informationRequirement id="InformationRequirement_4">
      <requiredInput href="#typeOfDay" />
    </informationRequirement>
    <literalExpression id="LiteralExpression_6">
      <text>guests + 2</text>
    </literalExpression>
  </decision>
  <inputData id="weatherInCelsius" name="Weather in Celsius" />
  <inputData id="typeOfDay" name="Type of day" />
  <knowledgeSource id="menu" name="Menu" />
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="DMNDiagram_1">
      <dmndi:DMNShape id="DMNShape_1" dmnElementRef="dish">
        <dc:Bounds height="80" width="180" x="150" y="80" />
      </dmndi:DMNShape>
      <dmndi:DMNEdge id="DMNEdge_1" dmnElementRef="InformationRequirement_1">
        <di:waypoint x="250" y="200" />
        <di:waypoint x="250" y="160" />
      </dmndi:DMNEdge>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""


def test_a_drd_as_camunda_modeler_draws_it_decides_with_its_input_data_and_knowledge_sources_left_aside(db):
    task = dmn.rule_task("decide", "dish", result_variable="dish", mapping="singleEntry")

    winter = run(DINNER, task, 'dish == "Pasta"', {"temperature": "12", "guests": 7})
    summer = run(DINNER, task, 'dish == "Pasta"', {"temperature": 31, "guests": 7})

    assert winter.variables["dish"] == "Pasta" and waiting_at(winter) == ["special"]
    assert summer.variables["dish"] == "Light salad" and waiting_at(summer) == ["standard"]
