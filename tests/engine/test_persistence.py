"""Instance state survives a dump and load without the spec, wherever the workflow waits."""

from __future__ import annotations

import json

from SpiffWorkflow.util.task import TaskState

from engine import spiff
from engine.deploy import specs_for
from engine.runtime import start_instance
from tests.engine import bpmn


def reload(definition, workflow):
    return spiff.load_workflow(specs_for(definition), spiff.dump_workflow(workflow))


def test_a_workflow_paused_at_a_user_task_survives_dump_and_load(deployed):
    definition = deployed(bpmn.user_task_process(tasks=("review", "sign_off"), script="total = 40 + 2"))
    workflow = spiff.new_workflow(specs_for(definition), {"customer": "C-1"})
    workflow.do_engine_steps()

    restored = reload(definition, workflow)

    [task] = restored.get_tasks(state=TaskState.READY)
    assert task.task_spec.bpmn_id == "review"
    assert task.data == {"customer": "C-1", "total": 42}
    task.set_data(approved=True)
    task.run()
    restored = reload(definition, restored)
    restored.do_engine_steps()
    [task] = restored.get_tasks(state=TaskState.READY)
    assert task.task_spec.bpmn_id == "sign_off"
    task.run()
    restored.do_engine_steps()
    assert restored.is_completed()
    assert restored.data["approved"] is True


def test_a_workflow_paused_at_a_service_task_survives_dump_and_load(deployed):
    definition = deployed(bpmn.service_process("test.echo", {"amount": "amount"}, then_user_task=False))
    workflow = spiff.new_workflow(specs_for(definition), {"amount": 7})
    workflow.do_engine_steps()

    restored = reload(definition, workflow)

    [task] = restored.get_tasks(state=TaskState.STARTED)
    assert task.task_spec.operation_name == "test.echo"
    assert {k: v["value"] for k, v in task.task_spec.evaluate_params(task).items()} == {"amount": 7}
    task.data[task.task_spec.result_variable] = {"ok": True}
    task.complete()
    restored.do_engine_steps()
    assert restored.is_completed()
    assert restored.data["result"] == {"ok": True}


def test_a_workflow_paused_at_a_timer_keeps_its_due_time(deployed):
    definition = deployed(bpmn.timer_boundary_process())
    workflow = spiff.new_workflow(specs_for(definition), {})
    workflow.do_engine_steps()
    due_before = [e.value for e in workflow.waiting_events()]

    restored = reload(definition, workflow)

    assert [e.value for e in restored.waiting_events()] == due_before


def test_instance_state_is_much_smaller_than_state_with_the_spec(deployed):
    definition = deployed(bpmn.user_task_process(tasks=("review", "sign_off", "archive"), script="total = 1"))
    instance, _ = start_instance("reviewing", {"customer": "C-1"})
    workflow = spiff.load_workflow(specs_for(definition), instance.state_json)

    with_spec = spiff.SPEC_SERIALIZER.serialize_json(workflow)

    assert isinstance(json.loads(instance.state_json)["spec"], str)
    assert isinstance(json.loads(with_spec)["spec"], dict)
    assert len(instance.state_json) < 0.7 * len(with_spec)
    # The spec is paid for once per version instead.
    assert len(definition.spec_json) > len(with_spec) - len(instance.state_json) - 200
