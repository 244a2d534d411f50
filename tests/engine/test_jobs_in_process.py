"""Without a broker, jobs run in the process that wrote them, right after the write commits.

These tests commit for real (transactional_db): what they check happens at commit.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from engine import jobs, spiff
from engine.deploy import specs_for
from engine.models import HistoryEvent, Job, ProcessInstance
from engine.runtime import cancel_instance, start_instance
from tests.engine import bpmn

pytestmark = pytest.mark.django_db(transaction=True)


def looping_process(times: int) -> bytes:
    """start → call `test.count` → n += 1 → back to the call while n < times → end."""
    body = (
        bpmn.start_event()
        + bpmn.script_task("init", "n = 0")
        + bpmn.service_task("call", "test.count", {"n": "n"})
        + bpmn.script_task("next", "n = n + 1")
        + bpmn.exclusive_gateway("again", default="done")
        + bpmn.end_event()
        + bpmn.flow("f1", "start", "init")
        + bpmn.flow("f2", "init", "call")
        + bpmn.flow("f3", "call", "next")
        + bpmn.flow("f4", "next", "again")
        + bpmn.flow("loop", "again", "call", f"n < {times}")
        + bpmn.flow("done", "again", "end")
    )
    return bpmn.definitions("looping", body)


def parallel_calls_process() -> bytes:
    """start → fork → calls `first` and `second` at once → join → end."""
    body = (
        bpmn.start_event()
        + '    <bpmn:parallelGateway id="fork" />\n'
        + bpmn.service_task("first", "test.first")
        + bpmn.service_task("second", "test.second")
        + '    <bpmn:parallelGateway id="join" />\n'
        + bpmn.end_event()
        + bpmn.flow("f1", "start", "fork")
        + bpmn.flow("f2", "fork", "first")
        + bpmn.flow("f3", "fork", "second")
        + bpmn.flow("f4", "first", "join")
        + bpmn.flow("f5", "second", "join")
        + bpmn.flow("f6", "join", "end")
    )
    return bpmn.definitions("parallel", body)


def test_a_write_claims_its_calls_in_the_same_commit(deployed, operation):
    seen = []

    def call(c):
        job = Job.objects.get(idempotency_key=c.idempotency_key)
        seen.append((job.state, job.attempts))
        return {"ok": True}

    operation("test.flaky", call)
    deployed(bpmn.service_process("test.flaky"))

    instance, _ = start_instance("servicing", {})

    # During the call the job was already ours: no second worker could take it.
    assert seen == [(Job.RUNNING, 1)]
    job = Job.objects.get(instance=instance)
    assert (job.state, job.attempts, job.locked_until) == (Job.DONE, 1, None)
    kinds = list(instance.history.values_list("kind", flat=True))
    assert kinds == [HistoryEvent.STARTED, HistoryEvent.SERVICE_ATTEMPT, HistoryEvent.SERVICE_RESULT,
                     HistoryEvent.TASK_READY]


def test_a_long_chain_of_calls_runs_one_after_another(deployed, operation):
    calls = []
    operation("test.count", lambda c: calls.append(c.input["n"]) or {"n": c.input["n"]})
    deployed(looping_process(300))

    instance, _ = start_instance("looping", {})

    # Each call is dispatched by the commit of the one before; they must not nest.
    assert instance.state == ProcessInstance.COMPLETED, instance.error
    assert calls == list(range(300))
    assert set(instance.jobs.values_list("state", "attempts")) == {(Job.DONE, 1)}


def test_a_claimed_call_that_waited_is_not_made_once_its_instance_was_cancelled(deployed, operation, monkeypatch):
    # Every queued call counts as having waited, so its row is checked before the call.
    monkeypatch.setattr(jobs, "FRESH_CLAIM", timedelta(0))
    made = []

    def first(c):
        made.append("first")
        # Someone cancels the instance while `second` waits behind this call.
        cancel_instance(ProcessInstance.objects.get(pk=c.instance_id))
        return {}

    operation("test.first", first)
    operation("test.second", lambda c: made.append("second") or {})
    deployed(parallel_calls_process())

    instance, _ = start_instance("parallel", {})

    assert made == ["first"]
    assert instance.state == ProcessInstance.CANCELLED
    assert instance.jobs.get(element_id="second").state == Job.CANCELLED


def test_a_claimed_call_that_waited_renews_its_lease_and_runs(deployed, operation, monkeypatch):
    monkeypatch.setattr(jobs, "FRESH_CLAIM", timedelta(0))
    made = []
    operation("test.first", lambda c: made.append("first") or {})
    operation("test.second", lambda c: made.append("second") or {})
    deployed(parallel_calls_process())

    instance, _ = start_instance("parallel", {})

    assert sorted(made) == ["first", "second"]
    assert instance.state == ProcessInstance.COMPLETED
    assert set(instance.jobs.values_list("state", "attempts")) == {(Job.DONE, 1)}


def test_a_refusal_reached_on_an_outdated_kept_workflow_is_retried_on_fresh_state(deployed):
    from engine import live
    from engine.models import HumanTask
    from engine.runtime import complete_human_task

    deployed(bpmn.user_task_process(tasks=("review", "sign_off")))
    instance, _ = start_instance("reviewing", {})
    kept, _, with_rows = live.workflows.entries[instance.pk]
    kept = copy.copy(kept)  # the write below updates the kept instance in place
    complete_human_task(instance.human_tasks.get(element_id="review"), None, {"approved": True})
    # As if another process had written that last step: this one still keeps the older state,
    # in which `sign_off` has not been reached yet.
    older = spiff.load_workflow(specs_for(kept.definition), kept.state_json)
    live.workflows.entries[instance.pk] = (kept, older, with_rows)

    after = complete_human_task(instance.human_tasks.get(element_id="sign_off"), None, {"approved": True})

    assert after.state == ProcessInstance.COMPLETED
    assert set(instance.human_tasks.values_list("state", flat=True)) == {HumanTask.COMPLETED}


def test_the_last_completion_answers_with_the_ended_instance_as_stored(deployed, operation):
    from engine.runtime import complete_human_task

    operation("test.ship", lambda c: {"shipment_id": 7})
    deployed(bpmn.chain("shipping", bpmn.user_task("review"), bpmn.service_task("ship", "test.ship")))
    instance, _ = start_instance("shipping", {})
    task = instance.human_tasks.get()

    # The call after the task ends the instance; the answer is that ended instance, not the one
    # the task's own write saved.
    returned = complete_human_task(task, None, {"approved": True})

    stored = ProcessInstance.objects.get(pk=instance.pk)
    assert returned.state == stored.state == ProcessInstance.COMPLETED
    assert (returned.version, returned.variables, returned.ended_at) == (
        stored.version, stored.variables, stored.ended_at)
    assert returned.variables["result"] == {"shipment_id": 7}
