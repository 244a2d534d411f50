"""Statistics and bottlenecks per element, from instances whose times the test sets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.deploy import deploy
from engine.models import HistoryEvent, Incident
from engine.runtime import start_instance
from monitoring import alerts, reports
from monitoring.models import PassCount
from tests.engine import bpmn_events as ev
from tests.monitoring.conftest import T0, after


@pytest.fixture
def five_orders(orders):
    """Approve passes of 10, 30, 50 (rejected) and 20 s; ERP calls of 2 and 4 s; one call failed; one waiting."""
    a, b, c, d, e = (orders.start(f"Q-{n}", at=T0) for n in "ABCDE")
    orders.decide(a, True, at=after(10))
    orders.run_call(a, at=after(12))
    orders.decide(b, True, at=after(30))
    orders.run_call(b, at=after(34))
    orders.decide(c, False, at=after(50))
    orders.decide(e, True, at=after(20))
    orders.erp_fails = True
    orders.run_call(e)
    return a, b, c, d, e


def by_element(stats: dict) -> dict:
    return {e["element_id"]: e for e in stats["elements"]}


def test_statistics_count_waiting_tokens_incidents_and_passes_per_element(five_orders):
    stats = by_element(reports.statistics("order"))

    assert stats["approve"] == {"element_id": "approve", "name": "Approve quote", "type": "userTask", "active": 1,
                                "incidents": 0, "completed": 4, "avg_seconds": 27.5, "p90_seconds": 50.0}
    assert stats["create_order"] == {"element_id": "create_order", "name": "Create ERP order", "type": "serviceTask",
                                     "active": 0, "incidents": 1, "completed": 2, "avg_seconds": 3.0,
                                     "p90_seconds": 4.0}


def test_elements_without_passes_have_null_times_and_are_listed_in_diagram_order(five_orders):
    stats = reports.statistics("order")

    assert [e["element_id"] for e in stats["elements"]] == [
        "start", "approve", "decide", "create_order", "delivered", "rejected"]
    assert by_element(stats)["decide"]["avg_seconds"] is None
    assert by_element(stats)["decide"]["p90_seconds"] is None


def test_a_resolved_incident_is_no_longer_counted(five_orders):
    Incident.objects.update(state=Incident.RESOLVED)

    assert by_element(reports.statistics("order"))["create_order"]["incidents"] == 0


def test_the_api_answers_the_contract_and_filters_by_version(five_orders, make_user, api_as):
    client = api_as(make_user("op", "Operator"))

    body = client.get("/api/v1/processes/order/statistics/").json()
    one_version = client.get("/api/v1/processes/order/statistics/?version=1").json()
    missing_version = client.get("/api/v1/processes/order/statistics/?version=2")
    bad_version = client.get("/api/v1/processes/order/statistics/?version=two")

    assert set(body) == {"process_id", "elements"}
    assert set(body["elements"][0]) == {"element_id", "name", "type", "active", "incidents", "completed",
                                        "avg_seconds", "p90_seconds"}
    assert one_version == body
    assert missing_version.status_code == 404
    assert bad_version.status_code == 400 and "version" in bad_version.json()


def test_bottlenecks_put_the_slowest_step_first(five_orders, make_user, api_as):
    body = api_as(make_user("op", "Operator")).get("/api/v1/reports/bottlenecks/?process=order").json()

    assert [(e["element_id"], e["p90_seconds"], e["avg_seconds"], e["count"]) for e in body["elements"]] == [
        ("approve", 50.0, 27.5, 4), ("create_order", 4.0, 3.0, 2)]


def test_an_unknown_process_is_a_404(orders, make_user, api_as):
    client = api_as(make_user("op", "Operator"))

    assert client.get("/api/v1/processes/nope/statistics/").status_code == 404
    assert client.get("/api/v1/reports/bottlenecks/?process=nope").status_code == 404


def test_passes_counted_before_are_not_counted_again_once_they_settle(five_orders, orders):
    before = by_element(reports.statistics("order"))["approve"]["completed"]
    HistoryEvent.objects.update(at=timezone.now() - timedelta(hours=1))
    settled = by_element(reports.statistics("order"))["approve"]["completed"]
    again = by_element(reports.statistics("order"))["approve"]["completed"]
    orders.decide(five_orders[3], False)

    after = by_element(reports.statistics("order"))

    assert before == settled == again == 4
    assert after["approve"]["completed"] == 5
    assert PassCount.objects.get(element_id="approve").count == 4


def test_an_instance_waiting_for_a_message_counts_as_waiting_at_its_catch_event(db):
    deploy(ev.waits_for_message(), "awaiting.bpmn")
    start_instance("awaiting_payment", {})

    stats = by_element(reports.statistics("awaiting_payment"))

    assert stats["wait"]["active"] == 1
    assert stats["after"]["active"] == 0


def test_a_message_boundary_on_a_task_is_not_a_second_token(db):
    deploy(ev.message_boundary_process(), "cancellable.bpmn")
    start_instance("cancellable_order", {})

    stats = by_element(reports.statistics("cancellable_order"))

    assert (stats["review"]["active"], stats["cancelled"]["active"]) == (1, 0)


def test_the_minutes_alert_run_folds_settled_passes_into_the_counts(five_orders):
    HistoryEvent.objects.update(at=timezone.now() - timedelta(hours=1))

    alerts.run_alerts(timezone.now())

    assert PassCount.objects.get(element_id="approve").count == 4
    assert by_element(reports.statistics("order"))["approve"]["completed"] == 4
