"""Event sub-processes wait, beside their process level, for a message, timer, signal or error, then run.

An interrupting one cancels the level's open work (its rows closed) and ends it; a
non-interrupting one runs beside it. Their subscriptions and timer jobs exist
exactly while the level runs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine import spiff
from engine.deploy import DeployError, deploy, specs_for
from engine.jobs import run_due_work
from engine.messages import Message, send_message, send_signal
from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance, Subscription
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn
from tests.engine import bpmn_semantics as sem


def open_tasks(instance) -> list[str]:
    return sorted(instance.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True))


def task(instance, element_id: str) -> HumanTask:
    return instance.human_tasks.get(state=HumanTask.OPEN, element_id=element_id)


def cancel_order(instance) -> None:
    answer = send_message(Message(name="order cancelled", business_key=instance.business_key,
                                  variables={"reason": "customer called"}))
    assert answer.body == {"instances": [instance.pk]}


def subscriptions(instance) -> list[tuple[str, str]]:
    return sorted(Subscription.objects.filter(instance=instance).values_list("kind", "element_id"))


def pending_timers(instance) -> list[str]:
    return list(instance.jobs.filter(kind=Job.TIMER, state=Job.PENDING).values_list("element_id", flat=True))


def test_a_message_event_subprocess_is_subscribed_while_the_process_runs(deployed, user):
    deployed(sem.with_event_subprocess(sem.MESSAGE, interrupting=True))
    instance, _ = start_instance("ordering", {"order": "A-1"}, business_key="A-1")

    assert open_tasks(instance) == ["review"]
    assert subscriptions(instance) == [("message", "caught")]

    instance = complete_human_task(task(instance, "review"), user, {"approved": True})
    assert instance.state == ProcessInstance.COMPLETED
    assert subscriptions(instance) == []
    assert instance.outcome == "end"


def test_an_interrupting_message_event_subprocess_cancels_the_process_and_takes_over(deployed, user):
    deployed(sem.with_event_subprocess(sem.MESSAGE, interrupting=True))
    instance, _ = start_instance("ordering", {"order": "A-1"}, business_key="A-1")
    review = task(instance, "review")

    cancel_order(instance)

    review.refresh_from_db()
    assert review.state == HumanTask.CANCELLED
    assert open_tasks(instance) == ["handle"]
    assert subscriptions(instance) == []
    # The event sub-process sees the variables as they are, and what the message brought.
    handle = task(instance, "handle")
    instance = complete_human_task(handle, user, {"refunded": True})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.outcome == "handler_end"
    assert instance.variables == {"order": "A-1", "step": "open", "reason": "customer called", "refunded": True}
    completed = list(instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).values_list("element_id", flat=True))
    assert completed == ["handle"]


def test_a_non_interrupting_message_event_subprocess_runs_beside_the_process_each_time(deployed, user):
    deployed(sem.with_event_subprocess(sem.MESSAGE, interrupting=False))
    instance, _ = start_instance("ordering", {"order": "A-1"}, business_key="A-1")

    cancel_order(instance)
    assert open_tasks(instance) == ["handle", "review"]
    assert subscriptions(instance) == [("message", "caught")]
    cancel_order(instance)
    assert open_tasks(instance) == ["handle", "handle", "review"]

    instance = complete_human_task(task(instance, "review"), user, {"approved": True})
    # The level runs until its event sub-processes have ended, and waits for the message meanwhile.
    assert instance.state == ProcessInstance.ACTIVE
    assert subscriptions(instance) == [("message", "caught")]
    for each in instance.human_tasks.filter(state=HumanTask.OPEN, element_id="handle"):
        instance = complete_human_task(each, user, {"noted": True})
    assert instance.state == ProcessInstance.COMPLETED
    assert subscriptions(instance) == []
    assert instance.variables["approved"] is True and instance.variables["noted"] is True


@pytest.mark.parametrize("interrupting", [True, False], ids=["interrupting", "non-interrupting"])
def test_a_timer_event_subprocess_has_a_timer_job_while_the_process_runs(deployed, user, interrupting):
    deployed(sem.timer_event_subprocess(interrupting))
    now = timezone.now()
    instance, _ = start_instance("reminding", {})
    [job] = instance.jobs.filter(kind=Job.TIMER)
    assert (job.element_id, job.state) == ("caught", Job.PENDING)
    assert now + timedelta(minutes=59) < job.due_at < timezone.now() + timedelta(minutes=61)

    assert run_due_work(now=now + timedelta(minutes=59)) == 0
    assert run_due_work(now=now + timedelta(hours=1, seconds=1)) == 1

    assert open_tasks(instance) == (["handle"] if interrupting else ["handle", "review"])
    assert pending_timers(instance) == []


def test_a_timer_event_subprocess_is_cancelled_when_the_process_ends_first(deployed, user):
    deployed(sem.timer_event_subprocess(interrupting=True))
    instance, _ = start_instance("reminding", {})

    instance = complete_human_task(task(instance, "review"), user, {})

    assert instance.state == ProcessInstance.COMPLETED
    assert instance.jobs.get(kind=Job.TIMER).state == Job.CANCELLED
    assert run_due_work(now=timezone.now() + timedelta(hours=2)) == 0


@pytest.mark.parametrize("interrupting", [True, False], ids=["interrupting", "non-interrupting"])
def test_a_signal_event_subprocess_is_subscribed_and_started_by_the_signal(deployed, user, interrupting):
    deployed(sem.with_event_subprocess(sem.SIGNAL, interrupting))
    instance, _ = start_instance("ordering", {})
    assert subscriptions(instance) == [("signal", "caught")]

    assert send_signal("recall", {"batch": 7}).body == {"instances": [instance.pk]}

    assert open_tasks(instance) == (["handle"] if interrupting else ["handle", "review"])
    assert subscriptions(instance) == ([] if interrupting else [("signal", "caught")])
    instance.refresh_from_db()
    assert instance.variables["batch"] == 7


@pytest.mark.parametrize(("in_stock", "waiting"), [(True, ["ship"]), (False, ["handle"])])
def test_an_error_event_subprocess_catches_an_error_thrown_in_the_process(deployed, user, in_stock, waiting):
    deployed(sem.error_event_subprocess())
    instance, _ = start_instance("stocking", {"in_stock": in_stock})

    assert open_tasks(instance) == waiting
    assert instance.state == ProcessInstance.ACTIVE
    instance = complete_human_task(instance.human_tasks.get(state=HumanTask.OPEN), user, {})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.outcome == ("end" if in_stock else "handler_end")
    assert instance.variables["step"] == "open"


def test_an_event_subprocess_of_a_sub_process_waits_only_while_that_sub_process_runs(deployed, user):
    deployed(sem.event_subprocess_in_subprocess())
    instance, _ = start_instance("nested_events", {}, business_key="N-1")
    assert subscriptions(instance) == [("message", "caught")]

    instance = complete_human_task(task(instance, "inner"), user, {})
    assert open_tasks(instance) == ["after"]
    assert subscriptions(instance) == []
    assert send_message(Message(name="order cancelled", business_key="N-1")).status == 404


def test_an_interrupting_event_subprocess_of_a_sub_process_ends_only_that_sub_process(deployed, user):
    deployed(sem.event_subprocess_in_subprocess())
    instance, _ = start_instance("nested_events", {}, business_key="N-1")

    cancel_order(instance)
    assert open_tasks(instance) == ["handle"]

    instance = complete_human_task(task(instance, "handle"), user, {})
    assert open_tasks(instance) == ["after"]
    instance = complete_human_task(task(instance, "after"), user, {})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["reason"] == "customer called"


def test_a_connector_error_without_a_boundary_starts_the_error_event_subprocess(deployed, user):
    deployed(sem.failing_call_with_error_event_subprocess())
    instance, _ = start_instance("calling", {})

    run_due_work(now=timezone.now())

    assert instance.jobs.get(kind=Job.SERVICE).state == Job.DONE
    assert not Incident.objects.exists()
    assert open_tasks(instance) == ["handle"]
    instance = complete_human_task(task(instance, "handle"), user, {})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["error"]["code"] == "OUT_OF_STOCK"
    assert instance.variables["step"] == "open"


def test_a_non_interrupting_timer_cycle_starts_the_event_subprocess_each_round(deployed, user):
    deployed(sem.with_event_subprocess(sem.ev.timer("timeCycle", "R2/PT1H"), interrupting=False, process_id="nagging"))
    now = timezone.now()
    instance, _ = start_instance("nagging", {})

    assert run_due_work(now=now + timedelta(hours=1, seconds=1)) == 1
    assert open_tasks(instance) == ["handle", "review"]
    assert pending_timers(instance) == ["caught"]
    assert run_due_work(now=now + timedelta(hours=2, seconds=2)) == 1
    assert open_tasks(instance) == ["handle", "handle", "review"]
    assert pending_timers(instance) == []

    instance = complete_human_task(task(instance, "review"), user, {})
    for each in instance.human_tasks.filter(state=HumanTask.OPEN):
        instance = complete_human_task(each, user, {})
    assert instance.state == ProcessInstance.COMPLETED


def test_an_interrupting_timer_cycle_interrupts_at_its_first_round(deployed, user):
    deployed(sem.with_event_subprocess(sem.ev.timer("timeCycle", "R3/PT1H"), interrupting=True, process_id="nagging"))
    now = timezone.now()
    instance, _ = start_instance("nagging", {})

    assert run_due_work(now=now + timedelta(hours=1, seconds=1)) == 1

    assert open_tasks(instance) == ["handle"]
    assert pending_timers(instance) == []
    instance = complete_human_task(task(instance, "handle"), user, {})
    assert instance.state == ProcessInstance.COMPLETED


@pytest.mark.parametrize(("definition", "interrupting", "words"), [
    ("", True, "with no event"),
    ('<bpmn:escalationEventDefinition escalationRef="Escalation_1" />', True, "with escalation"),
    (sem.ERROR, False, "non-interrupting error start event"),
], ids=["none", "escalation", "non-interrupting-error"])
def test_an_event_subprocess_lanebridge_cannot_start_is_refused_naming_its_start(db, definition, interrupting, words):
    content = sem.with_event_subprocess(definition, interrupting)
    with pytest.raises(DeployError) as caught:
        deploy(content, "drawn.bpmn")

    assert caught.value.element_id == "caught"
    assert words in caught.value.message
    assert 'id="caught"' in content.decode().splitlines()[caught.value.line - 1]


def test_an_interrupting_event_subprocess_cancels_a_pending_call_and_timer_of_the_process(deployed, user):
    body = (bpmn.start_event() + bpmn.service_task("call", "test.reject") + bpmn.timer_boundary("late", "call")
            + bpmn.end_event() + bpmn.end_event("end_late")
            + bpmn.flow("f1", "start", "call") + bpmn.flow("f2", "call", "end") + bpmn.flow("f3", "late", "end_late")
            + sem.event_subprocess("handler", "caught", sem.MESSAGE, True, inner=bpmn.user_task("handle")))
    deployed(bpmn.definitions("calling", body, extra=sem.DECLARATIONS))
    instance, _ = start_instance("calling", {}, business_key="C-1")
    assert sorted(instance.jobs.values_list("kind", "state")) == [(Job.SERVICE, Job.PENDING), (Job.TIMER, Job.PENDING)]

    send_message(Message(name="order cancelled", business_key="C-1"))

    assert sorted(instance.jobs.values_list("kind", "state")) == [(Job.SERVICE, Job.CANCELLED),
                                                                 (Job.TIMER, Job.CANCELLED)]
    assert open_tasks(instance) == ["handle"]
    assert run_due_work(now=timezone.now() + timedelta(hours=2)) == 0


def counting_process(definition: str, process_id: str = "counting") -> bytes:
    """start → script step='open' → user task `review` → end; non-interrupting event sub-process `handler`
    started by `definition`: start `caught` → script `count` (runs += 1, last = reason) → end."""
    esp = sem.event_subprocess("handler", "caught", definition, False,
                               inner=bpmn.script_task("count", "runs = runs + 1\nlast = reason"))
    return bpmn.chain(process_id, bpmn.script_task("open", "step = 'open'"), bpmn.user_task("review"),
                      extra_body=esp, extra=sem.DECLARATIONS)


def workflow_size(instance) -> tuple[int, int]:
    """(tasks in the instance's workflow, characters of its stored state)."""
    instance.refresh_from_db()
    workflow = spiff.load_workflow(specs_for(instance.definition), instance.state_json)
    return len(workflow.get_tasks()), len(instance.state_json)


def deliver(kind: str, number: int) -> None:
    reason = f"call {number}"
    if kind == "message":
        answer = send_message(Message(name="order cancelled", business_key="A-1", variables={"reason": reason}))
        assert answer.status == 200
    else:
        assert send_signal("recall", {"reason": reason}).body["instances"]


@pytest.mark.parametrize("kind", ["message", "signal"])
def test_thirty_runs_of_a_non_interrupting_event_subprocess_leave_the_workflow_as_small_as_one(deployed, user, kind):
    deployed(counting_process(sem.MESSAGE if kind == "message" else sem.SIGNAL))
    instance, _ = start_instance("counting", {"runs": 0}, business_key="A-1")
    deliver(kind, 1)
    tasks_after_one, size_after_one = workflow_size(instance)

    for number in range(2, 31):
        deliver(kind, number)

    tasks, size = workflow_size(instance)
    assert tasks == tasks_after_one
    assert size < size_after_one + 100  # the same tasks; only the numbers in them are longer
    # Each run saw what the runs before it set, and the process has what the last one set.
    assert (instance.variables["runs"], instance.variables["last"]) == (30, "call 30")
    assert instance.history.filter(kind=kind, element_id="caught").count() == 30
    # It still waits for the next one.
    assert subscriptions(instance) == [(kind, "caught")]
    deliver(kind, 31)
    instance = complete_human_task(task(instance, "review"), user, {"approved": True})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables == {"runs": 31, "last": "call 31", "reason": "call 31", "step": "open",
                                  "approved": True}


def test_an_ended_run_hands_the_process_only_what_it_changed_and_keeps_its_rows(deployed, user):
    esp = sem.event_subprocess("handler", "caught", sem.MESSAGE, False, inner=bpmn.user_task("handle"))
    deployed(bpmn.chain("ordering", bpmn.script_task("open", "step = 'open'"), bpmn.user_task("review"),
                        bpmn.user_task("approve"), extra_body=esp, extra=sem.DECLARATIONS))
    instance, _ = start_instance("ordering", {}, business_key="A-1")
    untouched, _ = start_instance("ordering", {}, business_key="B-1")
    untouched = complete_human_task(task(untouched, "review"), user, {"step": "reviewed"})
    cancel_order(instance)
    # The run started when step was 'open'; the process moves on and changes it meanwhile.
    instance = complete_human_task(task(instance, "review"), user, {"step": "reviewed"})
    assert workflow_size(instance)[0] > workflow_size(untouched)[0]

    instance = complete_human_task(task(instance, "handle"), user, {"noted": True})

    assert open_tasks(instance) == ["approve"]
    # No larger than an instance that never got the message.
    assert workflow_size(instance)[0] <= workflow_size(untouched)[0]
    assert instance.variables == {"step": "reviewed", "reason": "customer called", "noted": True}
    handled = instance.human_tasks.get(element_id="handle")
    assert (handled.state, handled.submitted_data) == (HumanTask.COMPLETED, {"noted": True})
    completed = list(instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).values_list("element_id", flat=True))
    assert completed == ["review", "handle"]
    instance = complete_human_task(task(instance, "approve"), user, {})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables == {"step": "reviewed", "reason": "customer called", "noted": True}


def test_the_ended_rounds_of_a_non_interrupting_timer_cycle_are_cut_from_the_workflow(deployed, user):
    deployed(counting_process(sem.ev.timer("timeCycle", "R5/PT1H"), process_id="nagging"))
    now = timezone.now()
    instance, _ = start_instance("nagging", {"runs": 0, "reason": "cycle"})
    assert run_due_work(now=now + timedelta(hours=1, seconds=1)) == 1
    tasks_after_one, _ = workflow_size(instance)

    for hour in range(2, 5):
        assert run_due_work(now=now + timedelta(hours=hour, seconds=hour)) == 1

    assert workflow_size(instance)[0] == tasks_after_one
    instance.refresh_from_db()
    assert instance.variables["runs"] == 4
    assert pending_timers(instance) == ["caught"]
    assert run_due_work(now=now + timedelta(hours=5, seconds=5)) == 1
    assert pending_timers(instance) == []
    instance = complete_human_task(task(instance, "review"), user, {})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["runs"] == 5


def test_a_long_loop_beside_an_event_subprocess_runs_to_its_end_with_a_small_tree(deployed, user):
    body = (bpmn.start_event() + bpmn.script_task("init", "i = 0") + bpmn.script_task("count", "i = i + 1")
            + bpmn.exclusive_gateway("again", default="to_review") + bpmn.user_task("review") + bpmn.end_event()
            + bpmn.flow("f1", "start", "init") + bpmn.flow("f2", "init", "count") + bpmn.flow("f3", "count", "again")
            + bpmn.flow("back", "again", "count", "i < 2000") + bpmn.flow("to_review", "again", "review")
            + bpmn.flow("f4", "review", "end")
            + sem.event_subprocess("handler", "caught", sem.MESSAGE, False, inner=bpmn.user_task("handle")))
    deployed(bpmn.definitions("looping", body, extra=sem.DECLARATIONS))

    instance, _ = start_instance("looping", {}, business_key="A-1")

    # SpiffWorkflow stops seeing tasks 1000 levels down: unpruned, the loop would halt at round 333.
    instance.refresh_from_db()
    assert open_tasks(instance) == ["review"]
    assert instance.variables["i"] == 2000
    assert len(instance.state_json) < 20_000
    cancel_order(instance)
    assert open_tasks(instance) == ["handle", "review"]
