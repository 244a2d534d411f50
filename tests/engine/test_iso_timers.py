"""Timers written as Camunda Modeler writes them (plain ISO 8601) run; bad ones are refused naming the element."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from engine import timers
from engine.deploy import DeployError, deploy
from engine.jobs import run_due_work
from engine.models import HistoryEvent, HumanTask, Job
from engine.runtime import start_instance
from tests.engine import bpmn


def timer_definition(tag: str, text: str) -> str:
    return (f"      <bpmn:timerEventDefinition>\n        <bpmn:{tag}>{text}</bpmn:{tag}>\n"
            "      </bpmn:timerEventDefinition>\n")


def waiting_process(tag: str, text: str, process_id: str = "waiting") -> bytes:
    """start → intermediate timer `wait` → user task `after` → end."""
    wait = f'    <bpmn:intermediateCatchEvent id="wait" name="Wait">\n{timer_definition(tag, text)}' \
           "    </bpmn:intermediateCatchEvent>\n"
    return bpmn.chain(process_id, wait, bpmn.user_task("after"))


def boundary_process(tag: str, text: str, interrupting: bool = True, process_id: str = "reminding") -> bytes:
    """start → user task `review` → end; a timer on `review` → user task `remind` → end."""
    cancel = "true" if interrupting else "false"
    body = (
        bpmn.start_event()
        + bpmn.user_task("review")
        + f'    <bpmn:boundaryEvent id="review_timer" attachedToRef="review" cancelActivity="{cancel}">\n'
        + timer_definition(tag, text)
        + "    </bpmn:boundaryEvent>\n"
        + bpmn.user_task("remind")
        + bpmn.end_event()
        + bpmn.end_event("end_reminded")
        + bpmn.flow("f1", "start", "review")
        + bpmn.flow("f2", "review", "end")
        + bpmn.flow("f3", "review_timer", "remind")
        + bpmn.flow("f4", "remind", "end_reminded")
    )
    return bpmn.definitions(process_id, body)


def timer_job(instance) -> Job:
    return Job.objects.filter(instance=instance, kind=Job.TIMER).latest("pk")


def open_tasks(instance) -> list[str]:
    return sorted(instance.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True))


def test_a_plain_duration_on_an_intermediate_timer_waits_that_long(deployed):
    deployed(waiting_process("timeDuration", "PT4S"))
    before = timezone.now()
    instance, _ = start_instance("waiting", {})

    job = timer_job(instance)
    assert before + timedelta(seconds=4) <= job.due_at <= timezone.now() + timedelta(seconds=4)
    assert run_due_work(now=before + timedelta(seconds=3)) == 0
    assert run_due_work(now=job.due_at + timedelta(seconds=1)) == 1

    assert open_tasks(instance) == ["after"]
    assert instance.history.filter(kind=HistoryEvent.TIMER_FIRED, element_id="wait").count() == 1


def test_a_plain_date_waits_until_that_moment(deployed):
    deployed(waiting_process("timeDate", "2026-12-24T10:00:00Z"))
    instance, _ = start_instance("waiting", {})

    christmas_eve = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
    assert timer_job(instance).due_at == christmas_eve
    assert run_due_work(now=christmas_eve - timedelta(seconds=1)) == 0
    run_due_work(now=christmas_eve + timedelta(seconds=1))

    assert open_tasks(instance) == ["after"]


def test_a_quoted_duration_still_works(deployed):
    deployed(waiting_process("timeDuration", '"PT4S"'))
    before = timezone.now()
    instance, _ = start_instance("waiting", {})

    run_due_work(now=before + timedelta(seconds=5))

    assert open_tasks(instance) == ["after"]


def test_an_expression_giving_a_duration_still_works(deployed):
    deployed(waiting_process("timeDuration", "'PT' + str(2 * 2) + 'S'"))
    before = timezone.now()
    instance, _ = start_instance("waiting", {})

    assert timer_job(instance).due_at <= timezone.now() + timedelta(seconds=4)
    run_due_work(now=before + timedelta(seconds=5))

    assert open_tasks(instance) == ["after"]


def test_a_plain_duration_on_an_interrupting_boundary_cancels_the_task(deployed):
    deployed(boundary_process("timeDuration", "PT4S"))
    before = timezone.now()
    instance, _ = start_instance("reminding", {})

    run_due_work(now=before + timedelta(seconds=5))

    assert instance.human_tasks.get(element_id="review").state == HumanTask.CANCELLED
    assert open_tasks(instance) == ["remind"]


def test_a_plain_cycle_on_a_non_interrupting_boundary_fires_as_often_as_it_says(deployed):
    deployed(boundary_process("timeCycle", "R2/PT3S", interrupting=False))
    before = timezone.now()
    instance, _ = start_instance("reminding", {})

    first = timer_job(instance).due_at
    assert before + timedelta(seconds=3) <= first <= timezone.now() + timedelta(seconds=3)
    assert run_due_work(now=first + timedelta(seconds=1)) == 1
    second = timer_job(instance)
    assert second.state == Job.PENDING
    assert second.due_at == first + timedelta(seconds=3)
    assert run_due_work(now=second.due_at + timedelta(seconds=1)) == 1
    assert run_due_work(now=second.due_at + timedelta(hours=1)) == 0

    assert open_tasks(instance) == ["remind", "remind", "review"]
    assert instance.history.filter(kind=HistoryEvent.TIMER_FIRED, element_id="review_timer").count() == 2


@pytest.mark.parametrize(("tag", "text", "words"), [
    ("timeDuration", "PT4X", "not an ISO 8601 duration"),
    ("timeDuration", '"P"', "not an ISO 8601 duration"),
    ("timeDate", "2026-13-45T10:00:00Z", "not an ISO 8601 date and time"),
    ("timeDate", "PT4S", "not an ISO 8601 date and time"),
    ("timeCycle", "PT3S", "not an ISO 8601 repeating interval"),
    ("timeCycle", "R0/PT3S", "not an ISO 8601 repeating interval"),
    ("timeCycle", "0 0 9 * * ?", "ISO 8601"),
    ("timeDuration", "${delay.plusHours(1)}", "JUEL"),
])
def test_a_timer_that_is_not_iso_8601_is_refused_naming_the_element_and_line(db, tag, text, words):
    content = waiting_process(tag, text)

    with pytest.raises(DeployError) as caught:
        deploy(content, "timers.bpmn")

    assert caught.value.element_id == "wait"
    assert words in caught.value.message
    assert caught.value.line == content.decode().splitlines().index(
        next(line for line in content.decode().splitlines() if 'id="wait"' in line)) + 1


@pytest.mark.parametrize(("tag", "text", "first", "every", "repeats"), [
    ("timeDuration", "PT4S", timedelta(seconds=4), None, 1),
    ("timeDuration", "P1D", timedelta(days=1), None, 1),
    ("timeCycle", "R3/PT1H", timedelta(hours=1), timedelta(hours=1), 3),
    ("timeCycle", "R/P1D", timedelta(days=1), timedelta(days=1), None),
])
def test_schedule_reads_durations_and_cycles_from_now(tag, text, first, every, repeats):
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    assert timers.schedule(tag, text, now) == timers.Schedule(now + first, every, repeats)


def test_schedule_reads_a_cycle_starting_at_a_date():
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    start = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)

    assert timers.schedule("timeCycle", "R2/2026-12-24T10:00:00Z/PT1H", now) == timers.Schedule(
        start, timedelta(hours=1), 2)


def test_iso_text_reads_plain_and_quoted_timers_but_not_expressions():
    assert timers.iso_text("PT4S") == "PT4S"
    assert timers.iso_text(' "R2/PT3S" ') == "R2/PT3S"
    assert timers.iso_text("delay") is None
    assert timers.as_expression("PT4S") == "'PT4S'"
    assert timers.as_expression('"PT4S"') == '"PT4S"'
