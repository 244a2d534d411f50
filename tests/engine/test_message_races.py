"""A message racing another write to its instance is delivered once and never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection

from engine.deploy import deploy
from engine.messages import Message, send_message
from engine.models import BufferedMessage, HistoryEvent, HumanTask, ProcessInstance, Subscription
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn
from tests.engine import bpmn_events as ev
from tests.engine.test_concurrent_completion import run_together

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _file_database():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a file test database")


def parallel_wait_process() -> bytes:
    """start → fork: user task `pack` ∥ message "payment received" → join → user task `ship` → end."""
    body = (
        bpmn.start_event() + '    <bpmn:parallelGateway id="fork" />\n' + bpmn.user_task("pack")
        + ev.message_catch("paid", "Message_1") + '    <bpmn:parallelGateway id="join" />\n'
        + bpmn.user_task("ship") + bpmn.end_event()
        + bpmn.flow("f0", "start", "fork") + bpmn.flow("f1", "fork", "pack") + bpmn.flow("f2", "fork", "paid")
        + bpmn.flow("f3", "pack", "join") + bpmn.flow("f4", "paid", "join") + bpmn.flow("f5", "join", "ship")
        + bpmn.flow("f6", "ship", "end")
    )
    return bpmn.definitions("packing", body, extra=ev.message("Message_1", "payment received"))


@pytest.mark.parametrize("round_", range(4))
def test_a_message_racing_the_instance_start_is_delivered_once(round_):
    deploy(ev.waits_for_message(), "wait.bpmn")
    key = f"R-{round_}"

    outcomes = run_together(
        lambda: start_instance("awaiting_payment", {}, business_key=key)[0],
        lambda: send_message(Message(name="payment received", business_key=key, variables={"paid": True},
                                     ttl=timedelta(hours=1))),
    )

    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    instance = ProcessInstance.objects.get(business_key=key)
    assert outcomes[1].status in (200, 202)
    assert instance.history.filter(kind=HistoryEvent.MESSAGE).count() == 1
    assert list(instance.human_tasks.values_list("element_id", flat=True)) == ["after"]
    assert not Subscription.objects.filter(instance=instance).exists()
    assert not BufferedMessage.objects.filter(state=BufferedMessage.WAITING).exists()


@pytest.mark.parametrize("round_", range(3))
def test_a_message_racing_a_task_completion_on_the_same_instance_is_never_lost(round_):
    packer = User.objects.create_user(f"packer{round_}")
    deploy(parallel_wait_process(), "packing.bpmn")
    instance, _ = start_instance("packing", {}, business_key="P-1")
    pack = instance.human_tasks.get(element_id="pack")

    outcomes = run_together(
        lambda: complete_human_task(pack, packer, {"boxes": 2}),
        lambda: send_message(Message(name="payment received", business_key="P-1", variables={"paid": True})),
    )

    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert outcomes[1].status == 200
    instance.refresh_from_db()
    assert instance.history.filter(kind=HistoryEvent.MESSAGE).count() == 1
    assert instance.human_tasks.get(element_id="ship").state == HumanTask.OPEN
    assert instance.variables["paid"] is True and instance.variables["boxes"] == 2
