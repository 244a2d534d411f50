"""In the scaled setup `manage.py serve` supervises a Celery worker and beat beside gunicorn."""

from __future__ import annotations

import os
import signal

import pytest
import requests

from accounts.tokens import create_token
from engine.deploy import deploy
from engine.models import HumanTask
from lanebridge.celery import app
from tests.celery_workers import database_url, require_scaled_setup, wait_for
from tests.engine import bpmn
from tests.processes.test_serve import Served, descendants, free_port, is_running

pytestmark = [pytest.mark.scaled, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def test_a_killed_celery_worker_comes_back_and_runs_the_calls_of_instances_started_through_gunicorn(
        make_user, tmp_path):
    require_scaled_setup()
    app.control.purge()
    deploy(bpmn.service_process("test.echo", {"amount": "amount"}), "servicing.bpmn")
    _, token = create_token(make_user("analyst", "Analyst"), "serve tests")
    env = {**os.environ, "DATABASE_URL": database_url(), "LANEBRIDGE_VAR": str(tmp_path),
           "LANEBRIDGE_WEB_WORKERS": "1", "PYTHONUNBUFFERED": "1"}
    served = Served(env, free_port())
    try:
        assert "celery worker + beat" in served.output
        worker = served.child_pid("worker")
        os.kill(worker, signal.SIGKILL)
        served.wait_for(lambda: served.child_pid("worker") != worker, "a new worker")
        assert f"worker (pid {worker}) exited with signal SIGKILL" in served.output

        started = requests.post(served.url + "/api/v1/processes/servicing/instances/", timeout=60,
                                headers={"Authorization": f"Token {token}"}, json={"variables": {"amount": 5}})

        assert started.status_code == 201, started.text
        instance = started.json()["id"]
        assert wait_for(lambda: HumanTask.objects.filter(instance_id=instance, element_id="after").exists(), 90), \
            served.output
        started_processes = descendants(served.process.pid)
    finally:
        served.stop()
    assert served.process.returncode == 0
    assert [pid for pid in started_processes if is_running(pid)] == []
