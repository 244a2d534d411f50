"""Engine throughput: the full Lanebridge stack against raw SpiffWorkflow, measured in the same run.

Run: ``.venv/bin/python bench/engine_throughput.py [--instances N]``. Prints figures; asserts nothing.

Both sides run the quote-to-cash process (processes/bpmn/quote_to_cash.bpmn, or a built-in stand-in
of similar size if that file is missing) with the same restricted script engine and in-process fake
ERP/CRM operations:

* full stack: `engine.runtime.start_instance` → complete the manager's approval → service jobs run
  in process right after each commit → complete the follow-up task → the last service call → done;
  every step is a database transaction with history, human-task and job rows and a version check.

The two sides alternate in rounds (``--rounds``), so a busy moment of a shared machine falls on
both; the ratio of the totals is the figure, with the spread of the per-round ratios beside it.
* raw SpiffWorkflow: the spec is parsed once; each instance is run by completing user tasks and
  service tasks directly, and at every wait point the whole workflow is serialized *with* its spec
  (the library's default converter) and written to a SQLite table (WAL, one commit per write).
  The baseline never reads state back, so it is the optimistic bound for a "naive" integration.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROCESS_FILE = ROOT / "processes" / "bpmn" / "quote_to_cash.bpmn"
PROCESS_ID = "quote_to_cash"

_counter = itertools.count(1000)


def fake_operations() -> dict:
    """In-process stand-ins for the ERP and CRM operations the process calls; plausible answers."""

    def ensure_customer(call):
        return {"customer_id": 17, "code": "C-17", "created": False}

    def create_sales_order(call):
        n = next(_counter)
        return {"sale_id": n, "sale_number": f"SO-{n}", "state": "draft", "lines": len(call.input.get("lines") or [])}

    def confirm_sales_order(call):
        return {"sale_id": call.input.get("sale_id"), "state": "confirmed"}

    def create_production(call):
        n = next(_counter)
        return {"production_id": n, "production_number": f"MO-{n}", "state": "waiting"}

    def complete_production(call):
        return {"production_id": call.input.get("production_id"), "state": "done"}

    def ship_order(call):
        n = next(_counter)
        return {"shipment_id": n, "number": f"SH-{n}", "state": "done"}

    def read_invoice(call):
        n = next(_counter)
        return {"invoice_id": n, "invoice_number": f"INV-{n}", "total": "1250.00", "state": "posted"}

    def mark_won(call):
        return {"opportunity_id": call.input.get("opportunity_id"), "state": "won"}

    def record_follow_up(call):
        return {"activity_id": next(_counter)}

    return {
        "erp.ensure_customer": ensure_customer,
        "erp.create_sales_order": create_sales_order,
        "erp.confirm_sales_order": confirm_sales_order,
        "erp.create_production": create_production,
        "erp.complete_production": complete_production,
        "erp.ship_order": ship_order,
        "erp.read_invoice": read_invoice,
        "erp.post_invoice": read_invoice,
        "crm.mark_won": mark_won,
        "crm.record_follow_up": record_follow_up,
    }


def start_variables(i: int) -> dict:
    return {
        "customer": {"name": f"Customer {i}", "code": f"C-{i}", "email": f"c{i}@example.com"},
        "lines": [
            {"product": "WIDGET", "quantity": 10, "unit_price": 100.0},
            {"product": "GADGET", "quantity": 5, "unit_price": 50.0},
        ],
        "approval_threshold": 1000,
        "opportunity_id": 500 + i,
        "quote_id": f"Q-{i}",
    }


# User-task answers by element id (quote_to_cash, and the stand-in below).
ANSWERS = {
    "Task_ApproveQuote": {"decision": "approve", "comment": "ok"},
    "Task_FollowUp": {"follow_up_note": "customer happy", "satisfied": True},
}


def stand_in_process() -> bytes:
    """A process of similar shape, used only while processes/bpmn/quote_to_cash.bpmn does not exist."""
    operations = [
        ("Task_EnsureCustomer", "erp.ensure_customer", "erp_customer", {"customer": "customer"}),
        ("Task_CreateSalesOrder", "erp.create_sales_order", "sale",
         {"customer_id": 'erp_customer["customer_id"]', "lines": "lines"}),
        ("Task_ConfirmSalesOrder", "erp.confirm_sales_order", "confirmation", {"sale_id": 'sale["sale_id"]'}),
        ("Task_CreateProduction", "erp.create_production", "production", {"sale_id": 'sale["sale_id"]'}),
        ("Task_CompleteProduction", "erp.complete_production", "production_done",
         {"production_id": 'production["production_id"]'}),
        ("Task_ShipOrder", "erp.ship_order", "shipment", {"sale_id": 'sale["sale_id"]'}),
        ("Task_ReadInvoice", "erp.read_invoice", "invoice", {"sale_id": 'sale["sale_id"]'}),
        ("Task_MarkOpportunityWon", "crm.mark_won", "crm_opportunity", {"opportunity_id": "opportunity_id"}),
    ]

    def service(element_id, operation, result, params):
        rows = "".join(
            f'<spiffworkflow:parameter id="{k}" type="any" value="{v.replace(chr(34), "&quot;")}" />'
            for k, v in params.items()
        )
        return (
            f'<bpmn:serviceTask id="{element_id}"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="{result}">'
            f"<spiffworkflow:parameters>{rows}</spiffworkflow:parameters>"
            "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
        )

    nodes = [
        '<bpmn:startEvent id="StartEvent" />',
        '<bpmn:scriptTask id="Task_ComputeTotal"><bpmn:script>'
        "total = sum(float(l['quantity']) * float(l['unit_price']) for l in lines)</bpmn:script></bpmn:scriptTask>",
        '<bpmn:userTask id="Task_ApproveQuote" name="Approve quote" />',
        *(service(*op) for op in operations),
        '<bpmn:userTask id="Task_FollowUp" name="Follow up" />',
        service("Task_RecordFollowUp", "crm.record_follow_up", "crm_note",
                {"opportunity_id": "opportunity_id", "note": "follow_up_note"}),
        '<bpmn:endEvent id="EndEvent" />',
    ]
    ids = [n.split('id="', 1)[1].split('"', 1)[0] for n in nodes]
    pairs = zip(ids, ids[1:], strict=False)
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />' for i, (a, b) in enumerate(pairs)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="http://x">'
        f'<bpmn:process id="{PROCESS_ID}" isExecutable="true">{"".join(nodes)}{flows}</bpmn:process>'
        "</bpmn:definitions>"
    ).encode()


def setup_django(workdir: Path) -> None:
    os.environ["LANEBRIDGE_VAR"] = str(workdir)
    os.environ["SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "lanebridge.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def full_stack_runner(content: bytes):
    """Deploy the process; returns run(first, n) → seconds for n instances through the full stack.

    Each instance: `engine.runtime.start_instance` → complete the manager's approval → service jobs
    run after each commit → the ERP's messages (production done, delivered, paid) as the watcher
    sends them → complete the follow-up task → the last service call → done.
    """
    from django.contrib.auth import get_user_model

    from engine.deploy import deploy
    from engine.messages import Message, send_message
    from engine.models import HumanTask, ProcessInstance, Subscription
    from engine.runtime import complete_human_task, start_instance

    user = get_user_model().objects.create_user("bench", password="x")
    deploy(content, "quote_to_cash.bpmn", user)

    def one(i: int) -> None:
        instance, _ = start_instance(PROCESS_ID, start_variables(i), business_key=f"Q-{i}", user=user)
        while instance.state == ProcessInstance.ACTIVE:
            task = HumanTask.objects.filter(instance=instance, state=HumanTask.OPEN).exclude(
                element_id="Task_EscalatedApproval").first()
            if task is not None:
                instance = complete_human_task(task, user, ANSWERS.get(task.element_id, {}))
                continue
            waiting = Subscription.objects.filter(instance=instance).first()
            if waiting is None:
                break
            send_message(Message(name=waiting.name, business_key=instance.business_key))
            instance.refresh_from_db()
        if instance.state != ProcessInstance.COMPLETED:
            raise SystemExit(f"full stack: instance {instance.pk} ended {instance.state}: {instance.error}")

    def run(first: int, n: int) -> float:
        started = time.perf_counter()
        for i in range(first, first + n):
            one(i)
        return time.perf_counter() - started

    def paused_size() -> int:
        # Size of a row paused at the approval, the typical resting state.
        paused, _ = start_instance(PROCESS_ID, start_variables(-100), user=user)
        return len(paused.state_json)

    run(-3, 3)  # warm the spec cache and the compiled-script cache
    return run, paused_size


def raw_spiff_runner(content: bytes, db_path: Path):
    """Parse the spec once; returns run(first, n) → seconds, and the sizes of the rows written.

    Each instance is run by completing user tasks and service tasks directly; at every wait point
    the whole workflow is serialized with its spec and written to a SQLite table.
    """
    from lxml import etree
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from engine import spiff
    from engine.scripts import SCRIPT_ENGINE

    parser = spiff.BpmnParser()
    parser.add_bpmn_xml(etree.fromstring(content).getroottree(), "quote_to_cash.bpmn")
    spec = parser.get_spec(PROCESS_ID)
    subprocess_specs = parser.get_subprocess_specs(PROCESS_ID)
    serializer = spiff.SPEC_SERIALIZER  # default workflow converter: the spec goes into every row
    operations = fake_operations()

    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS workflow (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
    sizes: list[int] = []

    class FakeCall:
        def __init__(self, params):
            self.input = params

    def save(row_id, workflow) -> int:
        state = serializer.serialize_json(workflow)
        db.execute("BEGIN IMMEDIATE")
        if row_id is None:
            row_id = db.execute("INSERT INTO workflow (state) VALUES (?)", (state,)).lastrowid
        else:
            db.execute("UPDATE workflow SET state = ? WHERE id = ?", (state, row_id))
        db.execute("COMMIT")
        sizes.append(len(state))
        return row_id

    def one(i: int) -> None:
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
        workflow.get_tasks()[0].data.update(start_variables(i))
        workflow.do_engine_steps()
        row_id = save(None, workflow)
        while not workflow.is_completed():
            service = [t for t in workflow.get_tasks(state=TaskState.STARTED)
                       if isinstance(t.task_spec, spiff.WaitingServiceTask)]
            ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            receiving = [t for t in workflow.get_tasks(state=TaskState.WAITING) if spiff.message_names(t.task_spec)]
            if service:
                task = service[0]
                params = {k: v["value"] for k, v in task.task_spec.evaluate_params(task).items()}
                task.data[task.task_spec.result_variable] = operations[task.task_spec.operation_name](FakeCall(params))
                task.complete()
            elif ready:
                task = ready[0]
                task.set_data(**ANSWERS.get(task.task_spec.bpmn_id, {}))
                task.run()
            elif receiving:
                spiff.catch_message(receiving[0], spiff.message_names(receiving[0].task_spec)[0], {})
            else:
                raise SystemExit(f"raw spiff: instance {i} is stuck")
            workflow.do_engine_steps()
            row_id = save(row_id, workflow)

    def run(first: int, n: int) -> float:
        started = time.perf_counter()
        for i in range(first, first + n):
            one(i)
        return time.perf_counter() - started

    run(-3, 3)
    sizes.clear()
    return run, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternate the two sides this many times, so a busy moment of a shared "
                             "machine falls on both")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, args.instances))
    batch = args.instances // rounds

    with tempfile.TemporaryDirectory(prefix="lanebridge-bench-") as tmp:
        workdir = Path(tmp)
        setup_django(workdir)
        from engine import connectors

        for name, func in fake_operations().items():
            connectors.register(name, func)
        if PROCESS_FILE.exists():
            content, source = PROCESS_FILE.read_bytes(), str(PROCESS_FILE.relative_to(ROOT))
        else:
            content, source = stand_in_process(), "built-in stand-in (quote_to_cash.bpmn not found)"

        run_raw, raw_sizes = raw_spiff_runner(content, workdir / "raw.sqlite3")
        run_full, paused_size = full_stack_runner(content)
        raw_seconds = full_seconds = 0.0
        ratios = []
        for r in range(rounds):
            raw = run_raw(r * batch, batch)
            full = run_full(r * batch, batch)
            raw_seconds, full_seconds = raw_seconds + raw, full_seconds + full
            ratios.append(raw / full)
            print(f"  round {r + 1}: raw {batch / raw:.1f} inst/s, full {batch / full:.1f} inst/s", file=sys.stderr)
        full_size = paused_size()

    n = batch * rounds
    full_rate, raw_rate = n / full_seconds, n / raw_seconds
    ratios.sort()
    print(f"process: {source} ({len(content)} bytes), instances: {n} in {rounds} alternating rounds")
    print(f"full stack (Lanebridge):        {full_rate:8.1f} inst/s  ({full_seconds:.2f} s)")
    print(f"raw SpiffWorkflow + SQLite rows: {raw_rate:8.1f} inst/s  ({raw_seconds:.2f} s)")
    print(f"ratio full/raw: {full_rate / raw_rate:.2f}  (goal >= 0.6); per round: min {ratios[0]:.2f}, "
          f"median {ratios[len(ratios) // 2]:.2f}, max {ratios[-1]:.2f}")
    print(f"row size paused at approval: Lanebridge state_json {full_size} B, "
          f"raw with spec {raw_sizes[0]} B (mean over all raw writes {sum(raw_sizes) // len(raw_sizes)} B)")


if __name__ == "__main__":
    main()
