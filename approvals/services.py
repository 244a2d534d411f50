"""What an approver does to a task: claim, unclaim, delegate, complete."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from approvals import permissions
from approvals.forms import DynamicForm, validate_submission
from engine import runtime
from engine.models import HistoryEvent, HumanTask, ProcessInstance


class NotAllowed(Exception):
    """The user may not act on this task."""


def _check(user, task: HumanTask) -> None:
    if not permissions.can_act(user, task):
        raise NotAllowed(f"You may not act on task {task.pk}")


def _on_behalf(absent) -> dict:
    return {"on_behalf_of": absent.get_username()} if absent is not None else {}


def claim_task(task: HumanTask, user) -> HumanTask:
    """Assign an open task to `user`; fails if someone else claimed it first.

    A substitute claims for the absent colleague: the task is theirs, so it stays
    with them when the absence ends, and the history says who claimed it for whom.
    """
    _check(user, task)
    absent = permissions.acting_for(user, task)
    assignee = absent or user
    with transaction.atomic():
        taken = HumanTask.objects.filter(pk=task.pk, state=HumanTask.OPEN).filter(
            assignee__isnull=True).update(assignee=assignee)
        if not taken:
            current = HumanTask.objects.get(pk=task.pk)
            if current.state != HumanTask.OPEN:
                raise runtime.TaskNotOpen(f"Task {task.pk} is already {current.state}")
            if current.assignee_id != assignee.pk:
                raise runtime.Conflict(f"Task {task.pk} is already claimed by {current.assignee}")
        runtime.record_event(task.instance, HistoryEvent.TASK_CLAIMED, task.element_id, task.name, user=user,
                             data=_on_behalf(absent))
    task.refresh_from_db()
    return task


def unclaim_task(task: HumanTask, user) -> HumanTask:
    """Give a claimed task back to its role's queue."""
    _check(user, task)
    HumanTask.objects.filter(pk=task.pk, state=HumanTask.OPEN).update(assignee=None)
    task.refresh_from_db()
    return task


def delegate_task(task: HumanTask, user, to_user: User) -> HumanTask:
    """Hand a task to another member of one of its candidate groups."""
    _check(user, task)
    if not to_user.groups.filter(name__in=task.candidate_groups).exists() and not to_user.is_superuser:
        raise NotAllowed(f"{to_user.username} is not a member of {', '.join(task.candidate_groups) or 'the role'}")
    absent = permissions.acting_for(user, task)
    with transaction.atomic():
        HumanTask.objects.filter(pk=task.pk, state=HumanTask.OPEN).update(assignee=to_user)
        permissions.grant_user(task, to_user)
        runtime.record_event(task.instance, HistoryEvent.TASK_CLAIMED, task.element_id, task.name, user=user,
                             data={"delegated_to": to_user.username, **_on_behalf(absent)})
    task.refresh_from_db()
    return task


def complete_task(task: HumanTask, user, data: dict, form: DynamicForm | None = None) -> ProcessInstance:
    """Complete a task the user may act on with the submitted data.

    The data is checked against the task's form first (ValidationError with
    field errors), so the web page and the REST API accept the same things.
    The page passes its bound task form instead, checked once: a picked
    option's record must not be checked against the list a second time.
    """
    _check(user, task)
    if task.state != HumanTask.OPEN:
        raise runtime.TaskNotOpen(f"Task {task.pk} is already {task.state}")
    if form is None:
        cleaned = validate_submission(task, data)
    elif form.is_valid():
        cleaned = form.json_data()
    else:
        raise ValidationError({name: list(messages) for name, messages in form.errors.items()})
    return runtime.complete_human_task(task, user, cleaned, on_behalf_of=permissions.acting_for(user, task))
