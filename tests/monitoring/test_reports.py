"""Stage and exception reports: every number against instances the test shapes, read back from CSV and XLSX."""

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest
from django.core.management import call_command

from engine.models import HumanTask, Incident, ProcessInstance
from engine.runtime import cancel_instance
from monitoring import reports
from tests.monitoring.conftest import T0, after


@pytest.fixture
def client(make_user, api_as):
    return api_as(make_user("op", "Operator"))


@pytest.fixture
def three_orders(orders):
    """Delivered in 12 s, rejected after 50 s, waiting for approval."""
    a, b, c = (orders.start(f"Q-{n}", at=T0) for n in "ABC")
    orders.decide(a, True, at=after(10))
    orders.run_call(a, at=after(12))
    orders.decide(b, False, at=after(50))
    return a, b, c


def test_the_stage_report_has_one_row_per_instance_with_its_steps_and_numbers(three_orders, client):
    a, b, c = three_orders

    body = client.get("/api/v1/reports/stages/?process=order").json()

    rows = {r["business_key"]: r for r in body["results"]}
    assert body["count"] == 3
    assert set(rows["Q-A"]) >= {"id", "business_key", "state", "outcome", "current", "started_at", "ended_at",
                                "duration_seconds", "external_ids", "steps"}
    assert (rows["Q-A"]["state"], rows["Q-A"]["outcome"], rows["Q-A"]["duration_seconds"]) == (
        "completed", "Order delivered", 12.0)
    assert rows["Q-A"]["external_ids"] == {"business_key": "Q-A", "erp.sale": "SO-0001"}
    assert [(s["name"], s["done_at"]) for s in rows["Q-A"]["steps"]] == [
        ("Approve quote", "2026-11-02T09:00:10Z"), ("Create ERP order", "2026-11-02T09:00:12Z")]
    assert (rows["Q-B"]["outcome"], rows["Q-B"]["duration_seconds"], rows["Q-B"]["current"]) == (
        "Quote rejected", 50.0, [])
    assert (rows["Q-C"]["state"], rows["Q-C"]["current"], rows["Q-C"]["ended_at"]) == (
        "active", ["Approve quote"], None)


def test_the_stage_report_filters_by_start_date_and_state(three_orders, client):
    a, b, c = three_orders
    ProcessInstance.objects.filter(pk=c.pk).update(started_at=datetime(2026, 11, 5, 8, tzinfo=UTC))

    def keys(query):
        return sorted(r["business_key"] for r in client.get(f"/api/v1/reports/stages/?process=order&{query}").json()[
            "results"])

    assert keys("from=2026-11-03") == ["Q-C"]
    assert keys("to=2026-11-02") == ["Q-A", "Q-B"]
    assert keys("from=2026-11-02&to=2026-11-05") == ["Q-A", "Q-B", "Q-C"]
    assert keys("state=active") == ["Q-C"]


def test_the_stage_page_fills_only_the_newest_rows_oldest_first_and_counts_them_all(three_orders):
    a, b, c = three_orders

    rows, _steps, _kinds, total = reports.stage_page("order", newest=2)

    assert total == 3
    assert [r["business_key"] for r in rows] == ["Q-B", "Q-C"]
    assert (rows[0]["outcome"], rows[0]["duration_seconds"], rows[1]["current"]) == (
        "Quote rejected", 50.0, ["Approve quote"])
    assert reports.stage_page("order", state="active")[3] == 1


def test_the_stage_report_as_csv_has_a_bom_a_header_and_one_row_per_instance(three_orders, client):
    response = client.get("/api/v1/reports/stages/?process=order&format=csv")

    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Instance", "Business key", "State", "Outcome", "Current step", "Started", "Ended",
                       "Duration (seconds)", "Business key", "ERP order", "Approve quote done",
                       "Create ERP order done"]
    assert len(rows) == 4
    delivered = next(r for r in rows[1:] if r[1] == "Q-A")
    assert delivered[2:5] == ["completed", "Order delivered", ""]
    assert delivered[7] == "12.0" and delivered[9] == "SO-0001"
    assert delivered[10:] == ["2026-11-02 09:00:10", "2026-11-02 09:00:12"]


def test_the_stage_report_as_xlsx_is_a_workbook_with_the_same_rows(three_orders, client):
    response = client.get("/api/v1/reports/stages/?process=order&format=xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Instance", "Business key", "State", "Outcome")
    assert len(rows) == 4
    waiting = next(r for r in rows[1:] if r[1] == "Q-C")
    assert waiting[2:5] == ("active", None, "Approve quote")
    assert next(r for r in rows[1:] if r[1] == "Q-A")[5] == datetime(2026, 11, 2, 9, 0)


def test_report_headers_follow_the_users_language(three_orders, client):
    # The .mo is built at set-up and git-ignored; build it here too so the test stands alone.
    call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)
    response = client.get("/api/v1/reports/stages/?process=order&format=csv", HTTP_ACCEPT_LANGUAGE="zh-hans")

    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:4] == ["实例", "业务编号", "状态", "结果"]


def test_the_exception_report_counts_the_months_problems_at_their_boundaries(orders, client):
    inside, late, overdue, failed, other_month = (orders.start(f"Q-{n}") for n in range(5))
    for instance in (inside, late, other_month):
        orders.decide(instance, True)
        orders.erp_fails = True
        orders.run_call(instance)
    Incident.objects.filter(instance=inside).update(created_at=datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    Incident.objects.filter(instance=late).update(
        created_at=datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), state=Incident.RESOLVED,
        resolved_at=datetime(2026, 12, 1, 0, 59, 59, tzinfo=UTC))
    Incident.objects.filter(instance=other_month).update(created_at=datetime(2026, 12, 1, tzinfo=UTC))
    HumanTask.objects.filter(instance=overdue).update(due_at=datetime(2026, 11, 10, tzinfo=UTC))
    cancel_instance(failed, reason="customer withdrew")
    ProcessInstance.objects.filter(pk=failed.pk).update(ended_at=datetime(2026, 11, 15, tzinfo=UTC))

    body = client.get("/api/v1/reports/exceptions/?month=2026-11").json()

    rows = {(r["process_id"], r["element_id"]): r for r in body["rows"]}
    assert rows[("order", "create_order")] | {} == {
        "process_id": "order", "element_id": "create_order", "element_name": "Create ERP order", "incidents": 2,
        "incidents_open": 1, "incidents_resolved": 1, "avg_resolve_seconds": 3600.0, "overdue_tasks": 0,
        "failed_instances": 0, "cancelled_instances": 0}
    assert rows[("order", "approve")]["overdue_tasks"] == 1
    assert rows[("order", "")]["cancelled_instances"] == 1
    assert body["totals"] == {"incidents": 2, "incidents_open": 1, "incidents_resolved": 1, "overdue_tasks": 1,
                              "failed_instances": 0, "cancelled_instances": 1}
    assert client.get("/api/v1/reports/exceptions/?month=2026-12").json()["totals"]["incidents"] == 1


def test_a_task_done_after_its_due_time_counts_as_overdue_and_one_done_in_time_does_not(orders):
    late, in_time = orders.start("Q-late"), orders.start("Q-in-time")
    orders.decide(late, False)
    orders.decide(in_time, False)
    HumanTask.objects.filter(instance=late).update(due_at=datetime(2026, 11, 3, tzinfo=UTC),
                                                   completed_at=datetime(2026, 11, 4, tzinfo=UTC))
    HumanTask.objects.filter(instance=in_time).update(due_at=datetime(2026, 11, 5, tzinfo=UTC),
                                                      completed_at=datetime(2026, 11, 4, tzinfo=UTC))

    assert reports.exceptions("2026-11")["totals"]["overdue_tasks"] == 1


def test_the_exception_report_downloads_as_csv_and_xlsx(orders, client):
    instance = orders.start("Q-1")
    orders.decide(instance, True)
    orders.erp_fails = True
    orders.run_call(instance)
    month = Incident.objects.get().created_at.strftime("%Y-%m")

    as_csv = list(csv.reader(io.StringIO(client.get(
        f"/api/v1/reports/exceptions/?month={month}&format=csv").content.decode("utf-8-sig"))))
    as_xlsx = list(openpyxl.load_workbook(io.BytesIO(client.get(
        f"/api/v1/reports/exceptions/?month={month}&format=xlsx").content)).active.iter_rows(values_only=True))

    assert as_csv[1][:3] == ["order", "Create ERP order", "1"]
    assert as_xlsx[1][:3] == ("order", "Create ERP order", 1)
    assert len(as_csv) == len(as_xlsx) == 2


@pytest.mark.parametrize("query, field", [
    ("reports/exceptions/?month=2026-13", "month"), ("reports/exceptions/?month=November", "month"),
    ("reports/exceptions/", "month"), ("reports/stages/", "process"),
    ("reports/stages/?process=order&from=yesterday", "from"), ("reports/stages/?process=order&format=pdf", "format"),
    ("reports/stages/?process=order&state=lost", "state"),
])
def test_bad_report_parameters_get_a_400_naming_the_field(orders, client, query, field):
    response = client.get(f"/api/v1/{query}")

    assert response.status_code == 400
    assert field in response.json()
