"""Waiting for a person: a ready user task is an open HumanTask row.

Opened when a user task becomes ready; matched by its task id; closed (cancelled)
when the task goes away any other way; fired by `engine.runtime.complete_human_task`.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine import rows, signals, spiff, task_columns
from engine.history import record_event, to_json
from engine.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance
from engine.waits.base import Pending

log = logging.getLogger(__name__)


def owns(task) -> bool:
    """The element is a user task."""
    return spiff.is_user_task(task)


def waits_on(task) -> bool:
    """The task waits for a person now."""
    return task.state == TaskState.READY and spiff.is_user_task(task)


def match(instance: ProcessInstance, task) -> bool:
    """Nothing can arrive for this kind before it waits."""
    return False


def open(instance: ProcessInstance, task, claim_jobs: bool, inputs: dict) -> None:  # noqa: A001 - common verb
    """Write the HumanTask row, say so in the history, and tell the apps that assign it."""
    human_task = _new_row(instance, task)
    record_event(instance, HistoryEvent.TASK_READY, task.task_spec.bpmn_id, task.task_spec.bpmn_name or "",
                 data={"task": human_task.pk, "lane": human_task.lane,
                       "candidate_groups": human_task.candidate_groups})
    signals.human_task_created.send(sender=HumanTask, task=human_task)


def follow(instance: ProcessInstance, task) -> None:
    """After a migration: the open row shows the task's element in the new version; the assignee stays."""
    spec = task.task_spec
    settings = spiff.user_task_settings(spec)
    row = HumanTask.objects.get(instance=instance, task_id=task.id)
    lane_changed = (spec.lane or "") != row.lane
    HumanTask.objects.filter(pk=row.pk).update(
        element_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane or "",
        form=settings["form"], documentation=settings["documentation"],
        **({"candidate_groups": _candidate_groups(instance, task, settings)} if lane_changed else {}))
    if lane_changed:
        # Another lane is another role: its members may act on the task now.
        row.refresh_from_db()
        signals.human_task_created.send(sender=HumanTask, task=row)


def close(instance: ProcessInstance, task_ids: list) -> None:
    """Cancel the open rows of tasks that stopped waiting."""
    HumanTask.objects.filter(instance=instance, task_id__in=task_ids, state=HumanTask.OPEN).update(
        state=HumanTask.CANCELLED)


def close_all(instance: ProcessInstance) -> None:
    """Cancel every open row of an instance that ends."""
    instance.human_tasks.filter(state=HumanTask.OPEN).update(state=HumanTask.CANCELLED)


def pending(instance: ProcessInstance) -> list[Pending]:
    """The open tasks, for the instance's page."""
    return [Pending(_("task"), t.element_id, t.name, t.due_at)
            for t in instance.human_tasks.filter(state=HumanTask.OPEN).order_by("id")]


def _new_row(instance: ProcessInstance, task) -> HumanTask:
    spec = task.task_spec
    settings = spiff.user_task_settings(spec)
    candidate_groups = _candidate_groups(instance, task, settings)
    assignee = None
    assignee_name = _attribute(task, settings["assignee"])
    if assignee_name:
        assignee = get_user_model().objects.filter(username=assignee_name).first()
    due_at = spiff.due_from_text(settings["due"])
    if settings["due"] and due_at is None:
        log.warning("ignoring unparseable due date %r", settings["due"])
    priority = settings["priority"]
    data = to_json(task.data)
    # Columns do not change after deploy, so the definition loaded with the instance is current.
    columns = task_columns.values(instance.definition.task_columns, data)
    human_task = HumanTask(
        instance=instance,
        task_id=task.id,
        element_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane or "",
        candidate_groups=candidate_groups,
        assignee=assignee,
        form=settings["form"],
        data=data,
        documentation=settings["documentation"],
        priority=int(priority) if str(priority).lstrip("-").isdigit() else 50,
        due_at=due_at,
        amount=columns["amount"],
        customer=columns["customer"],
    )
    rows.insert([human_task], return_pk=True)
    return human_task


def _candidate_groups(instance: ProcessInstance, task, settings: dict) -> list[str]:
    spec = task.task_spec
    groups = _attribute(task, settings["candidate_groups"]) or ""
    candidate_groups = [g.strip() for g in groups.split(",") if g.strip()]
    if not candidate_groups and spec.lane:
        # Read now: analysts change lane roles while instances run.
        lane_roles = ProcessDefinition.objects.values_list("lane_roles", flat=True).get(pk=instance.definition_id)
        role = lane_roles.get(spec.lane, spec.lane)
        candidate_groups = [role] if role else []
    return candidate_groups


def _attribute(task, text: str | None) -> str | None:
    """An assignment attribute, its ${…} expression evaluated over the task's data."""
    try:
        return spiff.evaluate_text(task, text)
    except WorkflowException as exc:
        # As with a bad due date: the task still reaches its lane's inbox, unassigned.
        log.warning("ignoring assignment %r of %s: %s", text, task.task_spec.bpmn_id, exc)
        return None
