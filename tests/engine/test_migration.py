"""Moving running instances to a new version: every kind of wait follows, then runs to its end on the new version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from engine.deploy import deploy
from engine.jobs import run_due_work
from engine.messages import Message, send_message
from engine.migration import MigrationRefused, migrate_instance, migrate_instances, plan_migration
from engine.models import HistoryEvent, HumanTask, Job, ProcessInstance, Subscription
from engine.repairs import suspend_instance
from engine.runtime import (
    Conflict,
    InstanceNotActive,
    TaskMigrated,
    TaskNotOpen,
    complete_human_task,
    start_instance,
)
from tests.engine import bpmn
from tests.engine.bpmn_events import message, message_catch, timer
from tests.engine.test_concurrent_completion import run_together


def timer_catch(element_id: str, duration: str = "PT1H") -> str:
    return (f'    <bpmn:intermediateCatchEvent id="{element_id}" name="{element_id}">'
            f"{timer('timeDuration', duration)}</bpmn:intermediateCatchEvent>\n")


def two_versions(deployed, first: bytes, second: bytes):
    return deployed(first, "v1.bpmn"), deployed(second, "v2.bpmn")


def ran_to_the_end(instance: ProcessInstance, user, data: dict | None = None) -> ProcessInstance:
    """Complete every open task until the instance ends; returns it, read again."""
    for _ in range(10):
        instance.refresh_from_db()
        task = instance.human_tasks.filter(state=HumanTask.OPEN).first()
        if task is None:
            break
        complete_human_task(task, user, data or {})
    instance.refresh_from_db()
    return instance


def test_an_instance_at_a_user_task_keeps_the_task_and_its_assignee_and_goes_on_in_the_new_version(
        deployed, user):
    _, v2 = two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                         bpmn.user_task_process(tasks=("review", "sign_off")))
    instance, _ = start_instance("reviewing", {"amount": 5}, version=1)
    task = instance.human_tasks.get()
    HumanTask.objects.filter(pk=task.pk).update(assignee=user)

    result = migrate_instance(instance, 2, user=user, reason="Sign-off is now required")

    assert result["migrated"] and (result["from_version"], result["to_version"]) == (1, 2)
    assert [(e["element_id"], e["to_element_id"], e["kind"]) for e in result["elements"]] == [
        ("review", "review", "human_task")]
    instance.refresh_from_db()
    assert instance.definition == v2 and instance.state == ProcessInstance.ACTIVE
    moved = HumanTask.objects.get(instance=instance)
    assert (moved.pk, moved.task_id, moved.assignee, moved.state) == (task.pk, task.task_id, user, HumanTask.OPEN)
    event = instance.history.get(kind=HistoryEvent.MIGRATED)
    assert event.user == user and event.data["from_version"] == 1 and event.data["to_version"] == 2
    assert event.data["reason"] == "Sign-off is now required"

    finished = ran_to_the_end(instance, user, {"approved": True})
    assert finished.state == ProcessInstance.COMPLETED
    assert list(finished.human_tasks.order_by("id").values_list("element_id", flat=True)) == ["review", "sign_off"]


def test_a_mapping_moves_a_task_to_a_renamed_element(deployed, user):
    two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                 bpmn.user_task_process(tasks=("check", "sign_off")))
    instance, _ = start_instance("reviewing", {}, version=1)

    result = migrate_instance(instance, 2, {"review": "check"}, user=user, reason="renamed")

    assert [(e["element_id"], e["to_element_id"], e["to_name"]) for e in result["elements"]] == [
        ("review", "check", "Check")]
    task = HumanTask.objects.get(instance=instance)
    assert (task.element_id, task.name, task.state) == ("check", "Check", HumanTask.OPEN)
    assert ran_to_the_end(instance, user).state == ProcessInstance.COMPLETED


def test_a_waiting_timer_keeps_its_job_and_due_time_and_fires_into_the_new_version(deployed, user):
    two_versions(deployed, bpmn.chain("waiting", timer_catch("cool_off"), bpmn.user_task("after")),
                 bpmn.chain("waiting", timer_catch("cool_off"), bpmn.user_task("after_v2")))
    instance, _ = start_instance("waiting", {}, version=1)
    job = Job.objects.get(instance=instance, kind=Job.TIMER)

    migrate_instance(instance, 2, user=user, reason="new follow-up")

    moved = Job.objects.get(instance=instance, kind=Job.TIMER)
    assert (moved.pk, moved.task_id, moved.due_at, moved.state) == (job.pk, job.task_id, job.due_at, Job.PENDING)
    assert run_due_work(now=job.due_at - timedelta(minutes=1)) == 0
    assert run_due_work(now=job.due_at + timedelta(minutes=1)) == 1
    instance.refresh_from_db()
    assert instance.human_tasks.get().element_id == "after_v2"
    assert ran_to_the_end(instance, user).state == ProcessInstance.COMPLETED


def test_a_message_catch_keeps_its_subscription_and_the_message_continues_the_new_version(deployed, user):
    declared = message("Message_1", "payment received")
    two_versions(deployed, bpmn.chain("paying", message_catch("wait", "Message_1"), bpmn.user_task("after"),
                                      extra=declared),
                 bpmn.chain("paying", message_catch("wait", "Message_1"), bpmn.user_task("book"),
                            bpmn.user_task("after"), extra=declared))
    instance, _ = start_instance("paying", {}, business_key="O-7", version=1)
    subscription = Subscription.objects.get(instance=instance)

    migrate_instance(instance, 2, user=user, reason="booking step")

    moved = Subscription.objects.get(instance=instance)
    assert (moved.task_id, moved.element_id, moved.name, moved.business_key) == (
        subscription.task_id, "wait", "payment received", "O-7")
    send_message(Message(name="payment received", business_key="O-7", variables={"paid": 10}))
    instance.refresh_from_db()
    assert instance.human_tasks.get().element_id == "book"
    finished = ran_to_the_end(instance, user)
    assert finished.state == ProcessInstance.COMPLETED and finished.variables["paid"] == 10


def test_a_waiting_service_call_keeps_its_job_and_its_result_lands_in_the_new_version(deployed, operation, user):
    operation("test.post_order", lambda call: {"order": "SO-1"})
    two_versions(deployed, bpmn.service_process("test.post_order"),
                 bpmn.chain("servicing", bpmn.service_task("call", "test.post_order"), bpmn.user_task("check"),
                            bpmn.user_task("after")))
    instance, _ = start_instance("servicing", {}, version=1)
    job = Job.objects.get(instance=instance, kind=Job.SERVICE)

    migrate_instance(instance, 2, user=user, reason="check the order")

    moved = Job.objects.get(instance=instance, kind=Job.SERVICE)
    assert (moved.pk, moved.task_id, moved.state, moved.attempts) == (job.pk, job.task_id, Job.PENDING, 0)
    assert run_due_work(now=timezone.now()) == 1
    instance.refresh_from_db()
    assert Job.objects.get(pk=job.pk).state == Job.DONE
    assert instance.human_tasks.get().element_id == "check"
    finished = ran_to_the_end(instance, user)
    assert finished.state == ProcessInstance.COMPLETED and finished.variables["result"] == {"order": "SO-1"}


def test_a_timer_boundary_beside_a_task_follows_with_the_task(deployed, user):
    two_versions(deployed, bpmn.timer_boundary_process(duration="PT1H"),
                 bpmn.timer_boundary_process(duration="PT2H"))
    instance, _ = start_instance("timed", {}, version=1)
    timer_job = Job.objects.get(instance=instance, kind=Job.TIMER)

    result = migrate_instance(instance, 2, user=user, reason="longer escalation")

    assert {e["element_id"] for e in result["elements"]} == {"review", "review_timer"}
    # Reached on version 1: its due time stays the one it got then.
    assert Job.objects.get(instance=instance, kind=Job.TIMER).due_at == timer_job.due_at
    run_due_work(now=timer_job.due_at + timedelta(minutes=1))
    instance.refresh_from_db()
    assert instance.human_tasks.get(state=HumanTask.OPEN).element_id == "escalate"


def test_a_task_read_before_a_migration_is_completed_only_once_read_again(deployed, user):
    two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                 bpmn.user_task_process(tasks=("review", "sign_off")))
    instance, _ = start_instance("reviewing", {}, version=1)
    shown = HumanTask.objects.select_related("instance").get(instance=instance)

    migrate_instance(instance, 2, user=user, reason="sign-off")

    # Its form was checked against version 1's task: the approver opens it again.
    with pytest.raises(TaskMigrated):
        complete_human_task(shown, user, {"approved": True})
    complete_human_task(HumanTask.objects.get(pk=shown.pk), user, {"approved": True})
    assert HumanTask.objects.get(instance=instance, state=HumanTask.OPEN).element_id == "sign_off"


def test_a_dry_run_changes_nothing(deployed, user):
    two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                 bpmn.user_task_process(tasks=("review", "sign_off")))
    instance, _ = start_instance("reviewing", {}, version=1)
    before = ProcessInstance.objects.get(pk=instance.pk)

    plan = migrate_instance(instance, 2, user=user, reason="try", dry_run=True)

    assert plan["migrated"] is False and plan["elements"][0]["to_element_id"] == "review"
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert (after.definition_id, after.version, after.state_json) == (
        before.definition_id, before.version, before.state_json)
    assert not after.history.filter(kind=HistoryEvent.MIGRATED).exists()


@pytest.mark.parametrize(("mapping", "named"), [
    ({}, ["review"]),                      # a waiting element with no counterpart
    ({"review": "nowhere"}, ["nowhere"]),  # a mapping to a missing element
    ({"ghost": "check"}, ["ghost"]),       # a mapping from an element the old version does not have
])
def test_a_refused_migration_names_the_elements_and_changes_nothing(deployed, user, mapping, named):
    two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                 bpmn.user_task_process(tasks=("check",)))
    instance, _ = start_instance("reviewing", {}, version=1)
    before = ProcessInstance.objects.get(pk=instance.pk)

    with pytest.raises(MigrationRefused) as refused:
        migrate_instance(instance, 2, mapping, user=user, reason="try")

    for element in named:
        assert element in str(refused.value)
        assert element in [p.get("element_id") for p in refused.value.problems]
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert (after.definition_id, after.version, after.state_json) == (
        before.definition_id, before.version, before.state_json)
    assert HumanTask.objects.get(instance=instance).element_id == "review"


def test_a_task_cannot_move_to_an_element_that_waits_another_way(deployed, user):
    two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                 bpmn.chain("reviewing", timer_catch("review")))
    instance, _ = start_instance("reviewing", {}, version=1)

    with pytest.raises(MigrationRefused, match="review"):
        plan_migration(instance, 2)


def test_a_version_that_does_not_exist_or_the_current_one_is_refused(deployed, user):
    two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                 bpmn.user_task_process(tasks=("review", "sign_off")))
    instance, _ = start_instance("reviewing", {}, version=1)

    with pytest.raises(MigrationRefused, match="no version 7"):
        migrate_instance(instance, 7, user=user)
    with pytest.raises(InstanceNotActive, match="already on version 1"):
        migrate_instance(instance, 1, user=user)


def test_a_suspended_instance_migrates_and_stays_suspended(deployed, user):
    _, v2 = two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                         bpmn.user_task_process(tasks=("review", "sign_off")))
    instance, _ = start_instance("reviewing", {}, version=1)
    instance = suspend_instance(instance, user, "customer on hold")

    migrate_instance(instance, 2, user=user, reason="new version")

    instance.refresh_from_db()
    assert instance.state == ProcessInstance.SUSPENDED and instance.definition == v2


def test_an_ended_instance_is_not_migrated(deployed, user):
    two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                 bpmn.user_task_process(tasks=("review", "sign_off")))
    instance, _ = start_instance("reviewing", {}, version=1)
    instance = ran_to_the_end(instance, user)

    with pytest.raises(InstanceNotActive, match="completed"):
        migrate_instance(instance, 2, user=user)


def test_a_batch_migrates_every_running_instance_of_a_version_and_reports_each(deployed, user):
    two_versions(deployed, bpmn.user_task_process(tasks=("review", "approve")),
                 bpmn.user_task_process(tasks=("review", "sign_off")))
    at_review = [start_instance("reviewing", {}, version=1)[0] for _ in range(3)]
    at_approve, _ = start_instance("reviewing", {}, version=1)
    complete_human_task(at_approve.human_tasks.get(), user, {})
    ended, _ = start_instance("reviewing", {}, version=1)
    ended = ran_to_the_end(ended, user)

    results = migrate_instances("reviewing", 1, 2, user=user, reason="all of them")

    by_instance = {r["instance"]: r for r in results}
    assert set(by_instance) == {i.pk for i in at_review} | {at_approve.pk}
    assert all(by_instance[i.pk]["ok"] for i in at_review)
    assert not by_instance[at_approve.pk]["ok"] and "approve" in by_instance[at_approve.pk]["detail"]
    assert ProcessInstance.objects.filter(definition__version=2).count() == 3


def test_a_batch_dry_run_reports_without_moving_and_names_unknown_instances(deployed, user):
    two_versions(deployed, bpmn.user_task_process(tasks=("review",)),
                 bpmn.user_task_process(tasks=("review", "sign_off")))
    instance, _ = start_instance("reviewing", {}, version=1)

    results = migrate_instances("reviewing", 1, 2, instance_ids=[instance.pk, 999_999], dry_run=True)

    assert [(r["instance"], r["ok"]) for r in results] == [(instance.pk, True), (999_999, False)]
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1


def needs_threads():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a file test database: set DATABASES['default']['TEST']['NAME']")


@pytest.mark.django_db(transaction=True)
def test_a_migration_racing_a_task_completion_has_one_winner_and_the_other_gets_a_conflict(user):
    needs_threads()
    deploy(bpmn.user_task_process(tasks=("review", "approve")), "v1.bpmn")
    deploy(bpmn.user_task_process(tasks=("review", "approve", "sign_off")), "v2.bpmn")
    instance, _ = start_instance("reviewing", {}, version=1)
    task = instance.human_tasks.get()

    outcomes = run_together(
        lambda: complete_human_task(task, user, {"approved": True}),
        lambda: migrate_instance(instance, 2, user=user, reason="sign-off"),
    )

    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(losers) == 1, outcomes
    assert isinstance(losers[0], (TaskNotOpen, Conflict)), repr(losers[0])
    instance.refresh_from_db()
    completed, migrated = not isinstance(outcomes[0], Exception), not isinstance(outcomes[1], Exception)
    assert instance.definition.version == (2 if migrated else 1)
    assert instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).count() == int(completed)
    assert instance.history.filter(kind=HistoryEvent.MIGRATED).count() == int(migrated)
    # No corruption: the stored state loads on its version and runs to the end.
    expected = ["review", "approve", "sign_off"] if migrated else ["review", "approve"]
    finished = ran_to_the_end(instance, user)
    assert finished.state == ProcessInstance.COMPLETED
    assert list(finished.human_tasks.filter(state=HumanTask.COMPLETED).order_by("id")
                .values_list("element_id", flat=True)) == expected


@pytest.mark.django_db(transaction=True)
def test_two_operators_migrating_one_instance_at_once_get_one_winner(django_user_model):
    needs_threads()
    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    deploy(bpmn.user_task_process(tasks=("review",)), "v1.bpmn")
    deploy(bpmn.user_task_process(tasks=("review", "sign_off")), "v2.bpmn")
    deploy(bpmn.user_task_process(tasks=("review", "sign_off", "archive")), "v3.bpmn")
    instance, _ = start_instance("reviewing", {}, version=1)

    outcomes = run_together(
        lambda: migrate_instance(instance, 2, user=alice, reason="alice"),
        lambda: migrate_instance(instance, 3, user=bob, reason="bob"),
    )

    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(losers) == 1, outcomes
    assert isinstance(losers[0], Conflict), repr(losers[0])
    winner = 2 if not isinstance(outcomes[0], Exception) else 3
    instance.refresh_from_db()
    assert instance.definition.version == winner
    assert instance.history.filter(kind=HistoryEvent.MIGRATED).count() == 1
    assert ran_to_the_end(instance, alice).state == ProcessInstance.COMPLETED


def sub_process(element_id: str, *inner: str) -> str:
    """An embedded sub-process running start → `inner` elements → end."""
    ids = [f"{element_id}_start", *(bpmn.element_id_of(e) for e in inner), f"{element_id}_end"]
    flows = "".join(bpmn.flow(f"{element_id}_f{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return (f'    <bpmn:subProcess id="{element_id}" name="{element_id}">\n'
            f'    <bpmn:startEvent id="{element_id}_start" />\n' + "".join(inner)
            + f'    <bpmn:endEvent id="{element_id}_end" />\n' + flows + "    </bpmn:subProcess>\n")


def test_an_instance_waiting_inside_a_sub_process_migrates_and_finishes_on_the_new_version(deployed, user):
    two_versions(deployed, bpmn.chain("nested", sub_process("sub", bpmn.user_task("inner"))),
                 bpmn.chain("nested", sub_process("sub", bpmn.user_task("inner")), bpmn.user_task("after")))
    instance, _ = start_instance("nested", {}, version=1)
    task = instance.human_tasks.get()

    result = migrate_instance(instance, 2, user=user, reason="a step after the sub-process")

    assert [e["element_id"] for e in result["elements"]] == ["inner", "sub"]
    assert HumanTask.objects.get(instance=instance).pk == task.pk
    finished = ran_to_the_end(instance, user)
    assert finished.state == ProcessInstance.COMPLETED
    assert list(finished.human_tasks.order_by("id").values_list("element_id", flat=True)) == ["inner", "after"]
