"""Signals reach every instance waiting for them; an event-based gateway takes the first of its events."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from engine.jobs import run_due_work
from engine.messages import Message, send_message, send_signal
from engine.models import HistoryEvent, HumanTask, Job, ProcessInstance, Subscription
from engine.runtime import start_instance
from tests.engine import bpmn_events as ev


def open_tasks(instance) -> list[str]:
    return sorted(instance.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True))


def test_a_signal_reaches_every_waiting_instance_and_starts_signal_start_processes(deployed):
    deployed(ev.waits_for_signal())
    deployed(ev.signal_start_process())
    waiting = [start_instance("awaiting_signal", {})[0] for _ in range(2)]

    answer = send_signal("product recalled", {"batch": "B7"})

    started = ProcessInstance.objects.get(definition__process_id="on_recall")
    assert (answer.status, answer.body) == (200, {"instances": [w.pk for w in waiting] + [started.pk]})
    for instance in waiting:
        instance.refresh_from_db()
        assert open_tasks(instance) == ["after"]
        assert instance.variables == {"batch": "B7"}
        assert instance.history.get(kind=HistoryEvent.SIGNAL).data["signal"] == "product recalled"
    assert open_tasks(started) == ["recall"]


def test_a_signal_nobody_waits_for_reaches_no_instance(deployed):
    deployed(ev.waits_for_signal())
    assert send_signal("something else", {}).body == {"instances": []}


def test_a_thrown_signal_reaches_other_processes(deployed, django_capture_on_commit_callbacks):
    deployed(ev.waits_for_signal())
    deployed(ev.signal_sender_process())
    waiting, _ = start_instance("awaiting_signal", {})

    with django_capture_on_commit_callbacks(execute=True):
        sender, _ = start_instance("recalling", {})

    assert open_tasks(waiting) == ["after"]
    assert sender.history.get(kind=HistoryEvent.SIGNAL_SENT).data["instances"] == [waiting.pk]


def test_an_event_gateway_waits_for_a_message_a_signal_and_a_timer_at_once(deployed):
    deployed(ev.event_gateway_process())
    instance, _ = start_instance("racing", {}, business_key="G-1")

    assert sorted(Subscription.objects.filter(instance=instance).values_list("kind", "name")) == [
        ("message", "paid"), ("signal", "stop")]
    assert instance.jobs.get(kind=Job.TIMER).state == Job.PENDING


def test_the_message_wins_the_event_gateway_and_closes_the_other_waits(deployed):
    deployed(ev.event_gateway_process())
    instance, _ = start_instance("racing", {}, business_key="G-1")

    assert send_message(Message(name="paid", business_key="G-1")).status == 200

    assert open_tasks(instance) == ["thank"]
    assert not Subscription.objects.filter(instance=instance).exists()
    assert instance.jobs.get(kind=Job.TIMER).state == Job.CANCELLED
    assert send_signal("stop", {}).body == {"instances": []}


def test_the_timer_wins_the_event_gateway(deployed):
    deployed(ev.event_gateway_process(timer_text="PT5S"))
    instance, _ = start_instance("racing", {}, business_key="G-1")

    run_due_work(now=timezone.now() + timedelta(seconds=6))

    assert open_tasks(instance) == ["remind"]
    assert not Subscription.objects.filter(instance=instance).exists()
    assert send_message(Message(name="paid", business_key="G-1")).status == 404


def test_the_signal_wins_the_event_gateway(deployed):
    deployed(ev.event_gateway_process())
    instance, _ = start_instance("racing", {}, business_key="G-1")

    send_signal("stop", {})

    assert open_tasks(instance) == ["stopped"]
    assert instance.jobs.get(kind=Job.TIMER).state == Job.CANCELLED


def test_an_interrupting_signal_boundary_cancels_the_task(deployed):
    deployed(ev.signal_boundary_process(interrupting=True))
    instance, _ = start_instance("recallable", {})

    assert send_signal("product recalled", {}).body == {"instances": [instance.pk]}

    assert instance.human_tasks.get(element_id="review").state == HumanTask.CANCELLED
    assert open_tasks(instance) == ["recall"]


def test_a_non_interrupting_signal_boundary_leaves_the_task_open(deployed):
    deployed(ev.signal_boundary_process(interrupting=False))
    instance, _ = start_instance("recallable", {})

    send_signal("product recalled", {})

    assert open_tasks(instance) == ["recall", "review"]
