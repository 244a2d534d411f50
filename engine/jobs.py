"""Running jobs: service calls outside any lock, timers, retries and incidents.

A job is claimed with a conditional UPDATE (pending → running, with a lease),
the connector is called with no transaction open, and the result is applied
to the instance in a new short transaction through `write_instance`.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from SpiffWorkflow.util.task import TaskState

from engine import connectors, messages, rows, signals, spiff, timers
from engine.dispatch import HOST, claim_new, dispatch_after_commit, lease, send, this_process
from engine.history import history_event, record_event, to_json
from engine.models import HistoryEvent, Incident, Job, ProcessInstance
from engine.runtime import complete_task, write_instance

log = logging.getLogger(__name__)

# Jobs that may run: those of active instances, and messages and signals an instance threw,
# which go out even when the instance has ended or was suspended right after throwing them.
_RUNNABLE = Q(instance__state=ProcessInstance.ACTIVE) | Q(kind__in=[Job.MESSAGE, Job.SIGNAL])

# A job claimed with the write that created it runs without checking its row
# again if it starts within this time; later it is checked (cancelled, taken back).
FRESH_CLAIM = timedelta(seconds=1)


def claim(job_id: int, now: datetime, job: Job | None = None) -> Job | None:
    """Take a due pending job for this worker; None if another worker has it.

    `job` is the row as this process just created it (claimed with it, or
    pending); without it the row is read.
    """
    lease_time = lease()
    if job is not None and job.state == Job.RUNNING:
        if now - job.updated_at < FRESH_CLAIM:
            return job
        # It waited in this process's queue behind other calls: renew the lease, unless the job
        # was cancelled meanwhile, or its lease ran out and another worker took it.
        if not Job.objects.filter(pk=job.pk, state=Job.RUNNING, locked_until=job.locked_until).update(
                locked_until=now + lease_time, updated_at=now):
            return None
        job.locked_until = now + lease_time
        return job
    # A job of a suspended instance stays pending until the instance is resumed.
    taken = Job.objects.filter(_RUNNABLE, pk=job_id, state=Job.PENDING, due_at__lte=now).update(
        state=Job.RUNNING, attempts=F("attempts") + 1, locked_until=now + lease_time, updated_at=now,
        claimed_by=this_process(),
    )
    if not taken:
        return None
    if job is None:
        # Not .defer(): on this join it costs more than reading the large columns.
        return Job.objects.select_related("instance__definition").get(pk=job_id)
    claim_new(job, now)
    return job


def run_job(job_id: int, now: datetime | None = None, job: Job | None = None) -> str:
    """Run one job if it is due and nobody else runs it; returns what happened."""
    now = now or timezone.now()
    job = claim(job_id, now, job)
    if job is None:
        return "skipped"
    if job.kind == Job.TIMER:
        return fire_timer(job, now)
    if job.kind in (Job.MESSAGE, Job.SIGNAL):
        return messages.forward(job)
    return call_service(job, now)


def _record_attempt(job: Job, outcome: HistoryEvent | None = None) -> None:
    """Write the attempt and its outcome, in one statement.

    An attempt cut short by a dead worker is written when its lease runs out (run_due_work).
    """
    data = {"operation": job.operation, "attempt": job.attempts, "input": job.input}
    # How long the connector took, for the latency metrics (set by call_service; absent for lost attempts).
    # On the outcome too, so a metric of calls by outcome reads one row per call.
    if getattr(job, "call_seconds", None) is not None:
        data["seconds"] = job.call_seconds
        if outcome is not None:
            outcome.data = {**outcome.data, "seconds": job.call_seconds}
    attempt = history_event(job.instance, HistoryEvent.SERVICE_ATTEMPT, job.element_id, data=data)
    rows.insert([attempt] if outcome is None else [attempt, outcome])


def call_service(job: Job, now: datetime) -> str:
    """Call the job's connector operation and apply the result or the failure."""
    instance = job.instance
    try:
        operation = connectors.get_operation(job.operation)
    except KeyError as exc:
        return _give_up(job, str(exc.args[0]), {"type": "UnknownOperation"}, now)
    started = None  # no call made yet: a missing input fails before it
    try:
        missing = [key for key in operation.required if key not in job.input]
        if missing:
            raise connectors.BusinessError(
                f"{job.operation}: missing input {', '.join(missing)}", code="MISSING_INPUT")
        started = time.monotonic()
        output = operation.func(connectors.Call(
            operation=job.operation, input=job.input, idempotency_key=job.idempotency_key,
            instance_id=instance.pk, business_key=instance.business_key, element_id=job.element_id,
            mappings=instance.definition.mappings,
        ))
        output = to_json(output if output is not None else {})
    except connectors.BusinessError as exc:
        job.call_seconds = _seconds_since(started)
        return _business_error(job, exc, now)
    except Exception as exc:  # noqa: BLE001 - any other failure is retried, then an incident
        job.call_seconds = _seconds_since(started)
        retryable = getattr(exc, "retryable", True)
        details = {"type": type(exc).__name__, "details": to_json(getattr(exc, "details", None))}
        if not retryable:
            return _give_up(job, str(exc), details, now)
        return _retry_or_give_up(job, str(exc), details, now)
    job.call_seconds = _seconds_since(started)
    return apply_result(job, output)


def _seconds_since(started: float | None) -> float | None:
    return None if started is None else round(time.monotonic() - started, 6)


def apply_result(job: Job, output: dict) -> str:
    """Complete the waiting service task with `output` and advance the instance."""

    def change(instance, workflow):
        task = spiff.find_task(workflow, job.task_id)
        # updated_at: when the call finished, which the reports count as leaving the task.
        # last_error cleared: a call that succeeded in the end carries no old error.
        rows.update(Job, {"pk": job.pk}, {"state": Job.DONE, "result": output, "locked_until": None,
                                          "updated_at": timezone.now(), "last_error": ""})
        if job.last_error:
            # Only a call that failed before can have an incident to close.
            _close_incidents_of(job)
        if instance.state not in ProcessInstance.RUNNING or task is None or task.state != TaskState.STARTED:
            # Cancelled meanwhile (boundary timer, cancel): the result is kept on the job only.
            _record_attempt(job, history_event(instance, HistoryEvent.SERVICE_RESULT, job.element_id, data={
                "operation": job.operation, "output": output, "ignored": True}))
            return "ignored"
        task.data[task.task_spec.result_variable] = output
        complete_task(instance, task, task.complete)
        _record_attempt(job, history_event(instance, HistoryEvent.SERVICE_RESULT, job.element_id,
                                           task.task_spec.bpmn_name or "",
                                           data={"operation": job.operation, "output": output}))
        signals.service_result_applied.send(sender=Job, job=job, output=output, operation=job.operation)
        return "done"

    return write_instance(job.instance_id, change)


def bpmn_error_code(task_spec, connector_code: str | None) -> str | None:
    """The BPMN error code a connector's business error maps to on this service task.

    The task maps codes with properties ``error:<CONNECTOR_CODE>`` (or ``error:*``
    for any business error) whose value is the BPMN error code; unmapped codes
    are matched as they are.
    """
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}
    return properties.get(f"error:{connector_code}") or properties.get("error:*") or connector_code


def _business_error(job: Job, exc: connectors.BusinessError, now: datetime) -> str:
    """Route a business error to a matching BPMN error boundary, or raise an incident."""
    details = {"type": "BusinessError", "code": exc.code, "details": to_json(exc.details)}

    def change(instance, workflow):
        task = spiff.find_task(workflow, job.task_id)
        if task is None or task.state != TaskState.STARTED:
            _record_attempt(job)
            return "ignored"
        code = bpmn_error_code(task.task_spec, exc.code)
        payload = {"code": exc.code, "message": exc.message, "details": to_json(exc.details)}
        boundary = spiff.catch_error(workflow, task, code, payload)
        if boundary is None:
            return None
        Job.objects.filter(pk=job.pk).update(state=Job.DONE, last_error=exc.message, locked_until=None,
                                             updated_at=timezone.now())
        _record_attempt(job, history_event(instance, HistoryEvent.SERVICE_ERROR, job.element_id, data={
            "operation": job.operation, "error": exc.message, "code": exc.code, "bpmn_code": code,
            "handled_by": boundary.task_spec.bpmn_id}))
        return "error_boundary"

    handled = write_instance(job.instance_id, change)
    if handled:
        return handled
    return _give_up(job, exc.message, details, now)


def _retry_or_give_up(job: Job, message: str, details: dict, now: datetime) -> str:
    if job.attempts >= job.max_attempts:
        return _give_up(job, message, details, now)
    backoff = job.backoff_seconds * 2 ** (job.attempts - 1)
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(
            state=Job.PENDING, due_at=now + timedelta(seconds=backoff), last_error=message, locked_until=None)
        # A retried incident stays open and shows the latest failure.
        Incident.objects.filter(job_id=job.pk, state=Incident.OPEN).update(message=message, last_attempt_at=now)
        _record_attempt(job, history_event(job.instance, HistoryEvent.SERVICE_ERROR, job.element_id, data={
            "operation": job.operation, "attempt": job.attempts, "error": message,
            "retry_in_seconds": backoff, **details}))
    return "retry"


def _give_up(job: Job, message: str, details: dict, now: datetime) -> str:
    details = {"operation": job.operation, "input": job.input, "attempts": job.attempts, **details}
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(state=Job.FAILED, last_error=message, locked_until=None)
        incident = Incident.objects.select_for_update().filter(job_id=job.pk, state=Incident.OPEN).first()
        if incident is not None:
            # A retry failed again: the same incident stays open with the new error.
            Incident.objects.filter(pk=incident.pk).update(message=message, details=details, last_attempt_at=now)
            kind = HistoryEvent.RETRY_FAILED
        else:
            incident = Incident.objects.create(
                instance=job.instance, job=job, element_id=job.element_id, message=message, details=details,
                last_attempt_at=now)
            kind = HistoryEvent.INCIDENT
        _record_attempt(job, history_event(job.instance, kind, job.element_id, data={
            "incident": incident.pk, "operation": job.operation, "error": message, "attempts": job.attempts}))
    log.warning("incident %s on instance %s: %s", incident.pk, job.instance_id, message)
    return "incident"


def _close_incidents_of(job: Job) -> None:
    """Resolve the open incident of a call that has now succeeded, in the name of whoever retried it."""
    for incident in Incident.objects.filter(job_id=job.pk, state=Incident.OPEN):
        retried = (HistoryEvent.objects.filter(instance_id=job.instance_id, kind=HistoryEvent.INCIDENT_RETRIED,
                                               data__incident=incident.pk).order_by("-id").first())
        Incident.objects.filter(pk=incident.pk).update(
            state=Incident.RESOLVED, resolution=Incident.RETRIED, resolved_at=timezone.now(),
            resolved_by=retried.user_id if retried else None)


def fire_timer(job: Job, now: datetime) -> str:
    """Fire a due timer event: the engine sees it as due and moves on."""

    def change(instance, workflow):
        task = spiff.find_task(workflow, job.task_id)
        Job.objects.filter(pk=job.pk).update(state=Job.DONE, locked_until=None, updated_at=timezone.now())
        if task is None or task.state != TaskState.WAITING:
            return "ignored"
        next_round = timers.fire(workflow, task)
        if next_round is not None:
            Job.objects.filter(pk=job.pk).update(state=Job.PENDING, due_at=next_round, attempts=0)
        record_event(instance, HistoryEvent.TIMER_FIRED, job.element_id, task.task_spec.bpmn_name or "",
                     data={"due_at": job.due_at.isoformat()})
        return "fired"

    return write_instance(job.instance_id, change)


def retry_incident(incident: Incident, user=None, reason: str = "") -> Incident:
    """Run the failed call of an open incident again, with a fresh set of attempts.

    The incident stays open until the call succeeds; a failure is written on it.
    """
    with transaction.atomic():
        # Only the incident row is locked: PostgreSQL refuses FOR UPDATE across the nullable job join.
        incident = (Incident.objects.select_for_update(of=("self",)).select_related("instance", "job")
                    .get(pk=incident.pk))
        if incident.state != Incident.OPEN:
            raise ValueError(f"Incident {incident.pk} is already {incident.state}")
        if incident.job_id is None:
            raise ValueError(f"Incident {incident.pk} has no call to retry")
        if incident.instance.state not in ProcessInstance.RUNNING:
            raise ValueError(f"Incident {incident.pk}: instance {incident.instance_id} is {incident.instance.state}")
        if not Job.objects.filter(pk=incident.job_id, state=Job.FAILED).update(
                state=Job.PENDING, attempts=0, due_at=timezone.now(), locked_until=None):
            raise ValueError(f"Incident {incident.pk}: its call is already being retried")
        Incident.objects.filter(pk=incident.pk).update(retries=F("retries") + 1)
        record_event(incident.instance, HistoryEvent.INCIDENT_RETRIED, incident.element_id, user=user,
                     data={"incident": incident.pk, "reason": reason})
        signals.operator_action.send(sender=Incident, user=user, action="incident.retry", detail=reason,
                                     object=f"incident {incident.pk} of instance {incident.instance_id}")
        dispatch_after_commit(incident.job)
    incident.refresh_from_db()
    return incident


def run_due_work(now: datetime | None = None) -> int:
    """Take back lost jobs, run every due job and timer start, expire buffered messages; returns how many were due."""
    now = now or timezone.now()
    take_back_jobs_of_dead_processes()
    _take_back_lost_jobs(now)
    started = messages.fire_start_timers(now)
    messages.expire_buffered(now)
    due = list(Job.objects.filter(_RUNNABLE, state=Job.PENDING, due_at__lte=now).values_list("pk", flat=True)[:500])
    if settings.CELERY_TASK_ALWAYS_EAGER:
        for job_id in due:
            run_job(job_id, now)
    else:
        for job_id in due:
            send(job_id)
    return len(due) + started


def take_back_jobs_of_dead_processes() -> int:
    """Make the running jobs claimed by processes of this machine that are gone pending again; returns how many.

    Run at start-up (and by the scheduler): a killed server's calls run again at once
    instead of after their lease. Processes of other machines are left to the lease.
    """
    prefix = f"{HOST}:"
    claimed = Job.objects.filter(state=Job.RUNNING, claimed_by__startswith=prefix).values_list("claimed_by", flat=True)
    dead = {name for name in set(claimed) if not _is_running(name.removeprefix(prefix))}
    if not dead:
        return 0
    return _take_back(Job.objects.filter(state=Job.RUNNING, claimed_by__in=dead),
                      "The process running the call stopped. The call is tried again.")


def _is_running(pid: str) -> bool:
    """Whether process `pid` of this machine still runs (a zombie does not)."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # it exists, under another user
    try:
        with open(f"/proc/{int(pid)}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True  # no /proc: trust kill()


def _take_back_lost_jobs(now: datetime) -> None:
    """Make jobs whose worker died (lease ran out) pending again, and say so in the history."""
    _take_back(Job.objects.filter(state=Job.RUNNING, locked_until__lt=now),
               "No result within the job's lease: the worker stopped or the call hung. The call is tried again.")


def _take_back(running, reason: str) -> int:
    """Make each job of `running` pending again unless it changed meanwhile; returns how many."""
    taken = 0
    for job in running.select_related("instance"):
        with transaction.atomic():
            if not running.filter(pk=job.pk, claimed_by=job.claimed_by).update(state=Job.PENDING, locked_until=None):
                continue
            taken += 1
            if job.kind == Job.SERVICE:
                _record_attempt(job, history_event(job.instance, HistoryEvent.SERVICE_ERROR, job.element_id, data={
                    "operation": job.operation, "attempt": job.attempts, "error": reason, "type": "WorkerLost"}))
            log.warning("job %s of instance %s taken back from %s: %s",
                        job.pk, job.instance_id, job.claimed_by or "a dead worker", reason)
    return taken
