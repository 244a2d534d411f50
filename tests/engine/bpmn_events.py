"""BPMN builders for processes that wait for messages, signals and times."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from tests.engine.bpmn import chain, definitions, end_event, flow, start_event, user_task


def message(message_id: str, name: str) -> str:
    """A <bpmn:message> declaration (goes before the process)."""
    return f"  <bpmn:message id={quoteattr(message_id)} name={quoteattr(name)} />\n"


def signal(signal_id: str, name: str) -> str:
    """A <bpmn:signal> declaration (goes before the process)."""
    return f"  <bpmn:signal id={quoteattr(signal_id)} name={quoteattr(name)} />\n"


def message_catch(element_id: str, message_ref: str | None, name: str = "") -> str:
    ref = f' messageRef="{message_ref}"' if message_ref else ""
    return (f'    <bpmn:intermediateCatchEvent id="{element_id}" name={quoteattr(name or element_id)}>\n'
            f"      <bpmn:messageEventDefinition{ref} />\n"
            "    </bpmn:intermediateCatchEvent>\n")


def receive_task(element_id: str, message_ref: str) -> str:
    return f'    <bpmn:receiveTask id="{element_id}" name="{element_id}" messageRef="{message_ref}" />\n'


def signal_catch(element_id: str, signal_ref: str) -> str:
    return (f'    <bpmn:intermediateCatchEvent id="{element_id}" name="{element_id}">\n'
            f'      <bpmn:signalEventDefinition signalRef="{signal_ref}" />\n'
            "    </bpmn:intermediateCatchEvent>\n")


def message_throw(element_id: str, message_ref: str, end: bool = False) -> str:
    tag = "endEvent" if end else "intermediateThrowEvent"
    return (f'    <bpmn:{tag} id="{element_id}" name="{element_id}">\n'
            f'      <bpmn:messageEventDefinition messageRef="{message_ref}" />\n'
            f"    </bpmn:{tag}>\n")


def signal_throw(element_id: str, signal_ref: str) -> str:
    return (f'    <bpmn:intermediateThrowEvent id="{element_id}" name="{element_id}">\n'
            f'      <bpmn:signalEventDefinition signalRef="{signal_ref}" />\n'
            "    </bpmn:intermediateThrowEvent>\n")


def boundary(element_id: str, attached_to: str, definition: str, interrupting: bool = True) -> str:
    cancel = "true" if interrupting else "false"
    return (f'    <bpmn:boundaryEvent id="{element_id}" attachedToRef="{attached_to}" cancelActivity="{cancel}">\n'
            f"      {definition}\n"
            "    </bpmn:boundaryEvent>\n")


def event_start(element_id: str, definition: str) -> str:
    return f'    <bpmn:startEvent id="{element_id}">\n      {definition}\n    </bpmn:startEvent>\n'


def timer(kind: str, text: str) -> str:
    """A timerEventDefinition: kind is timeDuration, timeDate or timeCycle; text as a modeler writes it."""
    return f"<bpmn:timerEventDefinition><bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>"


# Whole processes.

def waits_for_message(process_id: str = "awaiting_payment", name: str = "payment received",
                      receive: bool = False) -> bytes:
    """start → catch message `name` (or a receive task) → user task `after` → end."""
    wait = receive_task("wait", "Message_1") if receive else message_catch("wait", "Message_1")
    return chain(process_id, wait, user_task("after"), extra=message("Message_1", name))


def message_boundary_process(process_id: str = "cancellable_order", interrupting: bool = True) -> bytes:
    """start → user task `review` → end; message "order cancelled" on `review` → user task `handle` → end."""
    body = (
        start_event() + user_task("review")
        + boundary("cancelled", "review", '<bpmn:messageEventDefinition messageRef="Message_1" />', interrupting)
        + user_task("handle") + end_event() + end_event("end_cancelled")
        + flow("f1", "start", "review") + flow("f2", "review", "end")
        + flow("f3", "cancelled", "handle") + flow("f4", "handle", "end_cancelled")
    )
    return definitions(process_id, body, extra=message("Message_1", "order cancelled"))


def message_start_process(process_id: str = "web_order", name: str = "order placed") -> bytes:
    """message start `name` → user task `confirm` → end."""
    body = (event_start("start", '<bpmn:messageEventDefinition messageRef="Message_1" />')
            + user_task("confirm") + end_event()
            + flow("f1", "start", "confirm") + flow("f2", "confirm", "end"))
    return definitions(process_id, body, extra=message("Message_1", name))


def timer_start_process(process_id: str = "nightly", kind: str = "timeCycle", text: str = "R3/PT1H") -> bytes:
    """timer start → user task `check` → end."""
    body = (event_start("start", timer(kind, text)) + user_task("check") + end_event()
            + flow("f1", "start", "check") + flow("f2", "check", "end"))
    return definitions(process_id, body)


def signal_start_process(process_id: str = "on_recall", name: str = "product recalled") -> bytes:
    """signal start `name` → user task `recall` → end."""
    body = (event_start("start", '<bpmn:signalEventDefinition signalRef="Signal_1" />')
            + user_task("recall") + end_event()
            + flow("f1", "start", "recall") + flow("f2", "recall", "end"))
    return definitions(process_id, body, extra=signal("Signal_1", name))


def waits_for_signal(process_id: str = "awaiting_signal", name: str = "product recalled") -> bytes:
    """start → catch signal `name` → user task `after` → end."""
    return chain(process_id, signal_catch("wait", "Signal_1"), user_task("after"), extra=signal("Signal_1", name))


def event_gateway_process(process_id: str = "racing", timer_text: str = "PT1H") -> bytes:
    """start → event-based gateway: message "paid" → `thank`; signal "stop" → `stopped`; timer → `remind`."""
    body = (
        start_event() + '    <bpmn:eventBasedGateway id="gateway" />\n'
        + message_catch("paid", "Message_1")
        + signal_catch("stop", "Signal_1")
        + f'    <bpmn:intermediateCatchEvent id="late">{timer("timeDuration", timer_text)}'
        + "</bpmn:intermediateCatchEvent>\n"
        + user_task("thank") + user_task("stopped") + user_task("remind")
        + end_event("end_thank") + end_event("end_stopped") + end_event("end_remind")
        + flow("f0", "start", "gateway")
        + flow("f1", "gateway", "paid") + flow("f2", "gateway", "stop") + flow("f3", "gateway", "late")
        + flow("f4", "paid", "thank") + flow("f5", "stop", "stopped") + flow("f6", "late", "remind")
        + flow("f7", "thank", "end_thank") + flow("f8", "stopped", "end_stopped") + flow("f9", "remind", "end_remind")
    )
    return definitions(process_id, body, extra=message("Message_1", "paid") + signal("Signal_1", "stop"))


def sender_process(process_id: str = "shipping", name: str = "shipment delivered") -> bytes:
    """start → user task `ship` → throw message `name` → end."""
    return chain(process_id, user_task("ship"), message_throw("tell", "Message_1"), extra=message("Message_1", name))


def signal_sender_process(process_id: str = "recalling", name: str = "product recalled") -> bytes:
    """start → throw signal `name` → end."""
    return chain(process_id, signal_throw("shout", "Signal_1"), extra=signal("Signal_1", name))


def end_throw_process(process_id: str = "closing", name: str = "order closed") -> bytes:
    """start → user task `close` → message end event `name`."""
    body = (start_event() + user_task("close") + message_throw("tell", "Message_1", end=True)
            + flow("f1", "start", "close") + flow("f2", "close", "tell"))
    return definitions(process_id, body, extra=message("Message_1", name))


def signal_boundary_process(process_id: str = "recallable", interrupting: bool = True) -> bytes:
    """start → user task `review` → end; signal "product recalled" on `review` → user task `recall` → end."""
    body = (
        start_event() + user_task("review")
        + boundary("recalled", "review", '<bpmn:signalEventDefinition signalRef="Signal_1" />', interrupting)
        + user_task("recall") + end_event() + end_event("end_recalled")
        + flow("f1", "start", "review") + flow("f2", "review", "end")
        + flow("f3", "recalled", "recall") + flow("f4", "recall", "end_recalled")
    )
    return definitions(process_id, body, extra=signal("Signal_1", "product recalled"))
