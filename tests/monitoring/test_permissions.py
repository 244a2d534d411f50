"""Monitoring is for operators, auditors, analysts, managers and superusers; lane members get 403."""

import pytest
from rest_framework.test import APIClient

ENDPOINTS = [
    "/api/v1/processes/order/statistics/",
    "/api/v1/reports/stages/?process=order",
    "/api/v1/reports/stages/?process=order&format=csv",
    "/api/v1/reports/exceptions/?month=2026-11",
    "/api/v1/reports/bottlenecks/?process=order",
]


@pytest.mark.parametrize("role", ["Sales", "Finance", "Warehouse"])
def test_lane_members_get_403(orders, make_user, api_as, role):
    client = api_as(make_user("lane", role))

    assert {url: client.get(url).status_code for url in ENDPOINTS} == dict.fromkeys(ENDPOINTS, 403)


@pytest.mark.parametrize("role", ["Operator", "Auditor", "Analyst", "Manager"])
def test_monitoring_roles_see_every_process(orders, make_user, api_as, role):
    client = api_as(make_user("watcher", role))

    assert {url: client.get(url).status_code for url in ENDPOINTS} == dict.fromkeys(ENDPOINTS, 200)


def test_a_superuser_sees_monitoring(orders, make_user, api_as):
    admin = make_user("root", is_superuser=True)

    assert api_as(admin).get(ENDPOINTS[0]).status_code == 200


def test_an_anonymous_caller_is_refused(orders):
    assert APIClient().get(ENDPOINTS[0]).status_code in (401, 403)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_monitoring_pages_answer_405_to_a_write(make_user, client, method):
    client.force_login(make_user("watcher", "Operator"))
    pages = ["/monitor/", "/monitor/data/", "/monitor/alerts/", "/reports/", "/processes/order/monitor/"]
    answers = {url: getattr(client, method)(url).status_code for url in pages}
    assert answers == dict.fromkeys(pages, 405)
