"""Messages, thrown messages and timer starts in the scaled setup: PostgreSQL, Redis, real Celery workers and beat.

Run by .ci/run with DATABASE_URL and CELERY_BROKER_URL set (`pytest -m scaled`).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, ProcessInstance, StartTrigger
from engine.runtime import complete_human_task, start_instance
from lanebridge.celery import app
from tests.celery_workers import database_url, require_scaled_setup, start_workers, stop_workers, wait_for
from tests.engine import bpmn
from tests.engine import bpmn_events as ev

pytestmark = [pytest.mark.scaled, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(db):
    require_scaled_setup()
    app.control.purge()
    procs = start_workers(2, name="events")
    yield procs
    stop_workers(procs)


@pytest.fixture
def beat(workers, tmp_path):
    """A real `celery -A lanebridge beat`, whose schedule sends run_due_work to the workers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "lanebridge", "beat", "--loglevel=WARNING",
         f"--schedule={tmp_path / 'beat-schedule'}"],
        env=dict(os.environ, DATABASE_URL=database_url()), cwd=settings.BASE_DIR)
    yield proc
    stop_workers([proc])


def test_a_message_reaches_its_instance_and_a_worker_runs_the_call_after_it(workers, make_user, api_as):
    deploy(bpmn.chain("paid_then_call", ev.message_catch("wait", "Message_1"),
                      bpmn.service_task("call", "test.echo", {"paid": "paid"}, result_variable="echo"),
                      extra=ev.message("Message_1", "payment received")), "paid.bpmn")
    instance, _ = start_instance("paid_then_call", {}, business_key="SO-1")
    client = api_as(make_user("integration", "Integration"))

    answer = client.post("/api/v1/messages/", {"name": "payment received", "business_key": "SO-1",
                                                "variables": {"paid": True}}, format="json")

    assert (answer.status_code, answer.json()) == (200, {"instances": [instance.pk]})
    assert wait_for(lambda: ProcessInstance.objects.get(pk=instance.pk).state == ProcessInstance.COMPLETED)
    instance.refresh_from_db()
    assert instance.variables["echo"]["input"] == {"paid": True}
    assert instance.history.filter(kind=HistoryEvent.MESSAGE).count() == 1


def test_a_thrown_message_is_sent_by_a_worker_to_the_other_process(workers, make_user):
    deploy(ev.waits_for_message(name="shipment delivered"), "receiver.bpmn")
    deploy(ev.sender_process(), "sender.bpmn")
    receiver, _ = start_instance("awaiting_payment", {}, business_key="SO-2")
    sender, _ = start_instance("shipping", {}, business_key="SO-2")

    complete_human_task(sender.human_tasks.get(), make_user("shipper"), {})

    assert wait_for(lambda: HumanTask.objects.filter(instance=receiver, element_id="after").exists())
    assert sender.history.get(kind=HistoryEvent.MESSAGE_SENT).data["instances"] == [receiver.pk]


def test_a_timer_start_cycle_fires_by_itself_under_celery_beat(beat):
    deploy(ev.timer_start_process(text="R2/PT1S"), "nightly.bpmn")

    assert wait_for(lambda: ProcessInstance.objects.filter(definition__process_id="nightly").count() == 2)
    trigger = StartTrigger.objects.get()
    assert (trigger.remaining, trigger.due_at) == (0, None)
    assert HumanTask.objects.filter(element_id="check").count() == 2
