"""DMN decision tables: each hit policy and result mapping decides a running process's path and data."""

from __future__ import annotations

import pytest

from engine.deploy import DeployError, deploy, deploy_files, validate
from engine.models import DecisionDefinition, Incident, ProcessDefinition, ProcessInstance
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn, dmn
from tests.engine.test_modeler_files import FOLDER, needs_files

# Overlapping rules: a gold customer ordering over 1000 matches both.
OVERLAPPING = [(['"gold"', "-"], ["0.1"]), (["-", "> 1000"], ["0.2"])]


def run(table: bytes, task: str, condition: str, variables: dict) -> ProcessInstance:
    """Deploy the table with a process routing on its result, start it, and return the instance."""
    deploy_files([("rules.dmn", table), ("pricing.bpmn", dmn.routed_process(task, condition))])
    instance, _ = start_instance("pricing", variables)
    instance.refresh_from_db()
    return instance


def waiting_at(instance: ProcessInstance) -> list[str]:
    return [t.element_id for t in instance.human_tasks.filter(state="open")]


def failed_with(instance: ProcessInstance) -> str:
    assert instance.state == ProcessInstance.FAILED
    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == "decide"
    return incident.message


def discount_task(mapping: str = "singleEntry") -> str:
    return dmn.rule_task("decide", "discount", result_variable="discount", mapping=mapping)


# --- Hit policies ---------------------------------------------------------------------------------------------------


def test_unique_takes_the_one_matching_rule(db):
    table = dmn.table("discount", [(['"gold","platinum"', "> 1000"], ["0.1"]), (['"silver"', "-"], ["0.05"]),
                                   (["-", "<= 1000"], ["0"])])

    gold = run(table, discount_task(), "discount >= 0.1", {"status": "platinum", "amount": 1500})
    silver = start_instance("pricing", {"status": "silver", "amount": 1500})[0]

    assert waiting_at(gold) == ["special"] and gold.variables["discount"] == 0.1
    silver.refresh_from_db()
    assert waiting_at(silver) == ["standard"] and silver.variables["discount"] == 0.05


def test_unique_with_two_matching_rules_is_an_incident_naming_the_decision(db):
    instance = run(dmn.table("discount", OVERLAPPING), discount_task(), "discount > 0", {"status": "gold",
                                                                                       "amount": 1500})

    message = failed_with(instance)
    assert "'discount'" in message and "UNIQUE" in message
    assert "'Rule_1'" in message and "'Rule_2'" in message


def test_first_takes_the_first_matching_rule_in_table_order(db):
    instance = run(dmn.table("discount", OVERLAPPING, hit_policy="FIRST"), discount_task(), "discount > 0.15",
                   {"status": "gold", "amount": 1500})

    assert instance.variables["discount"] == 0.1
    assert waiting_at(instance) == ["standard"]


def test_priority_takes_the_matching_rule_whose_output_comes_first_in_the_output_values(db):
    table = dmn.table("discount", [(["-", "> 1000"], ['"medium"']), (['"new"', "-"], ['"high"']),
                                   (["-", "-"], ['"low"'])],
                      hit_policy="PRIORITY", outputs=[("risk", '"high","medium","low"')])
    task = dmn.rule_task("decide", "discount", result_variable="risk", mapping="singleEntry")

    instance = run(table, task, 'risk == "high"', {"status": "new", "amount": 5000})
    known = start_instance("pricing", {"status": "known", "amount": 5000})[0]

    assert instance.variables["risk"] == "high" and waiting_at(instance) == ["special"]
    known.refresh_from_db()
    assert known.variables["risk"] == "medium" and waiting_at(known) == ["standard"]


def test_any_accepts_matching_rules_that_agree(db):
    table = dmn.table("discount", [(['"gold"', "-"], ["0.1"]), (["-", "> 1000"], ["0.1"])], hit_policy="ANY")

    instance = run(table, discount_task(), "discount > 0", {"status": "gold", "amount": 1500})

    assert instance.variables["discount"] == 0.1 and waiting_at(instance) == ["special"]


def test_any_with_matching_rules_that_disagree_is_an_incident(db):
    instance = run(dmn.table("discount", OVERLAPPING, hit_policy="ANY"), discount_task(), "discount > 0",
                   {"status": "gold", "amount": 1500})

    message = failed_with(instance)
    assert "'discount'" in message and "ANY" in message and "different outputs" in message


COLLECTED = [(["-", "> 100"], ["10"]), (["-", "> 1000"], ["20"]), (['"gold"', "-"], ["5"])]


def test_collect_gives_every_matching_rules_output(db):
    instance = run(dmn.table("discount", COLLECTED, hit_policy="COLLECT"), discount_task("collectEntries"),
                   "len(discount) == 3", {"status": "gold", "amount": 1500})

    assert instance.variables["discount"] == [10, 20, 5]
    assert waiting_at(instance) == ["special"]


@pytest.mark.parametrize(("aggregation", "expected"), [("SUM", 35), ("MIN", 5), ("MAX", 20), ("COUNT", 3)])
def test_collect_aggregates_the_matching_outputs(db, aggregation, expected):
    table = dmn.table("discount", COLLECTED, hit_policy="COLLECT", aggregation=aggregation)

    instance = run(table, discount_task(), f"discount == {expected}", {"status": "gold", "amount": 1500})

    assert instance.variables["discount"] == expected
    assert waiting_at(instance) == ["special"]


def test_collect_count_with_no_match_is_zero_and_sum_is_nothing(db):
    count = run(dmn.table("discount", COLLECTED, hit_policy="COLLECT", aggregation="COUNT"), discount_task(),
                "discount == 0", {"status": "new", "amount": 50})
    assert count.variables["discount"] == 0 and waiting_at(count) == ["special"]

    deploy(dmn.table("discount", COLLECTED, hit_policy="COLLECT", aggregation="SUM"), "rules.dmn")
    total = start_instance("pricing", {"status": "new", "amount": 50})[0]
    total.refresh_from_db()
    assert total.variables["discount"] is None and waiting_at(total) == ["standard"]


def test_rule_order_gives_every_matching_rule_in_table_order(db):
    table = dmn.table("discount", [(["-", "> 1000"], ["20", '"big order"']), (['"gold"', "-"], ["5", '"loyal"'])],
                      hit_policy="RULE ORDER", outputs=["discount", "reason"])
    task = dmn.rule_task("decide", "discount", result_variable="offers")

    instance = run(table, task, 'offers[0]["reason"] == "big order"', {"status": "gold", "amount": 1500})

    assert instance.variables["offers"] == [{"discount": 20, "reason": "big order"},
                                            {"discount": 5, "reason": "loyal"}]
    assert waiting_at(instance) == ["special"]


def test_output_order_sorts_the_matches_by_their_output_values(db):
    table = dmn.table("discount", [(["-", "-"], ['"low"']), (["-", "> 1000"], ['"high"'])],
                      hit_policy="OUTPUT ORDER", outputs=[("risk", '"high","low"')])
    task = dmn.rule_task("decide", "discount", result_variable="risks", mapping="collectEntries")

    instance = run(table, task, 'risks[0] == "high"', {"status": "gold", "amount": 1500})

    assert instance.variables["risks"] == ["high", "low"] and waiting_at(instance) == ["special"]


# --- Result mappings ------------------------------------------------------------------------------------------------

TWO_OUTPUTS = dmn.table("discount", [(['"gold"', "-"], ["0.1", '"loyal"']), (["-", "> 1000"], ["0.2", '"big"'])],
                        hit_policy="COLLECT", outputs=["discount", "reason"])


def test_single_entry_is_the_value_itself(db):
    instance = run(dmn.table("discount", OVERLAPPING, hit_policy="FIRST"), discount_task("singleEntry"),
                   "discount == 0.1", {"status": "gold", "amount": 10})

    assert instance.variables["discount"] == 0.1 and waiting_at(instance) == ["special"]


def test_single_entry_with_no_matching_rule_is_nothing(db):
    instance = run(dmn.table("discount", OVERLAPPING, hit_policy="FIRST"), discount_task("singleEntry"),
                   "discount is not None", {"status": "silver", "amount": 10})

    assert instance.variables["discount"] is None and waiting_at(instance) == ["standard"]


def test_single_result_is_the_one_rules_outputs_by_name(db):
    table = dmn.table("discount", [(['"gold"', "-"], ["0.1", '"loyal"'])], outputs=["discount", "reason"])
    task = dmn.rule_task("decide", "discount", result_variable="offer", mapping="singleResult")

    instance = run(table, task, 'offer["reason"] == "loyal"', {"status": "gold", "amount": 10})

    assert instance.variables["offer"] == {"discount": 0.1, "reason": "loyal"}
    assert waiting_at(instance) == ["special"]


def test_collect_entries_is_a_list_of_values(db):
    instance = run(dmn.table("discount", COLLECTED, hit_policy="COLLECT"), discount_task("collectEntries"),
                   "5 in discount", {"status": "gold", "amount": 500})

    assert instance.variables["discount"] == [10, 5] and waiting_at(instance) == ["special"]


def test_result_list_is_every_result_with_its_outputs_by_name(db):
    task = dmn.rule_task("decide", "discount", result_variable="offers", mapping="resultList")

    instance = run(TWO_OUTPUTS, task, "len(offers) == 2", {"status": "gold", "amount": 1500})

    assert instance.variables["offers"] == [{"discount": 0.1, "reason": "loyal"}, {"discount": 0.2, "reason": "big"}]
    assert waiting_at(instance) == ["special"]


def test_the_result_list_is_the_default_mapping(db):
    task = dmn.rule_task("decide", "discount", result_variable="offers")

    instance = run(TWO_OUTPUTS, task, "len(offers) == 2", {"status": "silver", "amount": 1500})

    assert instance.variables["offers"] == [{"discount": 0.2, "reason": "big"}]
    assert waiting_at(instance) == ["standard"]


def test_single_result_of_several_results_is_an_incident(db):
    task = dmn.rule_task("decide", "discount", result_variable="offer", mapping="singleResult")

    message = failed_with(run(TWO_OUTPUTS, task, "True", {"status": "gold", "amount": 1500}))

    assert "'discount'" in message and "singleResult" in message


def test_single_entry_of_a_result_with_two_outputs_is_an_incident(db):
    task = dmn.rule_task("decide", "discount", result_variable="offer", mapping="singleEntry")

    message = failed_with(run(TWO_OUTPUTS, task, "True", {"status": "gold", "amount": 10}))

    assert "'discount'" in message and "singleEntry" in message


def test_a_decision_after_a_wait_decides_with_the_data_entered_there(db):
    deploy(dmn.table("discount", OVERLAPPING, hit_policy="FIRST"), "rules.dmn")
    body = (bpmn.start_event() + bpmn.flow("f0", "start", "enter") + bpmn.user_task("enter")
            + bpmn.flow("f1", "enter", "decide") + discount_task() + bpmn.flow("f2", "decide", "end")
            + bpmn.end_event())
    deploy(bpmn.definitions("pricing", body), "pricing.bpmn")
    instance, _ = start_instance("pricing", {"status": "silver"})

    complete_human_task(instance.human_tasks.get(), None, {"amount": 5000})

    instance.refresh_from_db()
    assert instance.state == ProcessInstance.COMPLETED and instance.variables["discount"] == 0.2


def test_the_incident_of_a_failed_decision_says_which_task_and_decision(db):
    instance = run(dmn.table("discount", OVERLAPPING), discount_task(), "True", {"status": "gold", "amount": 1500})

    assert instance.error.startswith("Decide (decide): decision 'discount' has hit policy UNIQUE")


def test_a_spiff_business_rule_task_merges_the_result_into_the_variables(db):
    table = dmn.table("discount", [(['"gold"', "-"], ["0.1", '"loyal"'])], outputs=["discount", "reason"])

    instance = run(table, dmn.spiff_rule_task("decide", "discount"), 'reason == "loyal"',
                   {"status": "gold", "amount": 10})

    assert instance.variables["discount"] == 0.1 and instance.variables["reason"] == "loyal"
    assert waiting_at(instance) == ["special"]


def test_a_camunda_task_without_result_variable_keeps_nothing_and_says_so_at_deploy(db):
    deploy(dmn.table("discount", OVERLAPPING, hit_policy="FIRST"), "rules.dmn")
    task = dmn.rule_task("decide", "discount", result_variable=None)

    deployment = deploy(dmn.routed_process(task, "True"), "pricing.bpmn")
    instance, _ = start_instance("pricing", {"status": "gold", "amount": 10})

    assert any("'decide'" in w and "resultVariable" in w for w in deployment.warnings)
    instance.refresh_from_db()
    assert "discount" not in instance.variables and waiting_at(instance) == ["special"]


# --- Input entries as Camunda Modeler writes them -------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "value", "matches"), [
    ('"gold","platinum"', "platinum", True),
    ('"gold","platinum"', "silver", False),
    ("-", "anything", True),
    ("", "anything", True),
    ("> 1000", 1500, True),
    ("> 1000", 1000, False),
    ("> 1000", None, False),
    ("<= 1000", 1000, True),
    ("[0..1000]", 1000, True),
    ("[0..1000]", 1000.5, False),
    ("]0..10[", 0, False),
    ("]0..10[", 5, True),
    ("]0..10[", 10, False),
    ("[1..10)", 10, False),
    ('not("x")', "y", True),
    ('not("x")', "x", False),
    ('not("a","b")', "b", False),
    ('not("a"),"b"', "b", True),
    ('not("a"),"b"', "a", False),
    ("10", 10, True),
    ("true", True, True),
    ("< limit", 3, True),
    ('date("2024-01-01")', "2024-01-01", True),
    ('[date("2024-01-01")..date("2024-12-31")]', "2024-06-30", True),
    ('[date("2024-01-01")..date("2024-12-31")]', "2025-01-01", False),
    ("${cellInput > 3}", 4, True),
])
def test_input_entries_as_the_modeler_writes_them_decide_the_path(db, entry, value, matches):
    table = dmn.table("check", [([entry], ['"yes"']), (["-"], ['"no"'])], hit_policy="FIRST",
                      inputs=[("Value", "value")], outputs=["answer"])
    task = dmn.rule_task("decide", "check", result_variable="answer", mapping="singleEntry")

    instance = run(table, task, 'answer == "yes"', {"value": value, "limit": 5})

    assert instance.state == ProcessInstance.ACTIVE, instance.error
    assert instance.variables["answer"] == ("yes" if matches else "no")
    assert waiting_at(instance) == (["special"] if matches else ["standard"])


def test_an_input_expression_reads_a_property_path(db):
    table = dmn.table("check", [(['"gold"'], ['"yes"'])], inputs=[("Status", "customer.status")],
                      outputs=["answer"])
    task = dmn.rule_task("decide", "check", result_variable="answer", mapping="singleEntry")

    instance = run(table, task, 'answer == "yes"', {"customer": {"status": "gold"}})

    assert waiting_at(instance) == ["special"]


def test_an_entry_outside_the_subset_is_refused_naming_decision_rule_and_column(db):
    table = dmn.table("discount", [(['"gold"', 'matches(".*")'], ["0.1"])])

    with pytest.raises(DeployError) as caught:
        deploy(table, "rules.dmn")

    error = caught.value
    assert "'discount'" in error.message and "'Rule_1'" in error.message and "'Amount'" in error.message
    assert error.element_id == "UnaryTests_1_2"
    assert error.line == next(i for i, line in enumerate(table.decode().splitlines(), 1) if "UnaryTests_1_2" in line)
    assert not DecisionDefinition.objects.exists()


@pytest.mark.parametrize("entry", ['__import__("os")', "for x in y return x > 1", "> 1000 >", "[1..]"])
def test_entries_reaching_past_the_subset_are_refused_at_deploy(db, entry):
    with pytest.raises(DeployError) as caught:
        deploy(dmn.table("discount", [(['"gold"', entry], ["0.1"])]), "rules.dmn")

    assert "'discount'" in caught.value.message and "'Rule_1'" in caught.value.message
    assert "'Amount'" in caught.value.message


def test_an_output_computed_from_the_variables_is_decided_in_the_sandbox(db):
    table = dmn.table("discount", [(["-", "> 1000"], ["amount * 0.1"])], hit_policy="FIRST")

    instance = run(table, discount_task(), "discount > 100", {"status": "gold", "amount": 1500})

    assert instance.variables["discount"] == 150.0 and waiting_at(instance) == ["special"]


def test_a_missing_input_variable_is_an_incident_naming_the_decision_and_input(db):
    instance = run(dmn.table("discount", OVERLAPPING, hit_policy="FIRST"), discount_task(), "True",
                   {"status": "gold"})

    message = failed_with(instance)
    assert "'discount'" in message and "'Amount'" in message


def test_a_dmn_1_1_table_decides_as_well(db):
    table = dmn.table("discount", OVERLAPPING, hit_policy="FIRST", namespace=dmn.DMN11)

    instance = run(table, discount_task(), "discount == 0.1", {"status": "gold", "amount": 10})

    assert waiting_at(instance) == ["special"]


# --- Deploying and versions -----------------------------------------------------------------------------------------


def test_a_business_rule_task_whose_decision_is_not_deployed_is_refused_naming_the_task(db):
    content = dmn.routed_process(dmn.rule_task("decide", "nowhere"), "True")

    with pytest.raises(DeployError) as caught:
        deploy(content, "pricing.bpmn")

    assert caught.value.element_id == "decide" and "'nowhere'" in caught.value.message
    assert caught.value.line == next(i for i, line in enumerate(content.decode().splitlines(), 1)
                                     if 'id="decide"' in line)
    assert not ProcessDefinition.objects.exists()


def test_a_business_rule_task_naming_no_decision_is_refused(db):
    with pytest.raises(DeployError) as caught:
        deploy(dmn.routed_process(dmn.rule_task("decide", ""), "True"), "pricing.bpmn")

    assert caught.value.element_id == "decide" and "names no decision" in caught.value.message


def test_a_decision_deployed_before_the_process_is_found(db):
    deploy(dmn.table("discount", OVERLAPPING, hit_policy="FIRST"), "rules.dmn")

    deployment = deploy(dmn.routed_process(discount_task(), "discount > 0"), "pricing.bpmn")

    assert deployment.created and deployment.decisions == []


def test_an_upload_with_a_refused_process_stores_none_of_its_decisions(db):
    with pytest.raises(DeployError):
        deploy_files([("rules.dmn", dmn.table("discount", OVERLAPPING)),
                      ("pricing.bpmn", dmn.routed_process(discount_task(), "discount >"))])

    assert not DecisionDefinition.objects.exists() and not ProcessDefinition.objects.exists()


def test_a_decision_gets_a_new_version_only_when_its_file_changes(db):
    first = deploy(dmn.table("discount", OVERLAPPING), "rules.dmn")
    again = deploy(dmn.table("discount", OVERLAPPING), "rules.dmn")
    changed = deploy(dmn.table("discount", OVERLAPPING, hit_policy="FIRST"), "rules.dmn")

    assert (first.created, first.decisions[0].version) == (True, 1)
    assert (again.created, again.decisions[0].pk) == (False, first.decisions[0].pk)
    assert (changed.created, changed.decisions[0].version, changed.decisions[0].hit_policy) == (True, 2, "FIRST")


def test_a_process_decides_with_the_latest_version_when_the_task_runs(db):
    run(dmn.table("discount", [(["-", "-"], ["0.1"])]), discount_task(), "True", {"status": "a", "amount": 1})

    deploy(dmn.table("discount", [(["-", "-"], ["0.3"])]), "rules.dmn")
    instance, _ = start_instance("pricing", {"status": "a", "amount": 1})

    instance.refresh_from_db()
    assert instance.variables["discount"] == 0.3


def test_a_task_bound_to_one_version_keeps_deciding_with_it(db):
    deploy(dmn.table("discount", [(["-", "-"], ["0.1"])]), "rules.dmn")
    deploy(dmn.table("discount", [(["-", "-"], ["0.3"])]), "rules.dmn")
    task = dmn.rule_task("decide", "discount", result_variable="discount", mapping="singleEntry",
                         decisionRefBinding="version", decisionRefVersion="1")

    deploy(dmn.routed_process(task, "True"), "pricing.bpmn")
    instance, _ = start_instance("pricing", {"status": "a", "amount": 1})

    instance.refresh_from_db()
    assert instance.variables["discount"] == 0.1


def test_process_test_cases_decide_with_the_decisions_of_the_same_upload(db):
    files = [("rules.dmn", dmn.table("discount", OVERLAPPING, hit_policy="FIRST")),
             ("pricing.bpmn", dmn.routed_process(discount_task(), "discount > 0.15"))]
    case = {"name": "big order", "variables": {"status": "silver", "amount": 1500},
            "expect": {"waiting": ["special"], "variables": {"discount": 0.2}}}

    deployment = deploy_files(files, tests=[case])
    with pytest.raises(DeployError) as caught:
        deploy_files(files, tests=[{**case, "expect": {"waiting": ["standard"]}}])

    assert deployment.created and [d.decision_id for d in deployment.decisions] == ["discount"]
    assert "'big order'" in caught.value.message


def test_a_file_with_two_decisions_deploys_both(db):
    second = ('  <decision id="risk" name="Risk">\n    <decisionTable id="Table_risk">\n'
              '      <input id="R_in" label="Amount"><inputExpression id="R_ex"><text>amount</text>'
              '</inputExpression></input>\n      <output id="R_out" name="risk" />\n'
              '      <rule id="R_1"><inputEntry id="R_1_1"><text>-</text></inputEntry>'
              '<outputEntry id="R_1_2"><text>"low"</text></outputEntry></rule>\n'
              "    </decisionTable>\n  </decision>\n")

    deployment = deploy(dmn.table("discount", OVERLAPPING, extra_decision=second), "rules.dmn")

    assert sorted(d.decision_id for d in deployment.decisions) == ["discount", "risk"]


# --- Bad files ------------------------------------------------------------------------------------------------------


def test_malformed_dmn_is_refused_with_its_line(db):
    with pytest.raises(DeployError) as caught:
        deploy(dmn.table("discount", OVERLAPPING).replace(b"</rule>", b"</rul>", 1), "rules.dmn")

    assert caught.value.line and "Malformed XML" in caught.value.message


def test_dmn_that_breaks_the_schema_is_refused_with_its_line(db):
    content = dmn.table("discount", OVERLAPPING).replace(b'<rule id="Rule_1">', b'<rule id="Rule_1"><bogus/>')

    with pytest.raises(DeployError) as caught:
        deploy(content, "rules.dmn")

    assert "Not valid DMN" in caught.value.message
    assert caught.value.line == next(i for i, line in enumerate(content.decode().splitlines(), 1) if "bogus" in line)


def test_dmn_of_a_version_not_read_is_refused_saying_which_to_save_as(db):
    content = dmn.table("discount", OVERLAPPING, namespace="https://www.omg.org/spec/DMN/20230324/MODEL/")

    with pytest.raises(DeployError) as caught:
        deploy(content, "rules.dmn")

    assert "DMN 1.3" in caught.value.message


def test_dmn_with_entities_is_refused(db):
    content = dmn.table("discount", OVERLAPPING).replace(
        b"<definitions", b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<definitions', 1)

    with pytest.raises(DeployError) as caught:
        deploy(content, "rules.dmn")

    assert "DOCTYPE" in caught.value.message


def test_a_rule_with_too_few_entries_is_refused_naming_it(db):
    with pytest.raises(DeployError) as caught:
        deploy(dmn.table("discount", [(['"gold"'], ["0.1"])]), "rules.dmn")

    assert caught.value.element_id == "Rule_1" and "'discount'" in caught.value.message


def test_priority_without_output_values_is_refused(db):
    with pytest.raises(DeployError) as caught:
        deploy(dmn.table("discount", OVERLAPPING, hit_policy="PRIORITY"), "rules.dmn")

    assert "'discount'" in caught.value.message and "output values" in caught.value.message


def test_two_bpmn_files_in_one_upload_are_refused(db):
    content = bpmn.user_task_process()

    with pytest.raises(DeployError) as caught:
        deploy_files([("a.bpmn", content), ("b.bpmn", content)])

    assert "one BPMN file" in caught.value.message


@needs_files
@pytest.mark.parametrize(("name", "task"), [("C.7.0.bpmn", "_eae674ce-4d6e-48ac-819c-c79e0868e40d"),
                                            ("C.8.1.bpmn", "_1a818a94-ba6f-413b-a7e8-6f8fd2a11e32")])
def test_the_reference_files_business_rule_tasks_are_refused_for_naming_no_decision(db, name, task):
    problems = validate((FOLDER / name).read_bytes(), name)["problems"]

    assert any("names no decision" in p["message"] and "camunda:decisionRef" in p["message"]
               for p in problems if p["element_id"] == task)
