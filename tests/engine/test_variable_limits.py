"""Variables have a size limit per value and per instance; what would break it is refused, never stored."""

from __future__ import annotations

import pytest

from engine.deploy import deploy
from engine.models import HumanTask, Incident, ProcessInstance
from engine.runtime import InvalidVariables, complete_human_task, start_instance
from tests.engine import bpmn


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "MAX_VALUE_BYTES": 6000, "MAX_INSTANCE_BYTES": 10_000}


def run_script(script: str, variables: dict | None = None) -> ProcessInstance:
    deploy(bpmn.script_process(script), "script.bpmn")
    instance, _ = start_instance("scripted", variables or {})
    instance.refresh_from_db()
    return instance


def assert_refused_by_the_script(instance: ProcessInstance, limit_text: str) -> None:
    assert instance.state == ProcessInstance.FAILED
    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == "script"
    assert limit_text in incident.message
    assert "script" in instance.error
    assert not instance.human_tasks.exists()


def test_a_script_making_a_huge_value_fails_the_instance_and_the_value_is_not_stored(db, settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "MAX_VALUE_BYTES": 1024 * 1024, "MAX_INSTANCE_BYTES": 5 * 1024 * 1024}

    instance = run_script('x = "x" * 10 ** 8')

    assert_refused_by_the_script(instance, "x is 100000000 characters, more than the limit of 1048576 bytes per "
                                           "value (LANEBRIDGE_MAX_VALUE_BYTES)")
    assert "x" not in instance.variables
    assert len(instance.state_json) < 100_000


def test_a_script_making_a_value_just_over_the_limit_in_a_list_is_refused(db):
    instance = run_script("rows = ['abcdefghij'] * 600")

    assert_refused_by_the_script(instance, "rows is 8400 bytes, more than the limit of 6000 bytes per value")


def test_a_script_growing_the_variables_past_the_instance_limit_is_refused(db):
    # The script is not sent `big` (it does not name it), and the total still counts it.
    instance = run_script('more = "y" * 5000', {"big": "x" * 5900})

    assert_refused_by_the_script(instance, "more than the limit of 10000 bytes per instance "
                                           "(LANEBRIDGE_MAX_INSTANCE_BYTES)")
    assert "more" not in instance.variables


def test_a_script_within_the_limits_runs(db):
    instance = run_script('more = "y" * 3000\nbig = big + "z"', {"big": "x" * 5000})

    assert instance.state == ProcessInstance.ACTIVE, instance.error
    assert instance.variables["big"] == "x" * 5000 + "z"
    assert len(instance.variables["more"]) == 3000


def test_a_script_making_a_huge_integer_fails_the_instance_naming_the_variable(db):
    instance = run_script("x = 10 ** 5000")

    assert_refused_by_the_script(instance, "x is an integer with more than 4300 digits, too large to store")


def test_a_start_with_a_value_over_the_limit_is_refused_before_anything_is_stored(db):
    deploy(bpmn.script_process("y = 1"), "script.bpmn")

    with pytest.raises(InvalidVariables, match=r"variables\.note: 7002 bytes, more than the limit of 6000 bytes "
                                               r"per value \(LANEBRIDGE_MAX_VALUE_BYTES\)"):
        start_instance("scripted", {"note": "n" * 7000})

    assert not ProcessInstance.objects.exists()


def test_a_start_with_variables_over_the_instance_limit_is_refused(db):
    deploy(bpmn.script_process("y = 1"), "script.bpmn")

    with pytest.raises(InvalidVariables, match=r"more than the limit of 10000 bytes per instance"):
        start_instance("scripted", {"a": "a" * 5000, "b": "b" * 5000})

    assert not ProcessInstance.objects.exists()


def test_a_completion_taking_the_variables_past_the_instance_limit_is_refused_and_the_task_stays_open(db):
    deploy(bpmn.user_task_process(), "review.bpmn")
    instance, _ = start_instance("reviewing", {"notes": "n" * 5000})
    task = instance.human_tasks.get()

    with pytest.raises(InvalidVariables, match=r"data: the variables would come to \d+ bytes, more than the limit "
                                               r"of 10000 bytes per instance"):
        complete_human_task(task, None, {"comment": "c" * 5500})

    task.refresh_from_db()
    assert task.state == HumanTask.OPEN
    assert task.submitted_data in (None, {})
    instance.refresh_from_db()
    assert "comment" not in instance.variables


def test_a_script_making_half_a_surrogate_pair_fails_naming_the_variable(db):
    instance = run_script('x = "a\\ud800b"')

    assert_refused_by_the_script(instance, "x contains half of a UTF-16 surrogate pair")
    assert "x" not in instance.variables


def test_a_script_making_text_outside_the_basic_plane_runs(db):
    instance = run_script('x = "ok \\U0001F600"')

    assert instance.state == ProcessInstance.ACTIVE, instance.error
    assert instance.variables["x"] == "ok \U0001F600"
