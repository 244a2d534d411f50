"""The demo process processes/bpmn/quote_to_cash.bpmn: it deploys, it draws, and it runs.

The ERP and CRM operations are replaced by in-process fakes registered in the
connector registry for the duration of a test, and the ERP's own news
(production done, shipment delivered, invoice paid) is sent as the messages
the ERP watcher sends (the real Tryton-backed operations and the watcher are
exercised by the integration and end-to-end suites). Jobs run in-process:
Celery is eager without a broker and jobs are handed over after commit, so
the tests use transactional database access.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from lxml import etree

from engine import connectors
from engine import deploy as deploy_module
from engine.deploy import deploy, parse_processes
from engine.jobs import run_due_work
from engine.messages import Message, send_message
from engine.models import HistoryEvent, HumanTask, Job, ProcessInstance
from engine.runtime import complete_human_task, start_instance

BPMN_FILE = Path(__file__).resolve().parents[2] / "processes" / "bpmn" / "quote_to_cash.bpmn"
PROCESS_ID = "quote_to_cash"
LANES = ["Sales", "Manager", "Finance", "Warehouse"]

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
}

CUSTOMER = {
    "code": "C-000123", "name": "Acme Tools Ltd", "phone": "+44 20 7946 0958",
    "street": "1 Dock Road", "city": "London", "zip": "E16 1AA", "country": "GB",
}
LARGE_LINES = [{"product": "WIDGET-XL", "quantity": 30, "unit_price": "450.00"}]  # 13 500
SMALL_LINES = [{"product": "WIDGET", "quantity": 4, "unit_price": 125.5}]  # 502

# Service elements of the happy path up to the ERP order, in the order the diagram calls them.
ERP_PATH = [
    ("Task_EnsureCustomer", "erp.ensure_customer"),
    ("Task_CreateSalesOrder", "erp.create_sales_order"),
    ("Task_ConfirmSalesOrder", "erp.confirm_sales_order"),
    ("Task_CreateProduction", "erp.create_production"),
]


def bpmn_bytes() -> bytes:
    return BPMN_FILE.read_bytes()


def local(element) -> str:
    return etree.QName(element).localname


# --------------------------------------------------------------------------- fakes


class FakeSystems:
    """In-process stand-ins for the ERP and CRM operations, recording each call."""

    OPERATIONS = [
        "erp.ensure_customer", "erp.create_sales_order", "erp.confirm_sales_order", "erp.create_production",
        "erp.post_invoice", "crm.mark_won", "crm.record_follow_up",
    ]

    def __init__(self):
        self.calls: list[connectors.Call] = []
        self.reject_sales_order: str | None = None

    def operations(self) -> dict:
        return {name: getattr(self, name.replace(".", "_")) for name in self.OPERATIONS}

    def _record(self, call: connectors.Call) -> None:
        self.calls.append(call)

    def called(self) -> list[str]:
        return [call.operation for call in self.calls]

    def input_of(self, operation: str) -> dict:
        return next(call.input for call in self.calls if call.operation == operation)

    def erp_ensure_customer(self, call):
        self._record(call)
        return {"customer_id": 501, "customer_code": "CUST123"}

    def erp_create_sales_order(self, call):
        self._record(call)
        if self.reject_sales_order:
            raise connectors.BusinessError(self.reject_sales_order, code="ERP_REJECTED",
                                           details={"product": "X"})
        return {"sale_id": 9001, "sale_number": "SO-1042", "state": "quotation"}

    def erp_confirm_sales_order(self, call):
        self._record(call)
        return {"sale_id": call.input["sale_id"], "state": "processing", "shipment_ids": [71], "invoice_ids": [81]}

    def erp_create_production(self, call):
        self._record(call)
        return {"production_id": 301, "production_number": "MO-7", "state": "waiting"}

    def erp_post_invoice(self, call):
        self._record(call)
        return {"invoice_id": 81, "invoice_number": "INV-55", "total": "13500.00", "state": "posted"}

    def crm_mark_won(self, call):
        self._record(call)
        return {"opportunity_id": call.input["opportunity_id"], "state": "won", "sale_ids": [12]}

    def crm_record_follow_up(self, call):
        self._record(call)
        return {"note_id": 44}


@pytest.fixture(autouse=True)
def fresh_spec_cache():
    """Work around engine.deploy._spec_cache being keyed by primary key only.

    Rolled-back test transactions hand the same ProcessDefinition pk to the
    next test, which would then run a cached spec of another file's process.
    """
    deploy_module._spec_cache.clear()
    yield
    deploy_module._spec_cache.clear()


@pytest.fixture
def fakes():
    """Register the fakes; afterwards restore whatever was registered before."""
    systems = FakeSystems()
    previous = {}
    for name, func in systems.operations().items():
        try:
            previous[name] = connectors.get_operation(name)
        except KeyError:
            pass
        connectors.register(name, func)
    yield systems
    for name in systems.OPERATIONS:
        connectors.unregister(name)
        if name in previous:
            op = previous[name]
            connectors.register(name, op.func, description=op.description, required=op.required, ledger=op.ledger)


@pytest.fixture
def definition(db):
    for lane in LANES:
        Group.objects.get_or_create(name=lane)
    deployment = deploy(bpmn_bytes(), "quote_to_cash.bpmn")
    return deployment.definitions[0]


@pytest.fixture
def users(db):
    made = {}
    for lane in LANES:
        user = User.objects.create_user(f"{lane.lower()}_user", password="x")
        user.groups.add(Group.objects.get_or_create(name=lane)[0])
        made[lane] = user
    return made


def start(variables: dict, business_key: str = "Q-1001") -> ProcessInstance:
    instance, created = start_instance(PROCESS_ID, variables, business_key=business_key)
    assert created
    return instance


def erp_says(name: str, number_variable: str, number: str, **variables) -> list[int]:
    """Send the message the ERP watcher sends for a change in the ERP; the instances it reached."""
    answer = send_message(Message(name=name, correlation={number_variable: number}, variables=variables))
    assert answer.status == 200, answer.body
    return answer.body["instances"]


def erp_delivers(instance) -> None:
    """The ERP finishes the production, then delivers the shipment, as the watcher reports them."""
    assert erp_says("production_done", "production_number", "MO-7", production_state="done") == [instance.pk]
    assert erp_says("shipment_delivered", "sale_number", "SO-1042", shipment_number="SH-3") == [instance.pk]


def open_tasks(instance) -> list[HumanTask]:
    return list(HumanTask.objects.filter(instance=instance, state=HumanTask.OPEN).order_by("pk"))


def open_task(instance, element_id: str) -> HumanTask:
    tasks = [t for t in open_tasks(instance) if t.element_id == element_id]
    assert len(tasks) == 1, f"expected one open {element_id}, open: {[t.element_id for t in open_tasks(instance)]}"
    return tasks[0]


def refreshed(instance) -> ProcessInstance:
    return ProcessInstance.objects.get(pk=instance.pk)


def timeline(instance, kinds=(HistoryEvent.STARTED, HistoryEvent.TASK_READY, HistoryEvent.TASK_COMPLETED,
                              HistoryEvent.SERVICE_RESULT, HistoryEvent.SERVICE_ERROR, HistoryEvent.TIMER_FIRED,
                              HistoryEvent.MESSAGE, HistoryEvent.COMPLETED, HistoryEvent.FAILED,
                              HistoryEvent.INCIDENT)):
    return [(e.kind, e.element_id) for e in instance.history.order_by("pk") if e.kind in kinds]


def assert_no_incident(instance) -> None:
    instance = refreshed(instance)
    assert instance.state != ProcessInstance.FAILED, instance.error
    assert not instance.incidents.exists(), list(instance.incidents.values_list("message", flat=True))


# --------------------------------------------------------------------------- the file


@pytest.mark.django_db
def test_demo_file_passes_deploy_with_the_four_lanes():
    for lane in LANES:
        Group.objects.create(name=lane)
    deployment = deploy(bpmn_bytes(), "quote_to_cash.bpmn")
    assert deployment.created
    assert [d.process_id for d in deployment.definitions] == [PROCESS_ID]
    definition = deployment.definitions[0]
    assert definition.name == "Quote to cash"
    assert sorted(definition.lanes) == sorted(LANES)
    assert definition.lane_roles == {lane: lane for lane in LANES}
    assert deployment.warnings == []

    tree = etree.fromstring(bpmn_bytes())
    assert [lane.get("name") for lane in tree.iterfind(".//bpmn:laneSet/bpmn:lane", NS)] == LANES
    participants = tree.findall(".//bpmn:collaboration/bpmn:participant", NS)
    assert [(p.get("name"), p.get("processRef")) for p in participants] == [("Quote to cash", PROCESS_ID)]
    process = tree.find("bpmn:process", NS)
    assert process.get("id") == PROCESS_ID and process.get("isExecutable") == "true"
    assert "approval_threshold" in process.find("bpmn:documentation", NS).text


def test_demo_file_service_tasks_name_operations_and_results():
    tree = etree.fromstring(bpmn_bytes())
    service_tasks = tree.findall(".//bpmn:serviceTask", NS)
    assert len(service_tasks) == 7
    operations = {}
    for task in service_tasks:
        operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        assert operator is not None, task.get("id")
        assert operator.get("resultVariable"), task.get("id")
        operations[operator.get("id")] = operator.get("resultVariable")
    assert operations == {
        "erp.ensure_customer": "erp_customer", "erp.create_sales_order": "sale",
        "erp.confirm_sales_order": "confirmation", "erp.create_production": "production",
        "erp.post_invoice": "invoice", "crm.mark_won": "crm_opportunity", "crm.record_follow_up": "crm_note",
    }
    # The ERP's own news comes as messages, each waited for by a receive task of its lane.
    receive = {task.get("id"): task.get("messageRef") for task in tree.findall(".//bpmn:receiveTask", NS)}
    assert receive == {"Task_ProductionDone": "Message_ProductionDone",
                       "Task_ShipmentDelivered": "Message_ShipmentDelivered", "Task_InvoicePaid": "Message_InvoicePaid"}
    assert {m.get("id"): m.get("name") for m in tree.findall("bpmn:message", NS)} == {
        "Message_ProductionDone": "production_done", "Message_ShipmentDelivered": "shipment_delivered",
        "Message_InvoicePaid": "invoice_paid"}
    # The lane decides who approves: no user task pins candidate groups or an assignee.
    for task in tree.iter(f"{{{NS['bpmn']}}}userTask"):
        assert task.get(f"{{{NS['camunda']}}}candidateGroups") is None
        assert task.get(f"{{{NS['camunda']}}}assignee") is None
        assert task.get(f"{{{NS['camunda']}}}formKey")


def test_demo_file_has_complete_non_overlapping_diagram():
    tree = etree.fromstring(bpmn_bytes())
    process = tree.find("bpmn:process", NS)
    flow_nodes = {el.get("id"): el for el in process if local(el) in FLOW_NODE_TAGS}
    flows = {el.get("id"): el for el in process.iterfind("bpmn:sequenceFlow", NS)}
    lanes = {el.get("id"): el for el in process.iterfind(".//bpmn:lane", NS)}
    participant = tree.find(".//bpmn:participant", NS)
    assert len(flow_nodes) == 39 and len(flows) == 38

    diagrams = tree.findall("bpmndi:BPMNDiagram", NS)
    assert len(diagrams) == 1
    plane = diagrams[0].find("bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == tree.find("bpmn:collaboration", NS).get("id")
    shapes = {}
    for shape in plane.iterfind("bpmndi:BPMNShape", NS):
        b = shape.find("dc:Bounds", NS)
        assert shape.get("bpmnElement") not in shapes, f"two shapes for {shape.get('bpmnElement')}"
        shapes[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    edges = {}
    for edge in plane.iterfind("bpmndi:BPMNEdge", NS):
        edges[edge.get("bpmnElement")] = [(float(w.get("x")), float(w.get("y")))
                                          for w in edge.iterfind("di:waypoint", NS)]

    # Every pool, lane and flow node has a shape; every sequence flow an edge, and nothing else is drawn.
    assert set(shapes) == {participant.get("id"), *lanes, *flow_nodes}
    assert set(edges) == set(flows)
    for shape_id in [participant.get("id"), *lanes]:
        shape = plane.find(f"bpmndi:BPMNShape[@bpmnElement='{shape_id}']", NS)
        assert shape.get("isHorizontal") == "true", shape_id

    def inside(inner, outer, slack=0.0):
        return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
                and inner[0] + inner[2] <= outer[0] + outer[2] + slack
                and inner[1] + inner[3] <= outer[1] + outer[3] + slack)

    def overlap(a, b):
        return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]

    # Horizontal swimlanes stacked inside the pool, in the order Sales, Manager, Finance, Warehouse.
    pool = shapes[participant.get("id")]
    lane_boxes = [shapes[lane_id] for lane_id in lanes]
    for box in lane_boxes:
        assert inside(box, pool)
    for upper, lower in zip(lane_boxes, lane_boxes[1:], strict=False):
        assert upper[1] + upper[3] == lower[1], "lanes must touch without overlapping"
    assert lane_boxes[0][1] == pool[1] and lane_boxes[-1][1] + lane_boxes[-1][3] == pool[1] + pool[3]

    # Each node is drawn inside the lane that lists it.
    for lane_id, lane in lanes.items():
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            assert inside(shapes[ref.text], shapes[lane_id], slack=0.5), f"{ref.text} is drawn outside {lane_id}"
    listed = [ref.text for ref in process.iterfind(".//bpmn:flowNodeRef", NS)]
    assert sorted(listed) == sorted(flow_nodes), "every node is in exactly one lane"

    # No two shapes overlap, except a boundary event on the border of its own activity.
    attached = {i: el.get("attachedToRef") for i, el in flow_nodes.items() if local(el) == "boundaryEvent"}
    ids = sorted(flow_nodes)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if attached.get(a) == b or attached.get(b) == a:
                continue
            assert not overlap(shapes[a], shapes[b]), f"{a} overlaps {b}"
    for boundary, host in attached.items():
        x, y, w, h = shapes[boundary]
        hx, hy, hw, hh = shapes[host]
        cx, cy = x + w / 2, y + h / 2
        on_border = (hx <= cx <= hx + hw and cy in (hy, hy + hh)) or (hy <= cy <= hy + hh and cx in (hx, hx + hw))
        assert on_border, f"{boundary} is not on the border of {host}"

    # Edges start on their source, end on their target, are orthogonal, and the flow reads left to right.
    def touches(point, box, slack=1.0):
        x, y = point
        return box[0] - slack <= x <= box[0] + box[2] + slack and box[1] - slack <= y <= box[1] + box[3] + slack

    for flow_id, flow in flows.items():
        points = edges[flow_id]
        assert len(points) >= 2, flow_id
        source, target = shapes[flow.get("sourceRef")], shapes[flow.get("targetRef")]
        assert touches(points[0], source), f"{flow_id} does not start on its source"
        assert touches(points[-1], target), f"{flow_id} does not end on its target"
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            assert x1 == x2 or y1 == y2, f"{flow_id} has a diagonal segment"
        assert target[0] + target[2] / 2 >= source[0] + source[2] / 2, f"{flow_id} goes right to left"


# --------------------------------------------------------------------------- running it


def large_quote(**extra) -> dict:
    return {"customer": CUSTOMER, "lines": LARGE_LINES, "opportunity_id": 77, "quote_id": "Q-1001", **extra}


@pytest.mark.django_db(transaction=True)
def test_large_quote_is_approved_then_runs_through_erp_crm_and_follow_up(definition, users, fakes):
    before = timezone.now()
    instance = start(large_quote())
    assert_no_incident(instance)

    # Above the 10 000 threshold: the manager's approval waits; nothing has been called yet.
    approval = open_task(instance, "Task_ApproveQuote")
    assert [t.element_id for t in open_tasks(instance)] == ["Task_ApproveQuote"]
    assert approval.name == "Approve quote"
    assert approval.lane == "Manager"
    assert approval.candidate_groups == ["Manager"]
    assert approval.assignee is None
    assert before + timedelta(hours=24) <= approval.due_at <= timezone.now() + timedelta(hours=24)
    assert approval.form["key"] == "approve_quote"
    fields = {f["id"]: f for f in approval.form["fields"]}
    assert fields["decision"]["type"] == "enum"
    assert [o["id"] for o in fields["decision"]["options"]] == ["approve", "reject"]
    assert "required" in fields["decision"]["validation"]
    assert fields["comment"]["type"] == "string"
    assert approval.data["total"] == pytest.approx(13500.0)
    assert approval.data["threshold"] == pytest.approx(10000.0)
    assert fakes.calls == []
    timer = Job.objects.get(instance=instance, kind=Job.TIMER)
    assert timer.element_id == "Boundary_ApprovalOverdue" and timer.state == Job.PENDING
    assert before + timedelta(hours=24) - timedelta(seconds=5) <= timer.due_at <= timezone.now() + timedelta(hours=24)

    # Approving places the ERP order and its production, then waits for the ERP to finish the production.
    complete_human_task(approval, users["Manager"], {"decision": "approve", "comment": "ok"})
    assert_no_incident(instance)
    assert fakes.called() == [op for _, op in ERP_PATH]
    assert fakes.input_of("erp.ensure_customer") == {"customer": CUSTOMER}
    assert fakes.input_of("erp.create_sales_order") == {
        "customer_id": 501, "lines": LARGE_LINES, "reference": "Q-1001"}
    assert fakes.input_of("erp.confirm_sales_order") == {"sale_id": 9001}
    assert fakes.input_of("erp.create_production") == {"sale_id": 9001}
    assert refreshed(instance).jobs.get(kind=Job.TIMER).state == Job.CANCELLED
    assert not open_tasks(instance)
    assert list(instance.subscriptions.values_list("element_id", "name")) == [
        ("Task_ProductionDone", "production_done")]
    assert refreshed(instance).variables["production_number"] == "MO-7"
    assert refreshed(instance).variables["sale_number"] == "SO-1042"

    # The ERP's production and then its delivery reach the instance; only then Finance and Sales act.
    assert erp_says("production_done", "production_number", "MO-7", production_state="done") == [instance.pk]
    assert list(instance.subscriptions.values_list("element_id", "name")) == [
        ("Task_ShipmentDelivered", "shipment_delivered")]
    assert fakes.called()[-1] == "erp.create_production"
    delivery_late = instance.jobs.get(kind=Job.TIMER, state=Job.PENDING)
    assert delivery_late.element_id == "Boundary_DeliveryLate"
    assert erp_says("shipment_delivered", "sale_number", "SO-1042", shipment_number="SH-3") == [instance.pk]
    assert_no_incident(instance)
    # Delivered: Sales (opportunity won, follow-up) and Finance (post the invoice) go on side by side.
    assert fakes.called()[:4] == [op for _, op in ERP_PATH]
    assert sorted(fakes.called()[4:]) == ["crm.mark_won", "erp.post_invoice"]
    assert fakes.input_of("erp.post_invoice") == {"sale_id": 9001}
    assert fakes.input_of("crm.mark_won") == {"opportunity_id": 77}
    assert all(call.business_key == "Q-1001" and call.instance_id == instance.pk for call in fakes.calls)
    assert len({call.idempotency_key for call in fakes.calls}) == len(fakes.calls)
    delivery_late.refresh_from_db()
    assert delivery_late.state == Job.CANCELLED
    assert list(instance.subscriptions.values_list("element_id", "name")) == [("Task_InvoicePaid", "invoice_paid")]

    follow_up = open_task(instance, "Task_FollowUp")
    assert [t.element_id for t in open_tasks(instance)] == ["Task_FollowUp"]
    assert follow_up.lane == "Sales" and follow_up.candidate_groups == ["Sales"]
    assert follow_up.form["key"] == "follow_up"
    assert {f["id"]: f["type"] for f in follow_up.form["fields"]} == {
        "follow_up_note": "string", "satisfied": "boolean"}
    assert follow_up.data["sale"]["sale_number"] == "SO-1042"
    assert follow_up.data["shipment_number"] == "SH-3"
    assert refreshed(instance).state == ProcessInstance.ACTIVE

    complete_human_task(follow_up, users["Sales"], {"follow_up_note": "Happy customer", "satisfied": True})
    assert fakes.called()[-1] == "crm.record_follow_up"
    assert fakes.input_of("crm.record_follow_up") == {"opportunity_id": 77, "note": "Happy customer"}
    # Followed up, not yet paid: the instance waits for Finance's news from the ERP.
    assert refreshed(instance).state == ProcessInstance.ACTIVE
    assert erp_says("invoice_paid", "sale_number", "SO-1042", invoice_number="INV-55") == [instance.pk]
    instance = refreshed(instance)
    assert_no_incident(instance)
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.ended_at is not None
    assert not open_tasks(instance)
    assert not instance.jobs.filter(state__in=[Job.PENDING, Job.RUNNING]).exists()
    assert instance.variables["crm_note"] == {"note_id": 44}
    assert instance.variables["invoice"]["invoice_number"] == "INV-55"

    results = [(kind, element) for kind, element in timeline(instance)]
    assert results == [
        ("started", ""),
        ("task_ready", "Task_ApproveQuote"),
        ("task_completed", "Task_ApproveQuote"),
        *[("service_result", element) for element, _ in ERP_PATH],
        ("message", "Task_ProductionDone"),
        ("message", "Task_ShipmentDelivered"),
        ("service_result", "Task_MarkOpportunityWon"),
        ("task_ready", "Task_FollowUp"),
        ("service_result", "Task_PostInvoice"),
        ("task_completed", "Task_FollowUp"),
        ("service_result", "Task_RecordFollowUp"),
        ("message", "Task_InvoicePaid"),
        ("completed", "EndEvent_OrderDelivered"),
    ]
    approved = instance.history.get(kind=HistoryEvent.TASK_COMPLETED, element_id="Task_ApproveQuote")
    assert approved.user == users["Manager"]
    assert approved.data["data"] == {"decision": "approve", "comment": "ok"}


@pytest.mark.django_db(transaction=True)
def test_small_quote_without_opportunity_skips_approval_and_crm(definition, users, fakes):
    instance = start({"customer": CUSTOMER, "lines": SMALL_LINES}, business_key="Q-2002")
    assert_no_incident(instance)
    # 502 is below the default threshold: straight to the ERP, no approval, no CRM (no opportunity).
    assert fakes.called() == [op for _, op in ERP_PATH]
    assert fakes.input_of("erp.create_sales_order")["reference"] == ""
    assert not Job.objects.filter(instance=instance, kind=Job.TIMER).exists()
    erp_delivers(instance)
    assert fakes.called() == [op for _, op in ERP_PATH] + ["erp.post_invoice"]
    follow_up = open_task(instance, "Task_FollowUp")
    assert [t.element_id for t in open_tasks(instance)] == ["Task_FollowUp"]
    assert follow_up.data["total"] == pytest.approx(502.0)
    assert follow_up.data["opportunity_id"] is None

    complete_human_task(follow_up, users["Sales"], {"follow_up_note": "Called", "satisfied": False})
    erp_says("invoice_paid", "sale_number", "SO-1042")
    instance = refreshed(instance)
    assert_no_incident(instance)
    assert instance.state == ProcessInstance.COMPLETED
    assert "crm.mark_won" not in fakes.called() and "crm.record_follow_up" not in fakes.called()
    assert [kind for kind, element in timeline(instance) if element.startswith("Task_Approve")] == []
    assert timeline(instance)[-1] == ("completed", "EndEvent_OrderDelivered")


@pytest.mark.django_db(transaction=True)
def test_threshold_can_be_set_per_quote(definition, users, fakes):
    # The same small quote needs approval when the caller lowers the threshold.
    instance = start({"customer": CUSTOMER, "lines": SMALL_LINES, "opportunity_id": None,
                      "approval_threshold": 500})
    assert_no_incident(instance)
    approval = open_task(instance, "Task_ApproveQuote")
    assert approval.data["threshold"] == pytest.approx(500.0)
    assert fakes.calls == []


@pytest.mark.django_db(transaction=True)
def test_rejected_quote_records_reason_and_completes_without_erp(definition, users, fakes):
    instance = start(large_quote())
    approval = open_task(instance, "Task_ApproveQuote")
    complete_human_task(approval, users["Manager"], {"decision": "reject", "comment": "Discount too deep"})
    instance = refreshed(instance)
    assert_no_incident(instance)
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["rejection_reason"] == "Discount too deep"
    assert fakes.calls == []
    assert not open_tasks(instance)
    assert instance.jobs.get(kind=Job.TIMER).state == Job.CANCELLED
    assert timeline(instance) == [
        ("started", ""), ("task_ready", "Task_ApproveQuote"), ("task_completed", "Task_ApproveQuote"),
        ("completed", "EndEvent_QuoteRejected"),
    ]


@pytest.mark.django_db(transaction=True)
def test_erp_rejecting_the_order_opens_fix_task_in_sales(definition, users, fakes):
    fakes.reject_sales_order = "Product X unknown"
    instance = start({"customer": CUSTOMER, "lines": SMALL_LINES, "opportunity_id": 77})
    assert_no_incident(instance)
    assert fakes.called() == ["erp.ensure_customer", "erp.create_sales_order"]

    fix = open_task(instance, "Task_FixRejectedOrder")
    assert [t.element_id for t in open_tasks(instance)] == ["Task_FixRejectedOrder"]
    assert fix.name == "Fix rejected order"
    assert fix.lane == "Sales" and fix.candidate_groups == ["Sales"]
    assert [f["id"] for f in fix.form["fields"]] == ["note"]
    # spiffworkflow:variableName on the error puts the connector's payload in task data.
    assert fix.data["erp_error"]["code"] == "ERP_REJECTED"
    assert fix.data["erp_error"]["message"] == "Product X unknown"
    assert "sale" not in fix.data
    error = instance.history.get(kind=HistoryEvent.SERVICE_ERROR, element_id="Task_CreateSalesOrder")
    assert error.data["code"] == "ERP_REJECTED" and error.data["handled_by"] == "Boundary_ErpRejected"
    assert refreshed(instance).state == ProcessInstance.ACTIVE

    complete_human_task(fix, users["Sales"], {"note": "Product code corrected; new quote requested"})
    instance = refreshed(instance)
    assert_no_incident(instance)
    assert instance.state == ProcessInstance.COMPLETED
    assert fakes.called() == ["erp.ensure_customer", "erp.create_sales_order"]


@pytest.mark.django_db(transaction=True)
def test_overdue_approval_escalates_and_stays_open(definition, users, fakes):
    instance = start(large_quote())
    approval = open_task(instance, "Task_ApproveQuote")

    # Not due yet after 23 hours.
    assert run_due_work(now=timezone.now() + timedelta(hours=23)) == 0
    assert [t.element_id for t in open_tasks(instance)] == ["Task_ApproveQuote"]

    assert run_due_work(now=timezone.now() + timedelta(hours=25)) == 1
    assert_no_incident(instance)
    assert instance.history.filter(kind=HistoryEvent.TIMER_FIRED, element_id="Boundary_ApprovalOverdue").exists()
    escalation = open_task(instance, "Task_EscalatedApproval")
    assert escalation.name == "Escalated approval overdue"
    assert escalation.lane == "Manager" and escalation.candidate_groups == ["Manager"]
    assert [(f["id"], f["type"]) for f in escalation.form["fields"]] == [("acknowledged", "boolean")]
    # Non-interrupting: the original approval is still the same open task.
    assert open_task(instance, "Task_ApproveQuote").pk == approval.pk
    assert refreshed(instance).state == ProcessInstance.ACTIVE
    assert fakes.calls == []

    # Both paths can still finish: acknowledge, approve, follow up.
    complete_human_task(escalation, users["Manager"], {"acknowledged": True})
    assert [t.element_id for t in open_tasks(instance)] == ["Task_ApproveQuote"]
    complete_human_task(approval, users["Manager"], {"decision": "approve", "comment": "late but ok"})
    assert_no_incident(instance)
    erp_delivers(instance)
    assert sorted(fakes.called()[4:]) == ["crm.mark_won", "erp.post_invoice"]
    complete_human_task(open_task(instance, "Task_FollowUp"), users["Sales"],
                        {"follow_up_note": "Delivered", "satisfied": True})
    erp_says("invoice_paid", "sale_number", "SO-1042")
    instance = refreshed(instance)
    assert_no_incident(instance)
    assert instance.state == ProcessInstance.COMPLETED
    assert not open_tasks(instance)
    assert not instance.jobs.filter(state__in=[Job.PENDING, Job.RUNNING]).exists()
    assert [e.kind for e in instance.history.filter(kind=HistoryEvent.TIMER_FIRED)] == ["timer_fired"]


@pytest.mark.django_db(transaction=True)
def test_a_late_delivery_gives_the_warehouse_a_chase_task_and_the_delivery_still_counts(definition, users, fakes):
    instance = start({"customer": CUSTOMER, "lines": SMALL_LINES}, business_key="Q-3003")
    erp_says("production_done", "production_number", "MO-7")

    # Three days after the production nothing was delivered: the Warehouse is asked to chase it.
    assert run_due_work(now=timezone.now() + timedelta(days=2)) == 0
    assert run_due_work(now=timezone.now() + timedelta(days=3, minutes=1)) == 1
    chase = open_task(instance, "Task_ChaseDelivery")
    assert chase.lane == "Warehouse" and chase.candidate_groups == ["Warehouse"]
    assert [f["id"] for f in chase.form["fields"]] == ["chase_note"]
    # Non-interrupting: the instance still waits for the delivery itself.
    assert instance.subscriptions.filter(name="shipment_delivered").exists()
    complete_human_task(chase, users["Warehouse"], {"chase_note": "Carrier called, ships tomorrow"})

    erp_says("shipment_delivered", "sale_number", "SO-1042")
    complete_human_task(open_task(instance, "Task_FollowUp"), users["Sales"], {"follow_up_note": "ok"})
    erp_says("invoice_paid", "sale_number", "SO-1042")
    instance = refreshed(instance)
    assert_no_incident(instance)
    assert instance.state == ProcessInstance.COMPLETED
    assert timeline(instance)[-1] == ("completed", "EndEvent_OrderDelivered")
    assert instance.history.filter(kind=HistoryEvent.TASK_COMPLETED, element_id="Task_ChaseDelivery").exists()


@pytest.mark.django_db(transaction=True)
def test_an_overdue_invoice_gives_finance_a_reminder_until_it_is_paid(definition, users, fakes):
    instance = start({"customer": CUSTOMER, "lines": SMALL_LINES}, business_key="Q-4004")
    erp_delivers(instance)
    complete_human_task(open_task(instance, "Task_FollowUp"), users["Sales"], {"follow_up_note": "ok"})
    overdue = instance.jobs.get(kind=Job.TIMER, state=Job.PENDING)
    assert overdue.element_id == "Boundary_PaymentOverdue"

    assert run_due_work(now=timezone.now() + timedelta(days=29)) == 0
    assert run_due_work(now=timezone.now() + timedelta(days=30, minutes=1)) == 1
    reminder = open_task(instance, "Task_RemindPayment")
    assert reminder.lane == "Finance" and reminder.candidate_groups == ["Finance"]
    assert reminder.data["invoice"]["invoice_number"] == "INV-55"
    complete_human_task(reminder, users["Finance"], {"reminder_note": "Emailed the customer"})
    assert refreshed(instance).state == ProcessInstance.ACTIVE

    erp_says("invoice_paid", "sale_number", "SO-1042")
    instance = refreshed(instance)
    assert_no_incident(instance)
    assert instance.state == ProcessInstance.COMPLETED


def test_parse_processes_accepts_the_file_without_database():
    # The validation half of deploy (XSD, SpiffWorkflow parse, expression checks) on its own.
    _tree, specs = parse_processes(bpmn_bytes(), "quote_to_cash.bpmn")
    spec, _subprocesses = specs[PROCESS_ID]
    lanes = {ts.lane for ts in spec.task_specs.values() if getattr(ts, "lane", None)}
    assert lanes == set(LANES)
