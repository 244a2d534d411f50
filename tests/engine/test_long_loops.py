"""Loops that go round thousands of times and chains of thousands of tasks run to the right end."""

from __future__ import annotations

import pytest

from engine import live, prune, spiff
from engine.deploy import specs_for
from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance
from engine.runtime import cancel_instance, complete_human_task, start_instance
from tests.engine import bpmn


def loop_process(times: int, body: str, process_id: str = "looping") -> bytes:
    """start → `i = 0` → `body` (element id `step`) → `count` (i += 1) → gateway: i < times back to `step`,
    otherwise user task `after` → end."""
    content = (
        bpmn.start_event()
        + bpmn.script_task("init", "i = 0")
        + body
        + bpmn.script_task("count", "i = i + 1")
        + bpmn.exclusive_gateway("again", default="to_after")
        + bpmn.user_task("after")
        + bpmn.end_event()
        + bpmn.flow("f0", "start", "init")
        + bpmn.flow("f1", "init", "step")
        + bpmn.flow("f2", "step", "count")
        + bpmn.flow("f3", "count", "again")
        + bpmn.flow("back", "again", "step", f"i < {times}")
        + bpmn.flow("to_after", "again", "after")
        + bpmn.flow("f4", "after", "end")
    )
    return bpmn.definitions(process_id, content)


def script_loop(times: int) -> bytes:
    return loop_process(times, bpmn.script_task("step", "total = i * 2"))


def open_tasks(instance) -> list[str]:
    return sorted(instance.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True))


def test_a_script_loop_of_10000_rounds_reaches_the_task_after_it(deployed):
    deployed(script_loop(10_000))

    instance, _ = start_instance("looping", {})

    instance.refresh_from_db()
    assert instance.state == ProcessInstance.ACTIVE
    assert open_tasks(instance) == ["after"]
    assert instance.variables["i"] == 10_000
    assert instance.variables["total"] == 9_999 * 2
    assert instance.human_tasks.get().data["i"] == 10_000
    # Only what is still to come is stored, not ten thousand rounds.
    assert len(instance.state_json) < 20_000


def test_a_pruned_instance_reloads_and_finishes(deployed, user):
    deployed(script_loop(600))
    instance, _ = start_instance("looping", {})
    live.forget()

    instance = complete_human_task(instance.human_tasks.get(), user, {"checked": True})

    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["i"] == 600
    assert instance.variables["checked"] is True


def test_the_pruned_state_round_trips_through_the_serializer(deployed):
    definition = deployed(script_loop(700))
    instance, _ = start_instance("looping", {})
    instance.refresh_from_db()
    specs = specs_for(definition)

    workflow = spiff.load_workflow(specs, instance.state_json)

    assert spiff.dump_workflow(workflow) == instance.state_json
    [after] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "after"]
    assert after.data["i"] == 700


def test_a_user_task_completed_1000_times_in_a_loop_ends_after_the_last(deployed, user):
    deployed(loop_process(1_000, bpmn.user_task("step", fields=("note",))))
    instance, _ = start_instance("looping", {})

    for round_number in range(1_000):
        task = instance.human_tasks.get(state=HumanTask.OPEN)
        assert task.element_id == "step"
        assert task.data["i"] == round_number
        if round_number % 250 == 0:
            live.forget()  # some rounds start from the stored state
        complete_human_task(task, user, {"note": f"round {round_number}"})

    instance.refresh_from_db()
    assert open_tasks(instance) == ["after"]
    assert instance.variables["i"] == 1_000
    assert instance.variables["note"] == "round 999"
    assert instance.human_tasks.filter(element_id="step", state=HumanTask.COMPLETED).count() == 1_000
    assert instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).count() == 1_000


@pytest.mark.django_db(transaction=True)
def test_a_service_call_loop_of_1000_rounds_runs_every_call_once(deployed, operation):
    calls = []
    operation("test.count_call", lambda call: calls.append(call.input["round"]) or {"seen": len(calls)})
    deployed(loop_process(1_000, bpmn.service_task("step", "test.count_call", {"round": "i"})))

    instance, _ = start_instance("looping", {})

    instance.refresh_from_db()
    assert calls == list(range(1_000))
    assert open_tasks(instance) == ["after"]
    assert instance.variables["result"] == {"seen": 1_000}
    assert Job.objects.filter(instance=instance, kind=Job.SERVICE, state=Job.DONE).count() == 1_000


def test_an_instance_in_a_long_loop_can_be_cancelled(deployed, user):
    deployed(loop_process(5_000, bpmn.user_task("step")))
    instance, _ = start_instance("looping", {})
    for _ in range(520):
        complete_human_task(instance.human_tasks.get(state=HumanTask.OPEN), user, {})

    cancel_instance(instance, user, "enough")

    instance.refresh_from_db()
    assert instance.state == ProcessInstance.CANCELLED
    assert not instance.human_tasks.filter(state=HumanTask.OPEN).exists()


def test_the_instance_page_shows_a_long_loop(deployed, admin_client):
    deployed(script_loop(2_000))
    instance, _ = start_instance("looping", {})

    response = admin_client.get(f"/processes/instances/{instance.pk}/")

    assert response.status_code == 200
    assert b"after" in response.content


def test_a_chain_of_10000_tasks_deploys_and_runs_to_its_end(deployed):
    steps = [bpmn.script_task(f"step_{n}", f"last = {n}") for n in range(10_000)]
    deployed(bpmn.chain("chained", *steps, bpmn.user_task("after")))

    instance, _ = start_instance("chained", {})

    instance.refresh_from_db()
    assert open_tasks(instance) == ["after"]
    assert instance.variables["last"] == 9_999


def test_an_instance_is_never_called_completed_while_a_task_is_still_to_run(deployed, monkeypatch):
    # Without pruning SpiffWorkflow loses sight of the loop after about 500 rounds.
    monkeypatch.setattr(prune, "MAX_DEPTH", 10**9)
    deployed(script_loop(600))

    instance, _ = start_instance("looping", {})

    instance.refresh_from_db()
    assert instance.state == ProcessInstance.FAILED
    incident = Incident.objects.get(instance=instance)
    assert "still has to run" in incident.message
    assert incident.element_id in {"step", "count", "again"}


@pytest.mark.parametrize("elements", [10, 5_000])
def test_deep_parsing_gives_the_answer_and_restores_the_recursion_limit(elements):
    import sys

    limit = sys.getrecursionlimit()

    def recurse(n):
        return 0 if n == 0 else 1 + recurse(n - 1)

    assert prune.with_deep_stack(lambda: recurse(elements * 2), elements) == elements * 2
    assert sys.getrecursionlimit() == limit


def test_only_large_files_are_parsed_on_a_thread_of_their_own():
    import threading

    assert prune.with_deep_stack(threading.current_thread, 50) is threading.current_thread()
    assert prune.with_deep_stack(threading.current_thread, 5_000) is not threading.current_thread()


def test_an_error_while_parsing_deeply_reaches_the_caller():
    def fail():
        raise ValueError("bad file")

    with pytest.raises(ValueError, match="bad file"):
        prune.with_deep_stack(fail, 5_000)


def subprocess_element(element_id: str, body: str) -> str:
    return f'    <bpmn:subProcess id="{element_id}" name="{element_id}">\n{body}    </bpmn:subProcess>\n'


def test_a_loop_inside_a_sub_process_runs_all_its_rounds(deployed):
    inner = (
        bpmn.start_event("inner_start") + bpmn.script_task("inner_init", "i = 0")
        + bpmn.script_task("inner_count", "i = i + 1") + bpmn.exclusive_gateway("inner_again", default="inner_out")
        + bpmn.end_event("inner_end")
        + bpmn.flow("g0", "inner_start", "inner_init") + bpmn.flow("g1", "inner_init", "inner_count")
        + bpmn.flow("g2", "inner_count", "inner_again") + bpmn.flow("g3", "inner_again", "inner_count", "i < 1500")
        + bpmn.flow("inner_out", "inner_again", "inner_end")
    )
    deployed(bpmn.chain("nested", subprocess_element("counting", inner), bpmn.user_task("after")))

    instance, _ = start_instance("nested", {})

    assert open_tasks(instance) == ["after"]
    assert instance.human_tasks.get().data["i"] == 1500


def test_a_loop_around_a_sub_process_runs_it_every_round(deployed):
    inner = (
        bpmn.start_event("inner_start") + bpmn.script_task("inner_add", "total = total + i")
        + bpmn.end_event("inner_end")
        + bpmn.flow("g0", "inner_start", "inner_add") + bpmn.flow("g1", "inner_add", "inner_end")
    )
    content = loop_process(800, subprocess_element("step", inner)).replace(
        b"i = 0</bpmn:script>", b"i = 0\ntotal = 0</bpmn:script>")
    deployed(content)

    instance, _ = start_instance("looping", {})

    instance.refresh_from_db()
    assert open_tasks(instance) == ["after"]
    assert instance.variables["total"] == sum(range(800))
    # Finished sub-processes are pruned with their tasks.
    assert len(instance.state_json) < 50_000


def parallel_loop(times: int, branch_a: str, branch_b: str) -> bytes:
    """start → i = 0 → split → `a` and `b` → join → i += 1 → back to split while i < times → `after` → end."""
    content = (
        bpmn.start_event() + bpmn.script_task("init", "i = 0")
        + '    <bpmn:parallelGateway id="split" />\n' + branch_a + branch_b
        + '    <bpmn:parallelGateway id="join" />\n'
        + bpmn.script_task("count", "i = i + 1") + bpmn.exclusive_gateway("again", default="to_after")
        + bpmn.user_task("after") + bpmn.end_event()
        + bpmn.flow("f0", "start", "init") + bpmn.flow("f1", "init", "split")
        + bpmn.flow("f2", "split", "a") + bpmn.flow("f3", "split", "b")
        + bpmn.flow("f4", "a", "join") + bpmn.flow("f5", "b", "join") + bpmn.flow("f6", "join", "count")
        + bpmn.flow("f7", "count", "again") + bpmn.flow("back", "again", "split", f"i < {times}")
        + bpmn.flow("to_after", "again", "after") + bpmn.flow("f8", "after", "end")
    )
    return bpmn.definitions("parallel", content)


def test_a_parallel_gateway_in_a_long_loop_joins_both_branches_every_round(deployed):
    deployed(parallel_loop(600, bpmn.script_task("a", "seen_a = i"), bpmn.script_task("b", "seen_b = i")))

    instance, _ = start_instance("parallel", {})

    data = instance.human_tasks.get(element_id="after").data
    # The count after the join ran once per round. (Which branch's value survives the join in a loop
    # is SpiffWorkflow's own merge order, the same in a loop of three rounds.)
    assert data["i"] == 600
    assert data["seen_b"] == 599 and "seen_a" in data


def test_parallel_user_tasks_in_a_loop_wait_for_each_other_every_round(deployed, user):
    deployed(parallel_loop(40, bpmn.user_task("a"), bpmn.user_task("b")))
    instance, _ = start_instance("parallel", {})

    for round_number in range(40):
        assert open_tasks(instance) == ["a", "b"]
        complete_human_task(instance.human_tasks.get(element_id="a", state=HumanTask.OPEN), user, {})
        assert open_tasks(instance) == ["b"]
        complete_human_task(instance.human_tasks.get(element_id="b", state=HumanTask.OPEN), user,
                            {"round": round_number})

    assert open_tasks(instance) == ["after"]
    assert instance.human_tasks.get(element_id="after").data["round"] == 39


def test_a_timer_on_a_task_in_a_long_loop_still_fires(deployed, user):
    from datetime import timedelta

    from django.utils import timezone

    from engine.jobs import run_due_work

    content = loop_process(1_000, bpmn.user_task("step") + bpmn.timer_boundary("late", "step", "PT1H")
                           + bpmn.user_task("escalate") + bpmn.end_event("end_late")
                           + bpmn.flow("f9", "late", "escalate") + bpmn.flow("f10", "escalate", "end_late"))
    deployed(content)
    instance, _ = start_instance("looping", {})
    for _ in range(60):
        complete_human_task(instance.human_tasks.get(state=HumanTask.OPEN), user, {})

    run_due_work(now=timezone.now() + timedelta(hours=2))

    assert open_tasks(instance) == ["escalate"]
    assert instance.human_tasks.get(element_id="escalate").data["i"] == 60


def deploy_call_into_a_long_chain(before_call: str = "") -> None:
    """Process "outer": start, `before_call` (a user task's id, or nothing), a call of a 3 000-task chain, end."""
    from engine.deploy import deploy

    inner = "".join(bpmn.script_task(f"s{n}", f"last = {n}") for n in range(3_000))
    ids = ["inner_start", *(f"s{n}" for n in range(3_000)), "inner_end"]
    inner_body = bpmn.start_event("inner_start") + inner + bpmn.end_event("inner_end") + "".join(
        bpmn.flow(f"g{n}", a, b) for n, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    steps = ["start", *([before_call] if before_call else []), "call", "end"]
    outer_body = (bpmn.start_event() + (bpmn.user_task(before_call) if before_call else "")
                  + '    <bpmn:callActivity id="call" name="Run inner" calledElement="inner" />\n'
                  + bpmn.end_event() + "".join(bpmn.flow(f"f{n}", a, b) for n, (a, b) in enumerate(
                      zip(steps, steps[1:], strict=False))))
    content = bpmn.definitions("outer", outer_body).replace(
        b"</bpmn:definitions>",
        f'  <bpmn:process id="inner" isExecutable="true">\n{inner_body}  </bpmn:process>\n</bpmn:definitions>'.encode())
    deploy(content, "calls.bpmn")


def test_a_call_into_a_process_too_long_to_set_up_fails_the_instance_naming_the_call(db):
    deploy_call_into_a_long_chain()

    instance, _ = start_instance("outer", {})

    instance.refresh_from_db()
    assert instance.state == ProcessInstance.FAILED
    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == "call"
    assert "recursion limit" in incident.message


def test_completing_a_task_that_leads_into_a_call_too_long_to_set_up_fails_the_instance_naming_the_call(db, user):
    deploy_call_into_a_long_chain(before_call="approve")
    instance, _ = start_instance("outer", {})

    complete_human_task(HumanTask.objects.get(instance=instance), user, {})

    instance.refresh_from_db()
    assert instance.state == ProcessInstance.FAILED
    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == "call"
    assert "recursion limit" in incident.message
