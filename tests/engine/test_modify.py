"""An operator moves tokens back a step, ahead past one, or off one branch; the instance then runs to its end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.connectors import BusinessError
from engine.jobs import run_due_work
from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance
from engine.modify import ModifyError, modify_instance
from engine.repairs import suspend_instance
from engine.runtime import InstanceNotActive, cancel_instance, complete_human_task, start_instance
from tests.engine import bpmn


def open_tasks(instance) -> list[str]:
    return sorted(instance.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True))


def complete(instance, element_id: str, user, data: dict | None = None) -> ProcessInstance:
    return complete_human_task(instance.human_tasks.get(element_id=element_id, state=HumanTask.OPEN), user, data or {})


@pytest.fixture
def two_steps(deployed):
    deployed(bpmn.user_task_process(tasks=("review", "confirm")))
    started, _ = start_instance("reviewing", {"amount": 10})
    return started


def test_a_token_sent_back_a_step_runs_that_step_again_and_the_instance_ends(two_steps, user):
    complete(two_steps, "review", user, {"approved": "yes"})
    first_review = two_steps.human_tasks.get(element_id="review")

    instance = modify_instance(two_steps, user, cancel=["confirm"], start_before=["review"],
                               reason="Review missed the discount")

    assert open_tasks(instance) == ["review"]
    assert instance.human_tasks.get(element_id="confirm").state == HumanTask.CANCELLED
    again = instance.human_tasks.get(element_id="review", state=HumanTask.OPEN)
    assert again.pk != first_review.pk and again.data["approved"] == "yes"
    complete(instance, "review", user)
    instance = complete(instance, "confirm", user)
    assert instance.state == ProcessInstance.COMPLETED


def test_a_token_skipped_ahead_leaves_the_step_undone_and_the_instance_ends(two_steps, user):
    instance = modify_instance(two_steps, user, cancel=["review"], start_before=["confirm"], reason="Approved by phone",
                               variables={"approved": "phone"})

    assert open_tasks(instance) == ["confirm"]
    assert instance.human_tasks.get(element_id="confirm").data["approved"] == "phone"
    instance = complete(instance, "confirm", user)
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["approved"] == "phone"
    assert not instance.history.filter(kind=HistoryEvent.TASK_COMPLETED, element_id="review").exists()


def test_one_branch_of_a_parallel_split_cancelled_lets_the_other_branch_go_on_to_the_end(deployed, user):
    deployed(bpmn.parallel_process())
    instance, _ = start_instance("parallel", {})
    assert open_tasks(instance) == ["credit", "stock"]

    instance = modify_instance(instance, user, cancel=["stock"], start_before=[], reason="Stock checked by phone")

    assert open_tasks(instance) == ["credit"]
    instance = complete(instance, "credit", user)
    assert open_tasks(instance) == ["ship"]
    instance = complete(instance, "ship", user)
    assert instance.state == ProcessInstance.COMPLETED


def test_a_branch_cancelled_after_the_other_arrived_at_the_join_releases_it_at_once(deployed, user):
    deployed(bpmn.parallel_process())
    instance, _ = start_instance("parallel", {})
    complete(instance, "credit", user)

    instance = modify_instance(instance, user, cancel=["stock"], start_before=[], reason="Not needed")

    assert open_tasks(instance) == ["ship"]
    assert instance.history.get(kind=HistoryEvent.TOKENS_MOVED).data["released_joins"] == ["join"]


def test_a_branch_sent_back_inside_itself_still_holds_the_join(deployed, user):
    deployed(bpmn.parallel_process())
    instance, _ = start_instance("parallel", {})
    complete(instance, "credit", user)

    instance = modify_instance(instance, user, cancel=["stock"], start_before=["stock"], reason="Count again")

    assert open_tasks(instance) == ["stock"]
    instance = complete(instance, "stock", user)
    assert open_tasks(instance) == ["ship"]


def test_moving_a_token_off_a_task_with_a_timer_cancels_the_timer_and_a_new_one_starts_with_it(deployed, user):
    deployed(bpmn.timer_boundary_process(duration="PT1H"))
    instance, _ = start_instance("timed", {})
    old_timer = Job.objects.get(instance=instance, kind=Job.TIMER)

    instance = modify_instance(instance, user, cancel=["review"], start_before=["review"], reason="Restart the clock")

    assert Job.objects.get(pk=old_timer.pk).state == Job.CANCELLED
    new_timer = Job.objects.get(instance=instance, kind=Job.TIMER, state=Job.PENDING)
    assert new_timer.task_id != old_timer.task_id
    run_due_work(now=timezone.now() + timedelta(hours=2))
    instance.refresh_from_db()
    assert open_tasks(instance) == ["escalate"]
    instance = complete(instance, "escalate", user)
    assert instance.state == ProcessInstance.COMPLETED


def test_moving_a_failed_call_on_closes_its_incident(deployed, operation, user):
    def refuse(call):
        raise BusinessError("No such customer")

    operation("test.refuse", refuse)
    deployed(bpmn.service_process("test.refuse", retries=1))
    instance, _ = start_instance("servicing", {})
    run_due_work(now=timezone.now())
    incident = Incident.objects.get(instance=instance)

    instance = modify_instance(instance, user, cancel=["call"], start_before=["after"], reason="Customer made by hand")

    incident.refresh_from_db()
    assert incident.state == Incident.RESOLVED and incident.resolution == Incident.CANCELLED
    assert open_tasks(instance) == ["after"]
    assert complete(instance, "after", user).state == ProcessInstance.COMPLETED


def test_the_history_says_who_moved_what_and_why(two_steps, user):
    modify_instance(two_steps, user, cancel=["review"], start_before=["confirm"], reason="Approved by phone")

    event = two_steps.history.get(kind=HistoryEvent.TOKENS_MOVED)
    assert event.user == user
    assert event.data == {"reason": "Approved by phone", "cancelled": ["review"], "started_before": ["confirm"],
                          "released_joins": [], "variables": {}}


@pytest.mark.parametrize(("cancel", "start", "field", "named"), [
    (["nowhere"], ["confirm"], "cancel", "nowhere"),
    (["review"], ["nowhere"], "start_before", "nowhere"),
    (["confirm"], ["review"], "cancel", "confirm"),  # no token at confirm
    (["review"], [], "cancel", "no token would be left"),
])
def test_a_refused_move_names_the_element_and_changes_nothing(two_steps, user, cancel, start, field, named):
    with pytest.raises(ModifyError, match=named) as refused:
        modify_instance(two_steps, user, cancel=cancel, start_before=start, reason="try")

    assert refused.value.field == field
    instance = ProcessInstance.objects.get(pk=two_steps.pk)
    assert open_tasks(instance) == ["review"] and instance.version == two_steps.version
    assert not instance.history.filter(kind=HistoryEvent.TOKENS_MOVED).exists()


def test_a_boundary_event_is_refused_naming_the_task_it_belongs_to(deployed, user):
    deployed(bpmn.timer_boundary_process())
    instance, _ = start_instance("timed", {})

    with pytest.raises(ModifyError, match="review_timer is a boundary event"):
        modify_instance(instance, user, cancel=["review_timer"], start_before=[], reason="x")


def test_a_move_needs_a_reason(two_steps, user):
    with pytest.raises(ModifyError, match="reason"):
        modify_instance(two_steps, user, cancel=["review"], start_before=["confirm"], reason=" ")


def test_a_suspended_or_ended_instance_keeps_its_tokens(two_steps, user):
    suspend_instance(two_steps, user, "hold")
    with pytest.raises(InstanceNotActive, match="resume it first"):
        modify_instance(two_steps, user, cancel=["review"], start_before=["confirm"], reason="x")
    cancel_instance(two_steps, user, "gone")
    with pytest.raises(InstanceNotActive, match="cancelled"):
        modify_instance(two_steps, user, cancel=["review"], start_before=["confirm"], reason="x")
