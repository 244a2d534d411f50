"""What operators do to running instances: close incidents, suspend and resume, edit variables.

Each action goes through `write_instance` (one transaction, version check),
needs a reason, and lands in the history with who did it.
"""

from __future__ import annotations

from django.utils import timezone
from SpiffWorkflow.util.task import TaskState

from engine import connectors, rows, signals, spiff
from engine.deploy import specs_for
from engine.jobs import dispatch_after_commit, retry_incident
from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance
from engine.runtime import (
    InstanceNotActive,
    InvalidVariables,
    change_variables,
    check_total_size,
    check_unchanged,
    check_variables,
    complete_task,
    record_event,
    stop_instance,
    write_instance,
)

SKIP, CANCEL = "skip", "cancel"


class IncidentNotOpen(ValueError):
    """The incident is resolved already, or cannot be handled that way now."""


def resolve_incident(incident: Incident, action: str, user, comment: str, output: dict | None = None) -> Incident:
    """Close an open incident without a retry: `skip` completes its task with `output`, `cancel` ends the instance."""
    if action not in (SKIP, CANCEL):
        raise IncidentNotOpen(f"action must be {SKIP!r} or {CANCEL!r}, not {action!r}")
    output = check_variables({} if output is None else output, "output")

    def change(instance, workflow):
        current = Incident.objects.select_for_update().get(pk=incident.pk)
        if current.state != Incident.OPEN:
            raise IncidentNotOpen(f"Incident {current.pk} is already {current.state}")
        job = Job.objects.filter(pk=current.job_id).first()
        if job is not None and job.state in (Job.PENDING, Job.RUNNING):
            raise IncidentNotOpen(f"Incident {current.pk}: its call is being retried; wait for the outcome")
        if action == SKIP:
            _skip(current, job, instance, workflow, output)
        elif instance.state in ProcessInstance.RUNNING:
            stop_instance(instance, workflow, user, comment)
        # A failed script ended the instance already: cancelling only closes the incident.
        Incident.objects.filter(pk=current.pk).update(
            state=Incident.RESOLVED, resolution=Incident.SKIPPED if action == SKIP else Incident.CANCELLED,
            comment=comment, resolved_at=timezone.now(), resolved_by=getattr(user, "pk", None))
        record_event(instance, HistoryEvent.INCIDENT_RESOLVED, current.element_id, user=user, data={
            "incident": current.pk, "action": action, "comment": comment, "output": output})
        audit(user, f"incident.{action}", f"incident {current.pk} of instance {instance.pk}", comment)

    write_instance(incident.instance_id, change, user=user)
    return Incident.objects.get(pk=incident.pk)


def _skip(incident: Incident, job: Job | None, instance: ProcessInstance, workflow, output: dict) -> None:
    """Complete the failed service task as if the call had returned, with `output` as its variables."""
    task = spiff.find_task(workflow, job.task_id) if job is not None else None
    if instance.state not in ProcessInstance.RUNNING or task is None or task.state != TaskState.STARTED:
        raise IncidentNotOpen(f"Incident {incident.pk}: there is no waiting call to skip "
                              f"(instance {instance.pk} is {instance.state}); cancel it instead")
    check_total_size({**task.data, **output}, "output")
    task.set_data(**output)
    complete_task(instance, task, task.complete)
    # The call never succeeded: the job keeps its error and is marked cancelled, not done.
    rows.update(Job, {"pk": job.pk}, {"state": Job.CANCELLED, "updated_at": timezone.now()})


def skip_output(definition, element_id: str) -> tuple[str, list[str]]:
    """What skipping a failed call at this element should set: its result variable, and the fields known of it.

    The fields are the ids the operation declares for the ledger (an ERP number, say);
    an operator may add others. No result variable ("") for an element that is no call.
    """
    spec, _subprocesses = specs_for(definition)
    task_spec = spec.task_specs.get(element_id)
    variable = spiff.result_variable(task_spec) if task_spec is not None else ""
    if not variable:
        return "", []
    try:
        return variable, sorted(connectors.get_operation(task_spec.operation_name).ledger)
    except KeyError:
        return variable, []


def retry_incidents(incidents, user, reason: str = "") -> list[dict]:
    """Retry each incident in its own transaction; one result per incident, saying what happened."""
    results = []
    for incident in incidents:
        try:
            incident = retry_incident(incident, user, reason)
        except ValueError as exc:
            results.append({"incident": incident.pk, "ok": False, "state": incident.state, "detail": str(exc)})
            continue
        results.append({"incident": incident.pk, "ok": True, "state": incident.state,
                        "detail": retry_outcome(incident)})
    return results


def retry_outcome(incident: Incident) -> str:
    """What a retry came to, in words: resolved, failed again, or still running."""
    if incident.state == Incident.RESOLVED:
        return "The call succeeded; the incident is resolved."
    job_state = Job.objects.filter(pk=incident.job_id).values_list("state", flat=True).first()
    if job_state == Job.FAILED:
        return f"The call failed again: {incident.message}"
    return "The call is being retried; the incident stays open until it succeeds."


def suspend_instance(instance: ProcessInstance, user, reason: str) -> ProcessInstance:
    """Hold an active instance: its tasks cannot be completed, and its due calls and timers wait for the resume."""

    def change(instance, workflow):
        if instance.state != ProcessInstance.ACTIVE:
            raise InstanceNotActive(f"Instance {instance.pk} is {instance.state}; only an active one can be suspended")
        instance.state = ProcessInstance.SUSPENDED
        record_event(instance, HistoryEvent.SUSPENDED, user=user, data={"reason": reason})
        audit(user, "instance.suspend", f"instance {instance.pk}", reason)

    write_instance(instance.pk, change, user=user)
    return ProcessInstance.objects.get(pk=instance.pk)


def resume_instance(instance: ProcessInstance, user, reason: str) -> ProcessInstance:
    """Let a suspended instance go on; the calls and timers that fell due meanwhile run now."""

    def change(instance, workflow):
        if instance.state != ProcessInstance.SUSPENDED:
            raise InstanceNotActive(f"Instance {instance.pk} is {instance.state}; only a suspended one can be resumed")
        instance.state = ProcessInstance.ACTIVE
        record_event(instance, HistoryEvent.RESUMED, user=user, data={"reason": reason})
        audit(user, "instance.resume", f"instance {instance.pk}", reason)

    write_instance(instance.pk, change, user=user)
    # After the write, so the jobs find the instance active (and its workflow kept in memory).
    for job in Job.objects.filter(instance_id=instance.pk, state=Job.PENDING, due_at__lte=timezone.now()):
        dispatch_after_commit(job)
    return ProcessInstance.objects.get(pk=instance.pk)


def edit_variables(instance: ProcessInstance, user, values: dict, names: list, reason: str, *,
                   seen_version: int | None = None) -> ProcessInstance:
    """Set `values` and remove the variables `names` of a running instance; history keeps old and new values.

    With `seen_version`, the version the operator decided on, an instance that
    changed since is a Conflict: a second operator acting at once is told rather
    than overwriting what the first one did.
    """
    values = check_variables(values, "set")
    _check_names(names, values)

    def change(instance, workflow):
        if seen_version is not None:
            check_unchanged(instance, seen_version, "look at its variables again")
        if instance.state not in ProcessInstance.RUNNING:
            raise InstanceNotActive(f"Instance {instance.pk} is {instance.state}; its variables can no longer change")
        old = instance.variables
        missing = [name for name in names if name not in old]
        if missing:
            raise InvalidVariables(f"unset: no variable {', '.join(missing)} on instance {instance.pk}")
        check_total_size({**{k: v for k, v in old.items() if k not in names}, **values}, "set")
        change_variables(workflow, values, names)
        # The open tasks' forms show the data as it is now.
        for task in HumanTask.objects.filter(instance_id=instance.pk, state=HumanTask.OPEN):
            data = {k: v for k, v in {**task.data, **values}.items() if k not in names}
            HumanTask.objects.filter(pk=task.pk).update(data=data)
        record_event(instance, HistoryEvent.VARIABLES_CHANGED, user=user, data={
            "reason": reason,
            "set": {name: {"old": old.get(name), "new": value} for name, value in values.items()},
            "unset": {name: old[name] for name in names},
        })
        audit(user, "instance.variables", f"instance {instance.pk}",
              f"{reason} (set: {', '.join(values) or '-'}; unset: {', '.join(names) or '-'})")

    write_instance(instance.pk, change, user=user)
    return ProcessInstance.objects.get(pk=instance.pk)


def _check_names(names, values: dict) -> None:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise InvalidVariables("unset must be a list of variable names")
    both = [name for name in names if name in values]
    if both:
        raise InvalidVariables(f"unset: {', '.join(both)} is also in set; a variable is either set or removed")


def audit(user, action: str, object: str, detail: str) -> None:
    """Inside the action's transaction: tell the audit log who did what to which object, and why."""
    signals.operator_action.send(sender=ProcessInstance, user=user, action=action, object=object, detail=detail)
