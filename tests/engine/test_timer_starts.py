"""Timer start events start instances by themselves when the scheduler finds them due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from engine.deploy import DeployError
from engine.jobs import run_due_work
from engine.models import HistoryEvent, HumanTask, ProcessInstance, StartTrigger
from tests.engine import bpmn_events as ev


def started() -> int:
    return ProcessInstance.objects.filter(definition__process_id="nightly").count()


def test_a_cycle_of_three_starts_three_instances_one_per_round(deployed):
    deployed(ev.timer_start_process(text="R3/PT1H"))
    now = timezone.now()

    assert run_due_work(now=now + timedelta(minutes=59)) == 0
    counts = []
    for hours in range(1, 6):
        run_due_work(now=now + timedelta(hours=hours, seconds=1))
        counts.append(started())

    assert counts == [1, 2, 3, 3, 3]
    assert HumanTask.objects.filter(element_id="check").count() == 3
    first = ProcessInstance.objects.order_by("id").first()
    assert first.history.get(kind=HistoryEvent.STARTED).data["timer"] == "R3/PT1H"


def test_an_endless_cycle_keeps_starting(deployed):
    deployed(ev.timer_start_process(text="R/PT10M"))
    now = timezone.now()
    for minutes in range(10, 101, 10):
        run_due_work(now=now + timedelta(minutes=minutes, seconds=1))
    assert started() == 10
    assert StartTrigger.objects.get().remaining is None


def test_a_quoted_cycle_as_older_files_write_it_runs_too(deployed):
    deployed(ev.timer_start_process(text='"R2/PT1H"'))
    now = timezone.now()
    for hours in range(1, 4):
        run_due_work(now=now + timedelta(hours=hours, seconds=1))
    assert started() == 2


def test_a_date_starts_one_instance_once(deployed):
    when = (timezone.now() + timedelta(days=1)).astimezone(UTC).replace(microsecond=0)
    deployed(ev.timer_start_process(kind="timeDate", text=when.isoformat()))

    run_due_work(now=when - timedelta(seconds=1))
    assert started() == 0
    run_due_work(now=when + timedelta(seconds=1))
    run_due_work(now=when + timedelta(days=3))
    assert started() == 1


def test_rounds_missed_while_no_scheduler_ran_start_one_instance(deployed):
    deployed(ev.timer_start_process(text="R/PT1H"))
    run_due_work(now=timezone.now() + timedelta(hours=5, seconds=1))
    assert started() == 1
    assert StartTrigger.objects.get().due_at > timezone.now() + timedelta(hours=5)


def test_a_new_version_replaces_the_old_versions_timer(deployed):
    deployed(ev.timer_start_process(text="R/PT1H"))
    newer = deployed(ev.timer_start_process(text="R/PT2H"))

    trigger = StartTrigger.objects.get()
    assert (trigger.definition_id, trigger.every_seconds) == (newer.pk, 7200)
    run_due_work(now=timezone.now() + timedelta(hours=2, seconds=1))
    assert ProcessInstance.objects.get().definition_id == newer.pk


def test_a_timer_start_written_as_an_expression_is_refused_naming_it(db):
    from engine.deploy import deploy

    with pytest.raises(DeployError) as refused:
        deploy(ev.timer_start_process(text="'R/PT' + str(hours) + 'H'"))
    assert refused.value.element_id == "start"
    assert not StartTrigger.objects.exists()


def test_a_date_in_the_past_fires_on_the_next_pass(deployed):
    deployed(ev.timer_start_process(kind="timeDate", text=datetime(2020, 1, 1, tzinfo=UTC).isoformat()))
    run_due_work()
    assert started() == 1


def test_a_counted_cycle_fires_its_late_rounds_on_the_next_passes(deployed):
    deployed(ev.timer_start_process(text="R3/PT1H"))
    late = timezone.now() + timedelta(hours=5)
    for _ in range(4):
        run_due_work(now=late)
    assert started() == 3
