"""The monitor, process monitor and reports pages, and the operator's instance list."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from engine.models import HumanTask, ProcessInstance
from monitoring import dashboard


@pytest.fixture
def operator(make_user):
    client = Client()
    client.force_login(make_user("op", "Operator"))
    return client


@pytest.fixture
def some_orders(orders):
    delivered, rejected, waiting, failed = (orders.start(f"Q-{n}") for n in range(4))
    orders.decide(delivered, True)
    orders.run_call(delivered)
    orders.decide(rejected, False)
    orders.decide(failed, True)
    orders.erp_fails = True
    orders.run_call(failed)
    return delivered, rejected, waiting, failed


def test_the_dashboard_counts_running_completed_incidents_and_where_orders_wait(some_orders):
    waiting = some_orders[2]
    HumanTask.objects.filter(instance=waiting).update(due_at=timezone.now() - timedelta(minutes=5))

    data = dashboard.summary()

    assert data["tiles"] == {"running": 2, "completed_today": 2, "incidents": 1, "overdue": 1}
    (process,) = data["processes"]
    assert process["states"] == {"active": 2, "completed": 2}
    assert (process["overdue"], process["incidents"]) == (1, 1)
    assert [(s["name"], s["waiting"], s["incidents"]) for s in process["stages"]] == [
        ("Approve quote", 1, 0), ("Create ERP order", 0, 1)]
    assert data["trends"]["started"][-1] == 4 and data["trends"]["completed"][-1] == 2
    assert [(i["element_id"], i["name"]) for i in data["incidents"]] == [("create_order", "Create ERP order")]


@pytest.mark.parametrize("url", ["/monitor/", "/monitor/data/", "/processes/order/monitor/", "/reports/",
                                 "/reports/?tab=exceptions", "/reports/?tab=bottlenecks&process=order",
                                 "/monitor/alerts/"])
def test_the_pages_answer_monitoring_roles_and_refuse_lane_members(some_orders, operator, make_user, url):
    seller = Client()
    seller.force_login(make_user("lane", "Sales"))

    assert operator.get(url).status_code == 200
    assert seller.get(url).status_code == 403


def test_the_monitor_page_shows_the_tiles_and_loads_echarts_from_our_static_files(some_orders, operator):
    body = operator.get("/monitor/").content.decode()

    assert "vendor/echarts/echarts.min.js" in body
    assert 'data-tile="incidents">1<' in body
    assert "Approve quote" in body


def test_the_stage_report_page_lists_instances_and_links_the_downloads(some_orders, operator):
    body = operator.get("/reports/?process=order").content.decode()

    assert "Order delivered" in body and "Quote rejected" in body
    assert "/api/v1/reports/stages/?process=order" in body and "format=xlsx" in body


def test_a_bad_month_on_the_reports_page_is_said_not_a_500(orders, operator):
    response = operator.get("/reports/?tab=exceptions&month=2026-13")

    assert response.status_code == 200
    assert "YYYY-MM" in response.content.decode()


def test_the_instance_list_finds_an_order_by_its_erp_number_and_shows_step_outcome_and_number(
        some_orders, operator):
    delivered, rejected, waiting, failed = some_orders

    found = operator.get("/processes/instances/?q=so-0001").content.decode()
    everything = operator.get("/processes/instances/").content.decode()

    assert f'href="/processes/instances/{delivered.pk}/"' in found
    assert f'href="/processes/instances/{rejected.pk}/"' not in found
    assert "SO-0001" in found and "Order delivered" in found
    assert "Approve quote" in everything and "Quote rejected" in everything


def test_the_instance_list_shows_the_instances_waiting_at_an_element(some_orders, operator):
    delivered, rejected, waiting, failed = some_orders

    body = operator.get("/processes/instances/?process=order&element=create_order").content.decode()

    assert f'href="/processes/instances/{failed.pk}/"' in body
    assert f'href="/processes/instances/{waiting.pk}/"' not in body


def test_the_instance_list_filters_by_start_date(some_orders, operator):
    delivered = some_orders[0]
    ProcessInstance.objects.exclude(pk=delivered.pk).update(started_at="2026-01-01T10:00:00Z")

    body = operator.get("/processes/instances/?from=2026-01-01&to=2026-01-01").content.decode()

    assert f'href="/processes/instances/{delivered.pk}/"' not in body
    assert body.count('class="state-') == 3


def test_the_pages_speak_chinese(some_orders, operator):
    call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)

    monitor = operator.get("/monitor/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    listing = operator.get("/processes/instances/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "流程监控" in monitor and "逾期任务" in monitor
    assert "当前步骤" in listing and "已完成" in listing


def test_the_instance_page_shows_readable_history_variables_and_outcome(some_orders, operator):
    delivered = some_orders[0]

    body = operator.get(f"/processes/instances/{delivered.pk}/").content.decode()

    assert "Call answered" in body and "Task done" in body and "service_result" not in body
    assert '<table class="table variables">' in body and "<th>approved</th><td>true</td>" in body
    assert '<small class="badge">Order delivered</small>' in body
