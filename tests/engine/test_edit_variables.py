"""An operator fixes a wrong variable of a running instance; the history says who, why, and what it was before."""

from __future__ import annotations

import pytest

from engine.models import HistoryEvent, ProcessInstance
from engine.repairs import edit_variables, suspend_instance
from engine.runtime import InstanceNotActive, InvalidVariables, cancel_instance, complete_human_task, start_instance
from tests.engine import bpmn


@pytest.fixture
def instance(deployed):
    deployed(bpmn.user_task_process(tasks=("review", "confirm")))
    started, _ = start_instance("reviewing", {"customer": "C-1", "amount": 10, "note": "typo"})
    return started


def test_set_and_removed_variables_carry_on_through_the_process(instance, user):
    instance = edit_variables(instance, user, {"amount": 12, "region": "north"}, ["note"], "Customer called")

    assert instance.variables == {"customer": "C-1", "amount": 12, "region": "north"}
    assert instance.human_tasks.get().data == {"customer": "C-1", "amount": 12, "region": "north"}
    complete_human_task(instance.human_tasks.get(), user, {})
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert after.variables["amount"] == 12 and "note" not in after.variables


def test_the_history_keeps_who_why_and_the_old_and_new_values(instance, user):
    edit_variables(instance, user, {"amount": 12, "region": "north"}, ["note"], "Customer called")

    event = instance.history.get(kind=HistoryEvent.VARIABLES_CHANGED)
    assert event.user == user
    assert event.data == {
        "reason": "Customer called",
        "set": {"amount": {"old": 10, "new": 12}, "region": {"old": None, "new": "north"}},
        "unset": {"note": "typo"},
    }


@pytest.mark.parametrize(("values", "names", "named"), [
    ({"2nd": 1}, [], "set.2nd"),
    ({"_hidden": 1}, [], "set._hidden"),
    ({"amount": float("nan")}, [], "set.amount"),
    ({}, ["nothing_here"], "nothing_here"),
    ({"amount": 1}, ["amount"], "amount"),
])
def test_bad_names_or_values_are_refused_naming_them_and_nothing_changes(instance, user, values, names, named):
    with pytest.raises(InvalidVariables, match=named):
        edit_variables(instance, user, values, names, "fix")

    after = ProcessInstance.objects.get(pk=instance.pk)
    assert after.variables == {"customer": "C-1", "amount": 10, "note": "typo"}
    assert after.history.filter(kind=HistoryEvent.VARIABLES_CHANGED).count() == 0


def test_a_suspended_instance_can_be_fixed_but_an_ended_one_cannot(instance, user):
    suspend_instance(instance, user, "hold while we fix the amount")
    assert edit_variables(instance, user, {"amount": 11}, [], "fix").variables["amount"] == 11

    cancel_instance(instance, user, "gone")
    with pytest.raises(InstanceNotActive, match="cancelled"):
        edit_variables(instance, user, {"amount": 12}, [], "too late")
