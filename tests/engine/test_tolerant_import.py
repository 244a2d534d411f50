"""What other modeling tools draw and Camunda 7 runs deploys and runs the same way here, with a warning."""

from __future__ import annotations

import pytest

from engine.deploy import deploy
from engine.models import HumanTask, ProcessInstance
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn, bpmn_extra

pytestmark = pytest.mark.django_db


def waiting_at(instance: ProcessInstance) -> list[str]:
    return sorted(instance.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True))


def with_positions(content: bytes, process_id: str, heights: dict[str, int]) -> bytes:
    """The file with a diagram placing each element at the given height (smaller is higher)."""
    shapes = "".join(
        f'<bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}">'
        f'<dc:Bounds x="100" y="{y}" width="100" height="80" /></bpmndi:BPMNShape>'
        for element, y in heights.items()
    )
    diagram = (
        '  <bpmndi:BPMNDiagram id="diagram" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
        ' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC">'
        f'<bpmndi:BPMNPlane id="plane" bpmnElement="{process_id}">{shapes}</bpmndi:BPMNPlane>'
        "</bpmndi:BPMNDiagram>\n</bpmn:definitions>"
    )
    return content.replace(b"</bpmn:definitions>", diagram.encode())


def two_way_gateway(first_condition: str | None, second_condition: str | None) -> bytes:
    """start → exclusive gateway `route` → `first` or `second` (flows in that file order) → ends."""
    body = (
        bpmn.start_event() + bpmn.exclusive_gateway("route") + bpmn.user_task("first") + bpmn.user_task("second")
        + bpmn.end_event("end_first") + bpmn.end_event("end_second")
        + bpmn.flow("to_route", "start", "route")
        + bpmn.flow("to_first", "route", "first", first_condition)
        + bpmn.flow("to_second", "route", "second", second_condition)
        + bpmn.flow("first_done", "first", "end_first") + bpmn.flow("second_done", "second", "end_second")
    )
    # `second` is drawn above `first`, so an engine trying flows top to bottom would get the order wrong.
    return with_positions(bpmn.definitions("routing", body), "routing", {"first": 300, "second": 100})


@pytest.mark.parametrize(("amount", "expected"), [(50, ["first"]), (5, ["second"])])
def test_a_gateway_flow_without_condition_is_taken_when_no_earlier_flow_holds(amount, expected):
    deployment = deploy(two_way_gateway("amount > 10", None), "drawn.bpmn")

    instance, _ = start_instance("routing", {"amount": amount})

    assert waiting_at(instance) == expected
    [warning] = deployment.warnings
    assert "'to_second'" in warning and "always true" in warning


def test_a_gateway_flow_without_condition_drawn_first_is_always_taken():
    deploy(two_way_gateway(None, "amount > 10"), "drawn.bpmn")

    instance, _ = start_instance("routing", {"amount": 50})

    assert waiting_at(instance) == ["first"]


def test_an_empty_sub_process_is_passed_through_with_a_warning():
    sub = '    <bpmn:subProcess id="repair" name="Emergency repair" />\n'
    deployment = deploy(bpmn.chain("fixing", sub, bpmn.user_task("after")), "drawn.bpmn")

    instance, _ = start_instance("fixing", {})

    assert waiting_at(instance) == ["after"]
    [warning] = deployment.warnings
    assert "'repair'" in warning and "passed through" in warning


def split_process(second_condition: str | None = None) -> bytes:
    """start → script task `prepare` with two outgoing flows → user tasks `pack` and `bill` → their ends."""
    body = (
        bpmn.start_event() + bpmn.script_task("prepare", "prepared = True")
        + bpmn.user_task("pack") + bpmn.user_task("bill") + bpmn.end_event("packed") + bpmn.end_event("billed")
        + bpmn.flow("to_prepare", "start", "prepare")
        + bpmn.flow("to_pack", "prepare", "pack") + bpmn.flow("to_bill", "prepare", "bill", second_condition)
        + bpmn.flow("pack_done", "pack", "packed") + bpmn.flow("bill_done", "bill", "billed")
    )
    return bpmn.definitions("shipping", body)


def test_an_activity_with_several_unconditional_flows_starts_them_all():
    deploy(split_process(), "drawn.bpmn")

    instance, _ = start_instance("shipping", {})

    assert waiting_at(instance) == ["bill", "pack"]


def test_both_branches_of_an_implicit_split_must_finish_before_the_instance_does(make_user):
    deploy(split_process(), "drawn.bpmn")
    instance, _ = start_instance("shipping", {})
    clerk = make_user("clerk", is_superuser=True)

    complete_human_task(instance.human_tasks.get(element_id="pack"), clerk, {})
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.ACTIVE and waiting_at(instance) == ["bill"]
    complete_human_task(instance.human_tasks.get(element_id="bill"), clerk, {})
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.COMPLETED


@pytest.mark.parametrize(("amount", "expected"), [(50, ["bill", "pack"]), (5, ["pack"])])
def test_a_conditional_flow_leaving_an_activity_is_taken_only_when_it_holds(amount, expected):
    deploy(split_process("amount > 10"), "drawn.bpmn")

    instance, _ = start_instance("shipping", {"amount": amount})

    assert waiting_at(instance) == expected


def test_an_empty_placeholder_process_is_skipped_with_a_warning():
    placeholder = '  <bpmn:process id="customer_pool" name="Customer" />\n'
    collaboration = (
        '  <bpmn:collaboration id="collab">\n'
        '    <bpmn:participant id="customer" name="Customer" processRef="customer_pool" />\n'
        '    <bpmn:participant id="us" name="Us" processRef="reviewing" />\n'
        "  </bpmn:collaboration>\n"
    )
    content = bpmn.chain("reviewing", bpmn.user_task("review"), extra=collaboration + placeholder)

    deployment = deploy(content, "drawn.bpmn")
    instance, _ = start_instance("reviewing", {})

    assert [d.process_id for d in deployment.definitions] == ["reviewing"]
    [warning] = deployment.warnings
    assert "'customer_pool'" in warning and "skipped" in warning
    assert waiting_at(instance) == ["review"]


def test_a_namespace_uri_with_spaces_is_accepted():
    content = bpmn.chain("reviewing", bpmn.user_task("review")).replace(
        b"<bpmn:definitions ", b'<bpmn:definitions xmlns:tool="http://example.com/Some Tool/1.0" ', 1)

    deploy(content, "drawn.bpmn")
    instance, _ = start_instance("reviewing", {})

    assert waiting_at(instance) == ["review"]


def test_a_data_association_of_a_user_task_is_ignored_with_a_warning(make_user):
    deployment = deploy(bpmn_extra.data_object_without_reference_process(), "drawn.bpmn")
    instance, _ = start_instance("direct_data", {})

    [warning] = deployment.warnings
    assert "'review'" in warning and "'order'" in warning and "ignored" in warning
    assert waiting_at(instance) == ["review"]
    complete_human_task(instance.human_tasks.get(), make_user("clerk", is_superuser=True), {"ok": True})
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.COMPLETED


@pytest.mark.parametrize("condition", [
    "${amount > 1000}", "${order.amount gt 1000 && !empty order.lines}", "= amount > 1000",
    "=order.amount > 1000 and order.lines[1] != null",
    "${execution.getVariable('amount') > 1000 && order.lines.size() > 0}",
    '= some line in order.lines satisfies line = "x" and order.amount between 1001 and 10000',
    "= if count(order.lines) > 0 then amount > 1000 else false",
])
@pytest.mark.parametrize(("amount", "expected"), [(1500, ["manager"]), (500, ["clerk"])])
def test_a_camunda_condition_routes_the_token_as_camunda_would(condition, amount, expected):
    deploy(bpmn.gateway_process(condition=condition), "drawn.bpmn")

    instance, _ = start_instance("routing", {"amount": amount, "order": {"amount": amount, "lines": ["x"]}})

    assert waiting_at(instance) == expected


def test_a_camunda_condition_is_stored_as_drawn():
    deployment = deploy(bpmn.gateway_process(condition="${amount gt 1000}"), "drawn.bpmn")

    assert "${amount gt 1000}" in deployment.definitions[0].bpmn_xml


def test_a_feel_condition_outside_the_subset_names_the_flow_and_what_to_do():
    from engine.deploy import DeployError

    with pytest.raises(DeployError) as caught:
        deploy(bpmn.gateway_process(condition="= for r in risks return r.level"), "drawn.bpmn")

    error = caught.value
    assert error.element_id == "to_manager"
    assert "FEEL" in error.message and "'for'" in error.message and "Python" in error.message


def assigned_process(assignee: str, groups: str) -> bytes:
    """start → user task `approve` assigned by Camunda attributes → end."""
    task = (f'    <bpmn:userTask id="approve" name="Approve" camunda:assignee="{assignee}"'
            f' camunda:candidateGroups="{groups}" />\n')
    return bpmn.chain("assigning", task)


def test_an_assignee_and_candidate_groups_written_in_juel_are_read_from_the_variables(make_user):
    boss = make_user("boss")
    deploy(assigned_process("${approver}", "${order.teams}"), "drawn.bpmn")

    instance, _ = start_instance("assigning", {"approver": "boss", "order": {"teams": ["Finance", "Manager"]}})

    task = instance.human_tasks.get()
    assert task.assignee == boss
    assert task.candidate_groups == ["Finance", "Manager"]


def test_an_assignee_whose_variable_is_missing_leaves_the_task_unassigned_in_its_groups():
    deploy(assigned_process("${approver}", "Finance"), "drawn.bpmn")

    instance, _ = start_instance("assigning", {})

    task = instance.human_tasks.get()
    assert task.assignee is None and task.candidate_groups == ["Finance"]


def test_an_assignee_expression_outside_the_subset_is_refused_naming_the_task():
    from engine.deploy import DeployError

    with pytest.raises(DeployError) as caught:
        deploy(assigned_process("${users.pick(order)}", "Finance"), "drawn.bpmn")

    assert caught.value.element_id == "approve"
    assert "camunda:assignee" in caught.value.message and "method calls" in caught.value.message


def test_a_timer_written_in_juel_reads_its_duration_from_the_variables():
    from datetime import timedelta

    from django.utils import timezone

    from engine.jobs import run_due_work

    # As Camunda Modeler writes it: the expression itself, not quoted.
    deploy(bpmn.timer_boundary_process().replace(b'"PT1H"', b"${wait}"), "drawn.bpmn")
    now = timezone.now()
    instance, _ = start_instance("timed", {"wait": "PT2H"})

    assert run_due_work(now=now + timedelta(hours=1)) == 0
    assert run_due_work(now=now + timedelta(hours=2, seconds=1)) == 1
    assert waiting_at(instance) == ["escalate"]
