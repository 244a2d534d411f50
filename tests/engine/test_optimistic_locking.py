"""Every write checks the instance version: a concurrent change means retry on fresh state, or Conflict."""

from __future__ import annotations

import pytest
from django.db.models import F
from SpiffWorkflow.util.task import TaskState

from engine.models import HistoryEvent, HumanTask, ProcessInstance
from engine.runtime import Conflict, record_event, start_instance, write_instance
from tests.engine import bpmn


@pytest.fixture
def waiting(deployed, user):
    """An instance waiting at `review`, with `sign_off` after it."""
    deployed(bpmn.user_task_process(tasks=("review", "sign_off")))

    instance, _ = start_instance("reviewing", {})
    return instance


def concurrent_writer(instance_id: int) -> None:
    """What another process committing a write to the instance looks like from here."""
    ProcessInstance.objects.filter(pk=instance_id).update(version=F("version") + 1)


def complete_review(calls: list, conflicts: int):
    """A change that completes `review`; the first `conflicts` calls meet a concurrent writer."""

    def change(instance, workflow):
        calls.append(instance.version)
        task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "review")
        task.set_data(approved=True)
        task.run()
        # As complete_human_task does: the path that completes a task closes its row.
        HumanTask.objects.filter(instance_id=instance.pk, element_id="review").update(state=HumanTask.COMPLETED)
        record_event(instance, HistoryEvent.TASK_COMPLETED, "review")
        if len(calls) <= conflicts:
            concurrent_writer(instance.pk)
        return "done"

    return change


def test_a_write_that_meets_a_concurrent_change_is_retried_on_fresh_state(waiting):
    calls: list[int] = []

    result = write_instance(waiting.pk, complete_review(calls, conflicts=1))

    assert result == "done"
    assert len(calls) == 2
    waiting.refresh_from_db()
    assert waiting.version == 2
    assert waiting.history.filter(kind=HistoryEvent.TASK_COMPLETED).count() == 1
    assert list(waiting.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True)) == ["sign_off"]
    assert waiting.human_tasks.filter(element_id="sign_off").count() == 1


def test_a_write_that_always_conflicts_raises_and_leaves_nothing_behind(waiting):
    before = ProcessInstance.objects.get(pk=waiting.pk)
    history_before = list(waiting.history.values_list("pk", flat=True))
    calls: list[int] = []

    with pytest.raises(Conflict):
        write_instance(waiting.pk, complete_review(calls, conflicts=99), attempts=3)

    assert len(calls) == 3
    after = ProcessInstance.objects.get(pk=waiting.pk)
    assert (after.version, after.state_json, after.variables) == (before.version, before.state_json, before.variables)
    assert list(waiting.history.values_list("pk", flat=True)) == history_before
    assert list(waiting.human_tasks.values_list("element_id", "state")) == [("review", HumanTask.OPEN)]


def test_a_stale_save_is_refused(waiting):
    def change(instance, workflow):
        # Someone saved between our load and our save.
        concurrent_writer(instance.pk)

    with pytest.raises(Conflict):
        write_instance(waiting.pk, change, attempts=1)

    waiting.refresh_from_db()
    assert waiting.version == 1
