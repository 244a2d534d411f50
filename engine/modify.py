"""Moving tokens by hand (Camunda's instance modification): cancel tokens at elements, start new ones before others.

One write (`write_instance`): the moves are made in the workflow, and the
engine's usual step then closes the rows of the tokens that went away (human
tasks cancelled, calls and timers cancelled, subscriptions deleted) and opens
rows for the new ones as for any arrival. Nothing is stored if any part is refused.
"""

from __future__ import annotations

from django.utils import timezone

from engine import spiff, tokens
from engine.deploy import specs_for
from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance
from engine.repairs import audit
from engine.runtime import (
    InstanceNotActive,
    change_variables,
    check_total_size,
    check_unchanged,
    check_variables,
    record_event,
    to_json,
    write_instance,
)


class ModifyError(ValueError):
    """A move that cannot be made; `field` and `elements` say which part of the request is wrong."""

    def __init__(self, message: str, field: str, elements: list[str] | None = None):
        super().__init__(message)
        self.field = field
        self.elements = elements or []


def modify_instance(instance: ProcessInstance, user, cancel: list[str], start_before: list[str], reason: str,
                    variables: dict | None = None, *, seen_version: int | None = None) -> ProcessInstance:
    """Cancel the tokens at the elements `cancel`, start one before each of `start_before`, and go on.

    `variables` are set on every token afterwards. Raises ModifyError naming the
    elements that are unknown or have no token, InstanceNotActive unless the
    instance is active, Conflict if it changed since it was read at
    `seen_version` (when given).
    """
    if not reason or not reason.strip():
        raise ModifyError("reason: say why the tokens are moved", "reason")
    if not cancel and not start_before:
        raise ModifyError("cancel: name the elements to cancel tokens at, or start_before the ones to start at",
                          "cancel")
    variables = check_variables({} if variables is None else variables, "variables")
    spec, _subprocesses = specs_for(instance.definition)
    _check_known(spec, cancel, "cancel")
    _check_known(spec, start_before, "start_before")

    def change(instance, workflow):
        if seen_version is not None:
            check_unchanged(instance, seen_version, "look at its tokens again")
        if instance.state != ProcessInstance.ACTIVE:
            hint = " (resume it first)" if instance.state == ProcessInstance.SUSPENDED else ""
            raise InstanceNotActive(f"Instance {instance.pk} is {instance.state}; only an active instance's tokens "
                                    f"can be moved{hint}")
        missing = [element for element in cancel if not tokens.tokens_at(workflow, element)]
        if missing:
            raise ModifyError(f"cancel: no token is at {', '.join(missing)}", "cancel", missing)
        data = tokens.merged_data(tokens.tokens(workflow))
        check_total_size({**data, **variables}, "variables")
        cancelled, cancelled_tasks = [], []
        for element in dict.fromkeys(cancel):
            for task in tokens.tokens_at(workflow, element):
                cancelled_tasks.append(str(task.id))
                cancelled.append((task.task_spec, tokens.cancel(task), task.data))
        under = cancelled[0][1] if cancelled else workflow.task_tree
        for element in start_before:
            tokens.start_before(workflow, element, under, {**data, **variables})
        released = tokens.release_joins(workflow, cancelled)
        if not tokens.any_left(workflow):
            raise ModifyError("cancel: no token would be left; cancel the instance instead", "cancel", list(cancel))
        if variables:
            change_variables(workflow, variables, [])
            for task in HumanTask.objects.filter(instance_id=instance.pk, state=HumanTask.OPEN):
                HumanTask.objects.filter(pk=task.pk).update(data={**task.data, **to_json(variables)})
        _close_incidents(instance, cancelled_tasks, user, reason)
        record_event(instance, HistoryEvent.TOKENS_MOVED, user=user, data={
            "reason": reason, "cancelled": list(cancel), "started_before": list(start_before),
            "released_joins": released, "variables": variables})
        audit(user, "instance.modify", f"instance {instance.pk}",
              f"{reason} (cancelled: {', '.join(cancel) or '-'}; started before: {', '.join(start_before) or '-'})")

    write_instance(instance.pk, change, user=user)
    return ProcessInstance.objects.get(pk=instance.pk)


def token_elements(instance: ProcessInstance) -> list[str]:
    """The ids of the elements the instance has tokens at now, for the page's pickers."""
    workflow = spiff.load_workflow(specs_for(instance.definition), instance.state_json)
    return sorted({task.task_spec.bpmn_id for task in tokens.tokens(workflow)})


def element_choices(definition) -> list[tuple[str, str]]:
    """(id, name) of every element a token can be put before, by name."""
    spec, _subprocesses = specs_for(definition)
    found = [(element_id, s.bpmn_name or element_id) for element_id, s in tokens.elements(spec).items()]
    return sorted(found, key=lambda pair: (pair[1].lower(), pair[0]))


def _check_known(spec, elements: list[str], field: str) -> None:
    known = tokens.elements(spec)
    boundary = [e for e in elements if e in tokens.boundary_events(spec)]
    if boundary:
        raise ModifyError(f"{field}: {', '.join(boundary)} is a boundary event; move the token of the task it is "
                          "attached to", field, boundary)
    unknown = [e for e in elements if e not in known]
    if unknown:
        raise ModifyError(f"{field}: the process has no element {', '.join(unknown)} at its top level (tokens inside "
                          "a sub-process or call activity move with it)", field, unknown)


def _close_incidents(instance: ProcessInstance, task_ids: list[str], user, reason: str) -> None:
    """The open incidents of calls whose tokens were cancelled are closed: nothing is left to retry."""
    jobs = Job.objects.filter(instance_id=instance.pk, task_id__in=task_ids).values("pk")
    Incident.objects.filter(instance_id=instance.pk, state=Incident.OPEN, job__in=jobs).update(
        state=Incident.RESOLVED, resolution=Incident.CANCELLED, comment=reason, resolved_at=timezone.now(),
        resolved_by=getattr(user, "pk", None))
