"""Builders for elements other modeling tools draw and Lanebridge must refuse or bind.

They extend tests/engine/bpmn.py (start → elements → end with `bpmn.chain`)
with link events, complex gateways, event sub-processes, compensation and
data stores, each written the way Camunda Modeler or Signavio writes them.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from tests.engine import bpmn


def link_process(process_id: str = "linked") -> bytes:
    """start → user task `first` → link throw `go`; link catch `arrive` → user task `second` → end."""
    body = (
        bpmn.start_event()
        + bpmn.user_task("first")
        + '    <bpmn:intermediateThrowEvent id="go" name="To second">\n'
        '      <bpmn:linkEventDefinition id="go_link" name="second" />\n'
        "    </bpmn:intermediateThrowEvent>\n"
        '    <bpmn:intermediateCatchEvent id="arrive" name="From first">\n'
        '      <bpmn:linkEventDefinition id="arrive_link" name="second" />\n'
        "    </bpmn:intermediateCatchEvent>\n"
        + bpmn.user_task("second")
        + bpmn.end_event()
        + bpmn.flow("f1", "start", "first")
        + bpmn.flow("f2", "first", "go")
        + bpmn.flow("f3", "arrive", "second")
        + bpmn.flow("f4", "second", "end")
    )
    return bpmn.definitions(process_id, body)


def complex_gateway_process(process_id: str = "complex") -> bytes:
    """start → complex gateway `decide` → user tasks `a` and `b` → their ends."""
    body = (
        bpmn.start_event()
        + '    <bpmn:complexGateway id="decide" name="Decide" />\n'
        + bpmn.user_task("a") + bpmn.user_task("b")
        + bpmn.end_event("end_a") + bpmn.end_event("end_b")
        + bpmn.flow("f1", "start", "decide")
        + bpmn.flow("f2", "decide", "a", "x > 1")
        + bpmn.flow("f3", "decide", "b", "x <= 1")
        + bpmn.flow("f4", "a", "end_a")
        + bpmn.flow("f5", "b", "end_b")
    )
    return bpmn.definitions(process_id, body)


def event_subprocess_process(process_id: str = "cancellable", interrupting: bool = True) -> bytes:
    """start → user task `review` → end, with an event sub-process started by message `cancel`."""
    flag = "true" if interrupting else "false"
    body = bpmn.start_event() + bpmn.user_task("review") + bpmn.end_event() + bpmn.flow("f1", "start", "review")
    body += bpmn.flow("f2", "review", "end")
    body += (
        '    <bpmn:subProcess id="on_cancel" triggeredByEvent="true">\n'
        f'      <bpmn:startEvent id="cancel_received" name="Cancel" isInterrupting="{flag}">\n'
        '        <bpmn:messageEventDefinition messageRef="cancel" />\n'
        "      </bpmn:startEvent>\n"
        '      <bpmn:endEvent id="cancelled" />\n'
        '      <bpmn:sequenceFlow id="c1" sourceRef="cancel_received" targetRef="cancelled" />\n'
        "    </bpmn:subProcess>\n"
    )
    return bpmn.definitions(process_id, body, extra='  <bpmn:message id="cancel" name="cancel" />\n')


def subprocess_without_start(process_id: str = "nested") -> bytes:
    """start → embedded sub-process `repair` holding one task and no start event → end."""
    sub = (
        '    <bpmn:subProcess id="repair" name="Repair">\n'
        '      <bpmn:task id="fix" name="Fix it" />\n'
        "    </bpmn:subProcess>\n"
    )
    return bpmn.chain(process_id, sub)


def multi_instance_without_cardinality(process_id: str = "fanout") -> bytes:
    """start → parallel multi-instance user task `check` with no cardinality nor input list → end.

    Its list is written for Camunda 8 (Zeebe), which Lanebridge does not read.
    """
    task = (
        '    <bpmn:userTask id="check" name="Check document">\n'
        '      <bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>\n'
        '        <zeebe:loopCharacteristics xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
        ' inputCollection="= documents" />\n'
        '      </bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>\n'
        "    </bpmn:userTask>\n"
    )
    return bpmn.chain(process_id, task)


def unbound_services_process(process_id: str = "invoicing", tasks: tuple[str, ...] = ("archive", "notify"),
                             then_user_task: bool = True) -> bytes:
    """start → service tasks without operator, named after their ids → (user task `after`) → end."""
    elements = [bpmn.service_task(t, None, name=t.title()) for t in tasks]
    if then_user_task:
        elements.append(bpmn.user_task("after"))
    return bpmn.chain(process_id, *elements)


def data_store_process(process_id: str = "stored") -> bytes:
    """start → user task `enter` that writes to data store `crm_db` → end."""
    task = (
        '    <bpmn:userTask id="enter" name="Enter customer">\n'
        '      <bpmn:dataOutputAssociation id="enter_writes">\n'
        '        <bpmn:targetRef>crm_db_ref</bpmn:targetRef>\n'
        "      </bpmn:dataOutputAssociation>\n"
        "    </bpmn:userTask>\n"
    )
    ref = f'    <bpmn:dataStoreReference id="crm_db_ref" name={quoteattr("Customer DB")} dataStoreRef="crm_db" />\n'
    store = '  <bpmn:dataStore id="crm_db" name="Customer DB" />\n'
    return bpmn.chain(process_id, task, extra_body=ref, extra=store)


def data_object_without_reference_process(process_id: str = "direct_data", kind: str = "userTask") -> bytes:
    """start → task `review` (a user task unless `kind` says) reading data object `order` directly → end."""
    task = (
        f'    <bpmn:{kind} id="review" name="Review">\n'
        "      <bpmn:ioSpecification>\n"
        '        <bpmn:dataInput id="review_in" />\n'
        "        <bpmn:inputSet><bpmn:dataInputRefs>review_in</bpmn:dataInputRefs></bpmn:inputSet>\n"
        "        <bpmn:outputSet />\n"
        "      </bpmn:ioSpecification>\n"
        '      <bpmn:dataInputAssociation id="review_reads">\n'
        "        <bpmn:sourceRef>order</bpmn:sourceRef>\n"
        "        <bpmn:targetRef>review_in</bpmn:targetRef>\n"
        "      </bpmn:dataInputAssociation>\n"
        f"    </bpmn:{kind}>\n"
    )
    return bpmn.chain(process_id, task, extra_body='    <bpmn:dataObject id="order" name="Order" />\n')
