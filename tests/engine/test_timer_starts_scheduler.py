"""A timer start cycle fires by itself under the embedded scheduler (`manage.py run_scheduler`, which serve runs)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from engine.deploy import deploy
from engine.models import HumanTask, ProcessInstance, StartTrigger
from tests.celery_workers import wait_for
from tests.engine import bpmn_events as ev

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cycle_of_two_starts_two_instances_under_the_embedded_scheduler():
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        pytest.skip("the scheduler process shares this test's SQLite file")
    deploy(ev.timer_start_process(text="R2/PT1S"), "nightly.bpmn")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    scheduler = subprocess.Popen(
        [sys.executable, "manage.py", "run_scheduler", "--interval", "0.2"],
        env=dict(env, SQLITE_PATH=connection.settings_dict["NAME"]), cwd=settings.BASE_DIR)
    try:
        assert wait_for(lambda: StartTrigger.objects.get().due_at is None, timeout=60)
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=30)

    assert ProcessInstance.objects.filter(definition__process_id="nightly").count() == 2
    assert HumanTask.objects.filter(element_id="check").count() == 2
