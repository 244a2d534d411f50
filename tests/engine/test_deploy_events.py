"""Event elements that could never be reached are refused at deploy, naming the element and its line."""

from __future__ import annotations

import pytest

from engine.deploy import DeployError, deploy
from engine.models import ProcessDefinition
from tests.engine import bpmn
from tests.engine import bpmn_events as ev


def refused(content: bytes) -> DeployError:
    with pytest.raises(DeployError) as caught:
        deploy(content, "upload.bpmn")
    assert not ProcessDefinition.objects.exists()
    return caught.value


def test_a_message_catch_without_a_message_is_refused(db):
    content = bpmn.chain("p", ev.message_catch("wait", None), bpmn.user_task("after"))
    error = refused(content)
    assert error.element_id == "wait"
    assert error.line == content.decode().splitlines().index(
        next(line for line in content.decode().splitlines() if 'id="wait"' in line)) + 1
    assert "names none" in error.message


def test_a_message_catch_naming_an_undeclared_message_is_refused(db):
    error = refused(bpmn.chain("p", ev.message_catch("wait", "Message_9"), bpmn.user_task("after")))
    assert error.element_id == "wait"
    assert "Message_9" in error.message


def test_a_message_without_a_name_is_refused(db):
    content = bpmn.chain("p", ev.message_catch("wait", "Message_1"), extra='  <bpmn:message id="Message_1" />\n')
    assert refused(content).element_id == "wait"


def test_a_signal_catch_without_a_signal_is_refused(db):
    content = bpmn.chain("p", '    <bpmn:intermediateCatchEvent id="hear"><bpmn:signalEventDefinition />'
                              "</bpmn:intermediateCatchEvent>\n")
    assert refused(content).element_id == "hear"


def test_a_receive_task_without_a_message_is_refused(db):
    content = bpmn.chain("p", '    <bpmn:receiveTask id="receive" />\n')
    assert refused(content).element_id == "receive"


def test_an_event_gateway_leading_to_a_user_task_is_refused(db):
    body = (bpmn.start_event() + '    <bpmn:eventBasedGateway id="gateway" />\n' + bpmn.user_task("review")
            + ev.message_catch("paid", "Message_1") + bpmn.end_event() + bpmn.end_event("end2")
            + bpmn.flow("f0", "start", "gateway") + bpmn.flow("f1", "gateway", "review")
            + bpmn.flow("f2", "gateway", "paid") + bpmn.flow("f3", "review", "end") + bpmn.flow("f4", "paid", "end2"))
    assert refused(bpmn.definitions("p", body, extra=ev.message("Message_1", "paid"))).element_id == "review"


def test_every_event_element_of_the_builders_deploys(db):
    for content in (ev.waits_for_message(), ev.waits_for_message(receive=True), ev.message_boundary_process(),
                    ev.message_start_process(), ev.timer_start_process(), ev.signal_start_process(),
                    ev.waits_for_signal(), ev.event_gateway_process(), ev.sender_process(),
                    ev.signal_sender_process()):
        deploy(content, "events.bpmn")
    assert ProcessDefinition.objects.count() == 10
