"""At start-up, the calls claimed by a process of this machine that died run again at once, not after the lease."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from engine.jobs import claim, take_back_jobs_of_dead_processes, this_process
from engine.models import HistoryEvent, Job
from engine.runtime import start_instance
from tests.engine import bpmn

# The claiming processes are real ones: they see this test's rows only once committed.
pytestmark = pytest.mark.django_db(transaction=True)

CLAIM = """
import sys, time
from django.utils import timezone
from engine.jobs import claim
assert claim({job_id}, timezone.now()) is not None
print("claimed", flush=True)
time.sleep(120)
"""


def database_env() -> dict[str, str]:
    """Environment variables that point a `manage.py` subprocess at this test's database."""
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    if connection.vendor == "sqlite":
        return {**env, "SQLITE_PATH": db["NAME"]}
    return {**env, "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
                                   f"{db['PORT'] or 5432}/{db['NAME']}"}


def claimed_by_a_process(job: Job) -> subprocess.Popen:
    """A separate, still running process that has claimed `job` with the engine's own claim."""
    process = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "shell", "-v0", "-c", CLAIM.format(job_id=job.pk)],
        env=database_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.strip() == "claimed", process.stderr.read() if process.poll() is not None else line
    return process


@pytest.fixture
def waiting_calls(deployed, operation):
    """Two pending calls of an instance, due now, and the list of calls the connector received."""
    calls: list = []
    operation("test.record", lambda call: calls.append(call.idempotency_key) or {})
    deployed(bpmn.service_process("test.record"))
    instance, _ = start_instance("servicing", {})
    calls.clear()  # the instance's own call, made when it started
    jobs = [Job.objects.create(instance=instance, task_id=uuid.uuid4(), element_id="call", operation="test.record",
                               idempotency_key=f"key-{n}", due_at=timezone.now()) for n in range(2)]
    return jobs, calls


def test_start_up_takes_back_the_calls_of_a_killed_process_and_leaves_a_live_ones_alone(waiting_calls):
    (lost, kept), calls = waiting_calls
    killed, alive = claimed_by_a_process(lost), claimed_by_a_process(kept)
    try:
        killed.kill()
        killed.wait()
        lost.refresh_from_db()
        # Claimed with the usual lease: without the take-back it would wait minutes.
        assert (lost.state, lost.claimed_by) == (Job.RUNNING, f"{this_process().partition(':')[0]}:{killed.pid}")
        assert lost.locked_until > timezone.now()

        out = StringIO()
        call_command("run_scheduler", "--once", stdout=out)

        assert "Took back 1 job(s)" in out.getvalue()
        lost.refresh_from_db()
        kept.refresh_from_db()
        assert calls == ["key-0"]  # called again at once, by the scheduler
        assert (lost.state, lost.attempts) == (Job.DONE, 2)
        assert (kept.state, kept.claimed_by.rpartition(":")[2]) == (Job.RUNNING, str(alive.pid))
        lost_event = lost.instance.history.filter(kind=HistoryEvent.SERVICE_ERROR).get()
        assert lost_event.data["type"] == "WorkerLost" and "stopped" in lost_event.data["error"]
    finally:
        alive.kill()
        alive.wait()


def test_calls_claimed_on_another_machine_are_left_to_their_lease(waiting_calls):
    (job, _), calls = waiting_calls
    Job.objects.filter(pk=job.pk).update(state=Job.RUNNING, claimed_by="another-machine:1",
                                         locked_until=timezone.now() + timedelta(minutes=5))

    assert take_back_jobs_of_dead_processes() == 0

    job.refresh_from_db()
    assert job.state == Job.RUNNING


def test_a_job_claimed_in_this_process_names_this_process(waiting_calls):
    (job, _), _ = waiting_calls

    claim(job.pk, timezone.now())

    job.refresh_from_db()
    assert job.claimed_by == this_process() and this_process().endswith(f":{os.getpid()}")
