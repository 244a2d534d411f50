"""Handing jobs to whoever runs them, after the transaction that created them commits.

This module imports nothing that creates jobs, so the waits that create them
(`engine.waits`) and the runner (`engine.jobs`) both use it without importing
each other: Celery workers are reached by task name, and the in-process runner
is `engine.jobs.run_job`, installed when the app loads (`engine.apps`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from engine import rows
from engine.models import Job, ProcessInstance

log = logging.getLogger(__name__)

RUN_JOB_TASK = "engine.tasks.run_job"

# run_job(job_id, job=...) for jobs run in this process; set by engine.apps.
in_process_runner: Callable | None = None


def dispatch_after_commit(job: Job, *, fresh: bool = False) -> None:
    """Hand a due job to a worker once the transaction that created it commits.

    Without a broker the job runs in this process. `fresh` says the job was
    just created, so the in-memory row is current and need not be read again.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        item = job if fresh else job.pk
        transaction.on_commit(lambda: _run_here(item))
    else:
        job_id = job.pk
        transaction.on_commit(lambda: send(job_id))


def send(job_id: int) -> None:
    """Queue one job for the Celery workers."""
    from lanebridge.celery import app

    app.send_task(RUN_JOB_TASK, args=[job_id])


_here = threading.local()


def _run_here(item: Job | int) -> None:
    # Jobs dispatched while one runs wait in a queue: a long chain of calls
    # runs one after another instead of nesting a stack frame per call.
    queue = getattr(_here, "queue", None)
    if queue is not None:
        queue.append(item)
        return
    _here.queue = queue = deque([item])
    try:
        while queue:
            item = queue.popleft()
            try:
                if isinstance(item, Job):
                    in_process_runner(item.pk, job=item)
                else:
                    in_process_runner(item)
            except Exception:
                # The job stays claimed; run_due_work takes it back when its lease runs out.
                log.exception("job %s failed in process", getattr(item, "pk", item))
    finally:
        _here.queue = None


def lease() -> timedelta:
    """How long a claimed job belongs to its worker before another may take it."""
    return timedelta(seconds=settings.LANEBRIDGE["JOB_LEASE_SECONDS"])


HOST = socket.gethostname()


def this_process() -> str:
    """How a job names the process that claimed it: "host:pid"."""
    # Read at each call: gunicorn and Celery fork their workers after this module is imported.
    return f"{HOST}:{os.getpid()}"


def claim_new(job: Job, now: datetime) -> None:
    """Mark a job that is being created as claimed by this process (saved with it)."""
    job.state, job.attempts, job.locked_until, job.updated_at = Job.RUNNING, job.attempts + 1, now + lease(), now
    job.claimed_by = this_process()


def send_event_after_commit(instance: ProcessInstance, kind: str, name: str, variables: dict) -> Job:
    """Write a message or signal the instance threw as a job, sent to its receivers once this write commits.

    A job, not a call: the receivers are other instances, written in their own
    transactions, and a crash between the two commits must not lose the event.
    """
    now = timezone.now()
    job = Job(instance=instance, kind=kind, task_id=uuid.uuid4(), element_id="", operation=name,
              input={"name": name, "variables": variables, "business_key": instance.business_key},
              idempotency_key=f"lanebridge-{instance.pk}-{kind}-{now.timestamp()}", due_at=now)
    rows.insert([job], return_pk=True)
    dispatch_after_commit(job)
    return job
