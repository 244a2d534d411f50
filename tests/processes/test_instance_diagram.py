"""The instance page hands its diagram the elements that are done, waiting and failed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from engine import runtime
from engine.deploy import _spec_cache, deploy
from engine.models import HistoryEvent, HumanTask, Incident, Job
from processes.views import diagram_markers

BPMN = Path(__file__).resolve().parents[1] / "approvals" / "bpmn" / "quote_approval.bpmn"
LARGE_LINES = [{"product": "Pump P-200", "qty": 3, "price": 4000}]


@pytest.fixture
def operator(roles) -> User:
    user = User.objects.create_user("operator", password="x")
    user.groups.add(Group.objects.get(name="Operator"))
    return user


@pytest.fixture
def waiting_instance(db, roles):
    """A large quote waiting at the manager's approval."""
    _spec_cache.clear()
    deploy(BPMN.read_bytes(), BPMN.name)
    instance, _ = runtime.start_instance("quote_approval", {"customer": "ACME", "lines": LARGE_LINES},
                                         business_key="Q-1")
    yield instance
    _spec_cache.clear()


def page_markers(client, instance) -> dict:
    """The markers as the browser gets them: the json_script element of the page."""
    body = client.get(f"/processes/instances/{instance.pk}/").content.decode()
    found = re.search(r'<script id="diagram-markers" type="application/json">(.*?)</script>', body)
    assert found, "the page has no diagram markers"
    return json.loads(found.group(1))


def test_the_waiting_user_task_is_current(client, operator, waiting_instance):
    client.force_login(operator)
    assert page_markers(client, waiting_instance) == {"done": [], "current": ["approve_quote"], "failed": []}


def test_a_completed_task_is_done_and_the_next_one_current(client, operator, waiting_instance):
    manager = User.objects.create_user("manager", password="x")
    task = waiting_instance.human_tasks.get(state=HumanTask.OPEN)
    runtime.complete_human_task(task, manager, {"decision": "approve", "comment": ""})
    client.force_login(operator)
    assert page_markers(client, waiting_instance) == {"done": ["approve_quote"], "current": ["follow_up"],
                                                      "failed": []}


def test_the_end_event_reached_is_marked_done():
    history = [HistoryEvent(kind=HistoryEvent.COMPLETED, element_id="quote_rejected")]

    assert diagram_markers([], [], [], history)["done"] == ["quote_rejected"]


def test_the_page_draws_the_definition_and_keeps_its_tables(client, operator, waiting_instance):
    client.force_login(operator)
    body = client.get(f"/processes/instances/{waiting_instance.pk}/").content.decode()
    assert f'data-bpmn-url="/processes/definitions/{waiting_instance.definition_id}/bpmn/"' in body
    assert "vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in body
    # Hidden until the script has drawn it: without JS the tables below are the page.
    assert '<section id="diagram" class="diagram" hidden' in body
    assert "Approve quote" in body


def test_failed_beats_current_beats_done():
    tasks = [HumanTask(element_id="approve", state=HumanTask.OPEN),
             HumanTask(element_id="old", state=HumanTask.COMPLETED)]
    jobs = [Job(element_id="call_erp", state=Job.PENDING), Job(element_id="timer", state=Job.RUNNING),
            Job(element_id="finished", state=Job.DONE)]
    incidents = [Incident(element_id="call_erp", state=Incident.OPEN),
                 Incident(element_id="fixed", state=Incident.RESOLVED)]
    history = [HistoryEvent(kind=HistoryEvent.TASK_COMPLETED, element_id="approve"),
               HistoryEvent(kind=HistoryEvent.SERVICE_RESULT, element_id="finished"),
               HistoryEvent(kind=HistoryEvent.TIMER_FIRED, element_id="wait"),
               HistoryEvent(kind=HistoryEvent.TASK_READY, element_id="not_done_yet"),
               HistoryEvent(kind=HistoryEvent.STARTED, element_id="")]
    assert diagram_markers(tasks, jobs, incidents, history) == {
        "done": ["finished", "wait"], "current": ["approve", "timer"], "failed": ["call_erp"]}
