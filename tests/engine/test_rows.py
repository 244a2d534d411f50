"""Hot-path statements compiled once write exactly what the ORM would write, on every database."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine import rows
from engine.models import HistoryEvent, HumanTask, Job, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn


@pytest.fixture
def instance(deployed):
    deployed(bpmn.user_task_process(tasks=("review",)))
    started, _ = start_instance("reviewing", {})
    return started


def stored(obj) -> dict:
    """Every column of a row as read back through the ORM, without its primary key and timestamps."""
    values = type(obj).objects.filter(pk=obj.pk).values().get()
    return {k: v for k, v in values.items() if k not in ("id", "at", "created_at", "updated_at")}


def new_job(instance, **fields) -> Job:
    return Job(instance=instance, task_id=uuid4(), element_id="call", operation="erp.ship",
               idempotency_key=f"key-{uuid4()}", due_at=timezone.now(), **fields)


def test_inserted_rows_read_back_as_rows_the_orm_inserted(instance, user):
    data = {"text": "Zürich", "items": [1, 2.5, None, True], "nested": {"a": {"b": []}}}
    ours = [HistoryEvent(instance=instance, kind="service_result", element_id="e", user=user, data=data),
            HistoryEvent(instance=instance, kind="service_attempt", element_id="f", data={})]
    twins = [HistoryEvent(instance=instance, kind="service_result", element_id="e", user=user, data=data),
             HistoryEvent(instance=instance, kind="service_attempt", element_id="f", data={})]

    rows.insert(ours)
    HistoryEvent.objects.bulk_create(twins)

    written = list(HistoryEvent.objects.filter(kind__startswith="service_").order_by("id"))
    assert [stored(e) for e in written[:2]] == [stored(e) for e in written[2:]]
    assert written[0].data == data and written[0].user == user
    # auto_now_add filled in, as the ORM does.
    assert all(timezone.now() - e.at < timedelta(minutes=1) for e in written)


def test_an_insert_can_return_the_new_primary_key(instance):
    job = new_job(instance, input={"lines": [{"sku": "A", "qty": 2}]}, state=Job.RUNNING, attempts=1,
                  locked_until=timezone.now() + timedelta(minutes=5))

    rows.insert([job], return_pk=True)

    assert job.pk is not None and not job._state.adding
    saved = Job.objects.get(pk=job.pk)
    assert (saved.input, saved.state, saved.attempts, saved.result) == (job.input, Job.RUNNING, 1, None)
    assert abs(saved.locked_until - job.locked_until) < timedelta(microseconds=1)


def test_an_insert_that_breaks_a_unique_constraint_raises_or_is_skipped_on_request(instance):
    task_id = HumanTask.objects.get(instance=instance).task_id

    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert([HumanTask(instance=instance, task_id=task_id, element_id="review", name="Review")],
                    return_pk=True)

    rows.insert([HumanTask(instance=instance, task_id=task_id, element_id="again", name="Again")],
                ignore_conflicts=True)
    assert list(HumanTask.objects.filter(instance=instance).values_list("element_id", flat=True)) == ["review"]


def test_an_update_changes_only_matching_rows_and_counts_them(instance):
    version = ProcessInstance.objects.get(pk=instance.pk).version

    assert rows.update(ProcessInstance, {"pk": instance.pk, "version": version + 7}, {"error": "stale"}) == 0
    assert rows.update(ProcessInstance, {"pk": instance.pk, "version": version},
                       {"variables": {"total": 12.5}, "version": version + 1}) == 1

    saved = ProcessInstance.objects.get(pk=instance.pk)
    assert (saved.variables, saved.version, saved.error) == ({"total": 12.5}, version + 1, "")


def test_an_update_writes_null_and_then_a_value_again(instance):
    # The ORM writes "= NULL" into the statement for None: a different statement from a value's.
    job = new_job(instance, locked_until=timezone.now())
    rows.insert([job], return_pk=True)
    later = timezone.now() + timedelta(hours=1)

    rows.update(Job, {"pk": job.pk}, {"locked_until": None, "result": None})
    assert Job.objects.values_list("locked_until", "result").get(pk=job.pk) == (None, None)
    rows.update(Job, {"pk": job.pk}, {"locked_until": later, "result": {"ok": True}})
    assert Job.objects.values_list("locked_until", "result").get(pk=job.pk) == (later, {"ok": True})


def test_an_update_matches_on_datetimes_like_the_orm(instance):
    lease = timezone.now() + timedelta(seconds=30)
    job = new_job(instance, state=Job.RUNNING, locked_until=lease)
    rows.insert([job], return_pk=True)

    assert rows.update(Job, {"pk": job.pk, "locked_until": lease + timedelta(seconds=1)}, {"state": Job.DONE}) == 0
    assert rows.update(Job, {"pk": job.pk, "locked_until": lease}, {"state": Job.DONE}) == 1


def test_an_update_refuses_to_match_null(instance):
    with pytest.raises(ValueError, match="NULL"):
        rows.update(Job, {"locked_until": None}, {"state": Job.DONE})
