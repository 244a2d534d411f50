"""Every page of the inbox and every /api/v1/ endpoint × every demo role.

Anonymous → login redirect (pages) or 401 (API); other lanes → 403 on the task and its actions;
the lane's role → 200. API endpoints are found from the URLconf, so new ones are covered too.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from engine.models import HumanTask

ROLES = ["anonymous", "sales", "manager", "finance", "warehouse", "analyst", "operator", "auditor"]
LANE_ROLE = "manager"  # the quote's approval task is in the Manager lane
STARTERS = {"sales", "analyst"}  # the start event is in the Sales lane; analysts start anything


def api_endpoints() -> list[tuple[str, str]]:
    """(route, name) of every endpoint under api/v1/."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                found.append((route, pattern.name or route))

    walk(get_resolver().url_patterns, "")
    return found


def _methods(route: str) -> list[str]:
    from django.urls import resolve

    match = resolve("/" + _fill(route, {"pk": 1, "process_id": "x"}))
    view = getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)
    methods = [m for m in ("get", "post", "put", "patch") if view is None or hasattr(view, m)]
    return methods or ["get"]


def _fill(route: str, values: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), 0)), route)


def _order(route: str) -> int:
    # Destructive endpoints last, so one role's test sees the task while it is still open.
    return 2 if "cancel" in route else 1 if "complete" in route else 0


@pytest.fixture
def world(start_quote, demo_users, make_user):
    users = dict(demo_users, operator=make_user("operator", "Operator"), auditor=make_user("auditor", "Auditor"))
    task = start_quote(customer="Secret Customer Ltd")
    return {"users": users, "task": task, "instance": task.instance, "definition": task.instance.definition}


def _api_values(world, route: str) -> dict:
    if route.startswith("api/v1/tasks/"):
        pk = world["task"].pk
    elif route.startswith("api/v1/instances/"):
        pk = world["instance"].pk
    elif route.startswith("api/v1/definitions/"):
        pk = world["definition"].pk
    else:
        pk = 999999
    return {"pk": pk, "id": pk, "process_id": "quote_approval"}


@pytest.mark.parametrize("role", ROLES)
def test_pages(role, client, world):
    task = world["task"]
    if role != "anonymous":
        client.force_login(world["users"][role])
    pages = [("get", "/", 200), ("get", "/start/", 200),
             ("get", "/start/quote_approval/", 200 if role in STARTERS else 403),
             ("get", f"/tasks/{task.pk}/", 200 if role == LANE_ROLE else 403),
             ("post", f"/tasks/{task.pk}/claim/", 302 if role == LANE_ROLE else 403),
             ("post", f"/tasks/{task.pk}/unclaim/", 302 if role == LANE_ROLE else 403),
             ("post", f"/tasks/{task.pk}/delegate/", 400 if role == LANE_ROLE else 403),  # no colleague chosen
             ("post", f"/tasks/{task.pk}/complete/", 302 if role == LANE_ROLE else 403)]
    for method, url, expected in pages:
        data = {"decision": "approve"} if url.endswith("complete/") else {}
        response = getattr(client, method)(url, data)
        if role == "anonymous":
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/"), url
        else:
            assert response.status_code == expected, (role, method, url, response.status_code)
            if expected == 403:
                assert b"Secret Customer" not in response.content, url
    task.refresh_from_db()
    assert task.state == (HumanTask.COMPLETED if role == LANE_ROLE else HumanTask.OPEN)


@pytest.mark.parametrize("role", ROLES)
def test_api(role, world):
    endpoints = sorted(api_endpoints(), key=lambda e: _order(e[0]))
    assert endpoints, "no /api/v1/ endpoints found"
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(world["users"][role])
    task = world["task"]
    for route, _name in endpoints:
        url = "/" + _fill(route, _api_values(world, route))
        for method in _methods(route):
            body = {"data": {"decision": "approve"}} if "complete" in route else {}
            response = getattr(client, method)(url, body, format="json")
            where = (role, method, url, response.status_code)
            if role == "anonymous":
                assert response.status_code in (401, 403), where
                continue
            assert response.status_code < 500, where
            if route.startswith("api/v1/tasks/<"):
                # claim and complete of the Manager's task
                assert response.status_code == (200 if role == LANE_ROLE else 403), where
            if route == "api/v1/tasks/" and method == "get":
                ids = [row["id"] for row in response.json().get("results", response.json())]
                assert (task.pk in ids) == (role == LANE_ROLE), where
            if route.startswith("api/v1/instances/<") and role in ("finance", "warehouse"):
                assert response.status_code in (403, 404), where
                assert b"Secret Customer" not in response.content, where
