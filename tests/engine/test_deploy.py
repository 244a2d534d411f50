"""Deploying BPMN: versions, idempotent redeploys, and where the spec is stored."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from engine.deploy import deploy, specs_for
from engine.models import ProcessDefinition, ProcessInstance
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn


def test_it_creates_version_one_of_a_new_process(db, user):
    deployment = deploy(bpmn.user_task_process("reviewing"), "review.bpmn", user)

    assert deployment.created is True
    [definition] = deployment.definitions
    definition.refresh_from_db()
    assert (definition.process_id, definition.version) == ("reviewing", 1)
    assert definition.file_name == "review.bpmn"
    assert definition.deployed_by == user
    assert "review" in definition.bpmn_xml


def test_a_changed_file_becomes_the_next_version(db):
    deploy(bpmn.user_task_process("reviewing"), "review.bpmn")
    deployment = deploy(bpmn.user_task_process("reviewing", tasks=("review", "sign_off")), "review.bpmn")

    assert deployment.created is True
    assert deployment.definitions[0].version == 2
    assert list(ProcessDefinition.objects.filter(process_id="reviewing").values_list("version", flat=True)) == [2, 1]


def test_identical_content_returns_the_same_version_without_creating_one(db):
    first = deploy(bpmn.user_task_process("reviewing"), "review.bpmn")
    again = deploy(bpmn.user_task_process("reviewing"), "review.bpmn")

    assert again.created is False
    assert again.definitions[0].pk == first.definitions[0].pk
    assert ProcessDefinition.objects.filter(process_id="reviewing").count() == 1


def test_running_instances_stay_on_their_version(db, user):
    deploy(bpmn.user_task_process("reviewing", tasks=("review",)), "review.bpmn")
    old, _ = start_instance("reviewing", {})
    deploy(bpmn.user_task_process("reviewing", tasks=("review", "sign_off")), "review.bpmn")
    new, _ = start_instance("reviewing", {})

    assert old.definition.version == 1
    assert new.definition.version == 2

    # The v1 instance has one task and completes on v1 even though v2 has two.
    complete_human_task(old.human_tasks.get(), user, {"approved": "yes"})
    old.refresh_from_db()
    assert old.state == ProcessInstance.COMPLETED
    assert old.definition.version == 1

    complete_human_task(new.human_tasks.get(), user, {"approved": "yes"})
    new.refresh_from_db()
    assert new.state == ProcessInstance.ACTIVE
    assert new.human_tasks.get(state="open").element_id == "sign_off"


def test_the_spec_is_stored_once_per_version_and_not_in_instance_state(db):
    content = bpmn.chain(
        "speced",
        bpmn.script_task("prepare", "x = 1  # only-in-the-spec", name="Prepare Only In Spec"),
        bpmn.user_task("review", name="Review Only In Spec"),
    )
    definition = deploy(content, "speced.bpmn").definitions[0]
    instance, _ = start_instance("speced", {})

    assert "only-in-the-spec" in definition.spec_json
    assert "Review Only In Spec" in definition.spec_json
    state = json.loads(instance.state_json)
    # The state names its spec instead of embedding it.
    assert state["spec"] == "speced"
    assert state.get("subprocess_specs") in (None, {})
    assert "only-in-the-spec" not in instance.state_json
    assert "Review Only In Spec" not in instance.state_json
    assert "task_specs" not in instance.state_json


def test_a_rolled_back_deploy_does_not_leave_its_spec_cached(db):
    # SQLite hands a rolled-back primary key out again; the spec cache must not
    # mistake the next definition with that pk for the one that was rolled back.
    with pytest.raises(RuntimeError), transaction.atomic():
        ghost = deploy(bpmn.user_task_process("ghost", tasks=("haunt",)), "ghost.bpmn").definitions[0]
        specs_for(ghost)
        raise RuntimeError("roll the deploy back")

    real = deploy(bpmn.user_task_process("reviewing", tasks=("review",)), "review.bpmn").definitions[0]
    spec, _ = specs_for(real)

    assert spec.name == "reviewing"
