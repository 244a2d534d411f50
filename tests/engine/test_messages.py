"""Messages reach the instance that waits for them, by name, business key and correlation, and no other."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.jobs import run_due_work
from engine.messages import InvalidMessage, Message, parse_message, send_message
from engine.models import BufferedMessage, HistoryEvent, HumanTask, ProcessInstance, Subscription
from engine.runtime import cancel_instance, complete_human_task, start_instance
from tests.engine import bpmn_events as ev


def open_tasks(instance) -> list[str]:
    return sorted(instance.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True))


@pytest.mark.parametrize("receive", [False, True], ids=["catch event", "receive task"])
def test_a_message_is_delivered_to_the_waiting_instance_and_its_variables_land(deployed, receive):
    deployed(ev.waits_for_message(receive=receive))
    instance, _ = start_instance("awaiting_payment", {"order": "A-1"}, business_key="A-1")
    subscription = Subscription.objects.get(instance=instance)
    assert (subscription.name, subscription.business_key, subscription.element_id) == ("payment received", "A-1",
                                                                                      "wait")

    answer = send_message(Message(name="payment received", business_key="A-1", variables={"amount": 120}))

    assert (answer.status, answer.body) == (200, {"instances": [instance.pk]})
    instance.refresh_from_db()
    assert instance.variables == {"order": "A-1", "amount": 120}
    assert open_tasks(instance) == ["after"]
    assert not Subscription.objects.filter(instance=instance).exists()
    received = instance.history.get(kind=HistoryEvent.MESSAGE)
    assert (received.element_id, received.data["message"]) == ("wait", "payment received")


def test_correlation_never_crosses_instances(deployed):
    deployed(ev.waits_for_message())
    first, _ = start_instance("awaiting_payment", {"order": "A-1"})
    second, _ = start_instance("awaiting_payment", {"order": "B-2"})

    answer = send_message(Message(name="payment received", correlation={"order": "B-2"}))

    assert answer.body == {"instances": [second.pk]}
    assert open_tasks(first) == []
    assert open_tasks(second) == ["after"]
    assert send_message(Message(name="payment received", correlation={"order": "C-3"})).status == 404


def test_a_business_key_never_reaches_another_instance(deployed):
    deployed(ev.waits_for_message())
    first, _ = start_instance("awaiting_payment", {}, business_key="A-1")
    start_instance("awaiting_payment", {}, business_key="B-2")

    assert send_message(Message(name="payment received", business_key="A-1")).body == {"instances": [first.pk]}
    assert send_message(Message(name="payment received", business_key="A-1")).status == 404


def test_several_matches_are_a_conflict_naming_them_unless_all_is_asked(deployed):
    deployed(ev.waits_for_message())
    ids = [start_instance("awaiting_payment", {"region": "north"})[0].pk for _ in range(2)]

    answer = send_message(Message(name="payment received", correlation={"region": "north"}))
    assert answer.status == 409
    assert answer.body["instances"] == ids
    assert Subscription.objects.count() == 2

    answer = send_message(Message(name="payment received", correlation={"region": "north"}, all=True))
    assert (answer.status, answer.body) == (200, {"instances": ids})


def test_a_message_start_event_starts_an_instance_with_the_business_key(deployed):
    deployed(ev.message_start_process())

    answer = send_message(Message(name="order placed", business_key="WEB-7", variables={"amount": 5}))

    assert answer.status == 201
    instance = ProcessInstance.objects.get(pk=answer.body["instances"][0])
    assert (instance.business_key, instance.variables) == ("WEB-7", {"amount": 5})
    assert open_tasks(instance) == ["confirm"]
    assert instance.history.get(kind=HistoryEvent.STARTED).data["message"] == "order placed"


def test_a_message_nobody_waits_for_is_404_without_ttl(deployed):
    deployed(ev.waits_for_message())
    answer = send_message(Message(name="payment received", business_key="nobody"))
    assert answer.status == 404
    assert "payment received" in answer.body["error"]
    assert not BufferedMessage.objects.exists()


def test_a_buffered_message_meets_the_instance_that_reaches_its_catch(deployed):
    deployed(ev.waits_for_message())
    answer = send_message(Message(name="payment received", business_key="A-1", variables={"paid": True},
                                  ttl=timedelta(hours=1)))
    assert answer.status == 202

    instance, _ = start_instance("awaiting_payment", {}, business_key="A-1")

    assert open_tasks(instance) == ["after"]
    assert instance.variables == {"paid": True}
    assert not Subscription.objects.exists()
    buffered = BufferedMessage.objects.get(pk=answer.body["buffered"])
    assert (buffered.state, buffered.instance_id) == (BufferedMessage.DELIVERED, instance.pk)
    assert instance.history.get(kind=HistoryEvent.MESSAGE).data["buffered"] == buffered.pk
    # Delivered once: the next instance with that key waits.
    other, _ = start_instance("awaiting_payment", {}, business_key="A-1")
    assert open_tasks(other) == []


def test_an_expired_buffered_message_is_recorded_and_never_delivered(deployed):
    deployed(ev.waits_for_message())
    answer = send_message(Message(name="payment received", business_key="A-1", ttl=timedelta(minutes=5)))
    run_due_work(now=timezone.now() + timedelta(minutes=6))

    buffered = BufferedMessage.objects.get(pk=answer.body["buffered"])
    assert buffered.state == BufferedMessage.EXPIRED and buffered.ended_at is not None
    instance, _ = start_instance("awaiting_payment", {}, business_key="A-1")
    assert Subscription.objects.filter(instance=instance).exists()


def test_a_cancelled_or_ended_instance_never_receives(deployed, user):
    deployed(ev.waits_for_message())
    cancelled, _ = start_instance("awaiting_payment", {}, business_key="A-1")
    cancel_instance(cancelled, user)

    assert not Subscription.objects.exists()
    assert send_message(Message(name="payment received", business_key="A-1")).status == 404
    assert not cancelled.history.filter(kind=HistoryEvent.MESSAGE).exists()


def test_an_interrupting_message_boundary_cancels_the_task(deployed):
    deployed(ev.message_boundary_process(interrupting=True))
    instance, _ = start_instance("cancellable_order", {}, business_key="O-1")

    assert send_message(Message(name="order cancelled", business_key="O-1")).status == 200

    assert instance.human_tasks.get(element_id="review").state == HumanTask.CANCELLED
    assert open_tasks(instance) == ["handle"]


def test_a_non_interrupting_message_boundary_leaves_the_task_open(deployed):
    deployed(ev.message_boundary_process(interrupting=False))
    instance, _ = start_instance("cancellable_order", {}, business_key="O-1")

    assert send_message(Message(name="order cancelled", business_key="O-1")).status == 200

    assert open_tasks(instance) == ["handle", "review"]


def test_completing_the_task_closes_its_message_boundary(deployed, user):
    deployed(ev.message_boundary_process())
    instance, _ = start_instance("cancellable_order", {}, business_key="O-1")
    complete_human_task(instance.human_tasks.get(), user, {})

    assert not Subscription.objects.exists()
    assert send_message(Message(name="order cancelled", business_key="O-1")).status == 404


def test_a_thrown_message_reaches_another_process_with_the_same_business_key(
        deployed, user, django_capture_on_commit_callbacks):
    deployed(ev.waits_for_message(name="shipment delivered"))
    deployed(ev.sender_process())
    receiver, _ = start_instance("awaiting_payment", {}, business_key="SO-9")
    bystander, _ = start_instance("awaiting_payment", {}, business_key="SO-10")
    sender, _ = start_instance("shipping", {}, business_key="SO-9")

    with django_capture_on_commit_callbacks(execute=True):
        complete_human_task(sender.human_tasks.get(), user, {})

    assert open_tasks(receiver) == ["after"]
    assert open_tasks(bystander) == []
    sent = sender.history.get(kind=HistoryEvent.MESSAGE_SENT)
    assert (sent.data["message"], sent.data["instances"]) == ("shipment delivered", [receiver.pk])


@pytest.mark.parametrize(("body", "field"), [
    ({}, "name"),
    ({"name": 5}, "name"),
    ({"name": "x", "variables": []}, "variables"),
    ({"name": "x", "variables": {"_secret": 1}}, "variables"),
    ({"name": "x", "correlation": "A-1"}, "correlation"),
    ({"name": "x", "ttl": "tomorrow"}, "ttl"),
    ({"name": "x", "all": "yes"}, "all"),
    ({"name": "x", "colour": "red"}, "colour"),
    ([], "body"),
])
def test_a_bad_message_body_names_the_field(body, field):
    with pytest.raises(InvalidMessage) as refused:
        parse_message(body)
    assert refused.value.field == field


def test_a_message_end_event_reaches_another_process(deployed, user, django_capture_on_commit_callbacks):
    deployed(ev.waits_for_message(name="order closed"))
    deployed(ev.end_throw_process())
    receiver, _ = start_instance("awaiting_payment", {}, business_key="SO-9")
    sender, _ = start_instance("closing", {}, business_key="SO-9")

    with django_capture_on_commit_callbacks(execute=True):
        complete_human_task(sender.human_tasks.get(), user, {})

    sender.refresh_from_db()
    assert sender.state == ProcessInstance.COMPLETED
    assert open_tasks(receiver) == ["after"]
