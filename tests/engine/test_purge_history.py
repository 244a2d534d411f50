"""Ended instances past the cut are archived line by line and deleted; running ones always stay."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from engine.models import HistoryEvent, HumanTask, Job, ProcessInstance
from engine.retention import Daily, purge_expired, purge_history
from engine.runtime import cancel_instance, complete_human_task, start_instance
from integrations.models import ExternalId
from tests.engine import bpmn


@pytest.fixture
def make(deployed, user):
    """Start an instance; with `ended_days_ago`, complete it and move its end that far back."""
    deployed(bpmn.user_task_process())

    def start(key: str, ended_days_ago: float | None = None) -> ProcessInstance:
        instance, _ = start_instance("reviewing", {"customer": key}, business_key=key)
        if ended_days_ago is not None:
            complete_human_task(instance.human_tasks.get(), user, {"approved": "yes"})
            ProcessInstance.objects.filter(pk=instance.pk).update(
                ended_at=timezone.now() - timedelta(days=ended_days_ago))
        return ProcessInstance.objects.get(pk=instance.pk)

    return start


def test_ended_instances_past_the_cut_are_archived_then_deleted_with_all_their_rows(make, tmp_path, user):
    old = make("OLD-1", ended_days_ago=40)
    recent = make("NEW-1", ended_days_ago=5)
    archive = tmp_path / "archive.jsonl"

    with archive.open("a", encoding="utf-8") as file:
        assert purge_history(timezone.now() - timedelta(days=30), file) == 1

    (line,) = archive.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["id"] == old.pk and record["business_key"] == "OLD-1" and record["state"] == "completed"
    assert record["variables"] == {"customer": "OLD-1", "approved": "yes"}
    assert [e["kind"] for e in record["history"]][0] == HistoryEvent.STARTED
    assert any(e["kind"] == HistoryEvent.TASK_COMPLETED and e["user"] == user.username for e in record["history"])
    assert {"kind": "business_key", "value": "OLD-1"} in record["ledger"]
    assert not ProcessInstance.objects.filter(pk=old.pk).exists()
    for model in (HumanTask, HistoryEvent, Job, ExternalId):
        assert not model.objects.filter(instance_id=old.pk).exists(), model
    assert ProcessInstance.objects.filter(pk=recent.pk).exists()


def test_a_running_instance_is_never_touched_however_old(make):
    running = make("RUN-1")
    ProcessInstance.objects.filter(pk=running.pk).update(started_at=timezone.now() - timedelta(days=400))

    assert purge_history(timezone.now() + timedelta(days=1)) == 0

    assert ProcessInstance.objects.get(pk=running.pk).state == ProcessInstance.ACTIVE
    assert running.human_tasks.get().state == HumanTask.OPEN


def test_cancelled_instances_go_too_in_batches_smaller_than_their_number(make, user):
    instances = [make(f"C-{i}") for i in range(5)]
    for instance in instances:
        cancel_instance(instance, user, "customer gone")
    ProcessInstance.objects.update(ended_at=timezone.now() - timedelta(days=2))

    assert purge_history(timezone.now() - timedelta(days=1), batch_size=2) == 5
    assert not ProcessInstance.objects.exists()


def test_the_command_archives_to_the_file_it_is_given(make, tmp_path):
    old = make("OLD-2", ended_days_ago=40)
    archive = tmp_path / "purged.jsonl"

    call_command("purge_history", "--ended-before", (timezone.now() - timedelta(days=30)).isoformat(),
                 "--archive", str(archive))

    assert json.loads(archive.read_text(encoding="utf-8"))["id"] == old.pk
    assert not ProcessInstance.objects.filter(pk=old.pk).exists()


def test_the_command_refuses_a_date_it_cannot_read():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--ended-before"):
        call_command("purge_history", "--ended-before", "last tuesday")


def test_the_scheduler_purges_once_a_day_what_ended_more_than_the_kept_days_ago(make, tmp_path):
    now = timezone.now()
    first = make("D-1", ended_days_ago=31)
    second = make("D-2", ended_days_ago=29.75)
    daily = Daily()

    with override_settings(LANEBRIDGE_HISTORY_DAYS=30, LANEBRIDGE_HISTORY_ARCHIVE=str(tmp_path / "p-%Y%m%d.jsonl")):
        assert daily.due(now)
        assert purge_expired(now) == 1
        # Half a day on, the second one is past the 30 days, but the day is not over: nothing runs.
        assert not daily.due(now + timedelta(hours=12))
        assert daily.due(now + timedelta(days=1))
        assert purge_expired(now + timedelta(days=1)) == 1

    assert not ProcessInstance.objects.filter(pk__in=[first.pk, second.pk]).exists()
    archived = {json.loads(line)["id"] for path in tmp_path.glob("p-*.jsonl") for line in path.read_text().splitlines()}
    assert archived == {first.pk, second.pk}


def test_without_kept_days_nothing_is_purged(make):
    old = make("K-1", ended_days_ago=4000)

    with override_settings(LANEBRIDGE_HISTORY_DAYS=0):
        assert purge_expired(timezone.now()) == 0
    assert ProcessInstance.objects.filter(pk=old.pk).exists()


def test_celery_beat_and_the_embedded_scheduler_both_run_the_daily_purge(make, tmp_path):
    from engine.tasks import purge_history as purge_task

    assert settings.CELERY_BEAT_SCHEDULE["purge-history"] == {"task": "engine.tasks.purge_history",
                                                             "schedule": 24 * 3600.0}
    old = make("B-1", ended_days_ago=40)
    with override_settings(LANEBRIDGE_HISTORY_DAYS=30, LANEBRIDGE_HISTORY_ARCHIVE=str(tmp_path / "b.jsonl")):
        assert purge_task() == 1
        newer = make("B-2", ended_days_ago=40)
        call_command("run_scheduler", "--once")
    assert not ProcessInstance.objects.filter(pk__in=[old.pk, newer.pk]).exists()
