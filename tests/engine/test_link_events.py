"""A link throw event goes on at the link catch event of the same name in the same process level."""

from __future__ import annotations

import pytest

from engine.deploy import DeployError, deploy
from engine.models import HumanTask, ProcessInstance
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn_extra
from tests.engine import bpmn_semantics as sem


def open_task(instance) -> HumanTask:
    return instance.human_tasks.get(state=HumanTask.OPEN)



def test_a_link_throw_goes_on_at_its_catch(deployed, user):
    deployed(bpmn_extra.link_process())
    instance, _ = start_instance("linked", {"order": "A-1"})
    assert open_task(instance).element_id == "first"

    instance = complete_human_task(open_task(instance), user, {"ok": True})
    assert open_task(instance).element_id == "second"
    assert instance.state == ProcessInstance.ACTIVE

    instance = complete_human_task(open_task(instance), user, {})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables == {"order": "A-1", "ok": True}


@pytest.mark.parametrize(("amount", "review", "route"), [(5000, "big_review", "big"), (10, "small_review", "small")])
def test_each_link_throw_reaches_the_catch_of_its_own_name(deployed, user, amount, review, route):
    deployed(sem.link_pairs_process())
    instance, _ = start_instance("routed_by_links", {"amount": amount, "rounds": 0})

    task = open_task(instance)
    assert task.element_id == review
    instance.refresh_from_db()
    assert instance.variables["route"] == route


def test_two_throws_of_one_name_both_reach_its_catch(deployed, user):
    deployed(sem.link_pairs_process())
    instance, _ = start_instance("routed_by_links", {"amount": 10, "rounds": 0})

    instance = complete_human_task(open_task(instance), user, {"recheck": True})
    assert open_task(instance).element_id == "small_review"
    assert instance.variables["rounds"] == 2

    instance = complete_human_task(open_task(instance), user, {"recheck": False})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.outcome == "end_small"
    assert instance.variables["rounds"] == 2


def test_a_link_inside_a_sub_process_goes_on_inside_it(deployed, user):
    deployed(sem.link_in_subprocess_process())
    instance, _ = start_instance("linked_inside", {})
    task = open_task(instance)
    assert task.element_id == "inside"

    instance = complete_human_task(task, user, {})
    assert open_task(instance).element_id == "after"
    assert instance.variables["x"] == 1


def test_a_link_throw_without_a_catch_of_its_name_is_refused_naming_it(db):
    content = sem.link_in_subprocess_process(catch_name="elsewhere")
    with pytest.raises(DeployError) as caught:
        deploy(content, "linked.bpmn")

    error = caught.value
    assert error.element_id == "jump"
    assert "'inner'" in error.message and "'elsewhere'" in error.message
    assert error.line == next(i for i, line in enumerate(content.decode().splitlines(), 1) if 'id="jump"' in line)
    assert not ProcessInstance.objects.exists()


def test_a_link_catch_on_another_level_does_not_count(db):
    with pytest.raises(DeployError) as caught:
        deploy(sem.link_to_other_level_process(), "linked.bpmn")

    assert caught.value.element_id == "jump"
    assert "no link catch event at this level" in caught.value.message
