"""Who may see and act on a human task: its candidates (lane role, groups, assignee)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import OuterRef, Q, QuerySet, Subquery
from guardian.shortcuts import assign_perm, remove_perm

from approvals.models import HumanTaskGroupPermission, HumanTaskUserPermission
from engine.models import HumanTask, ProcessDefinition

ACT = "engine.act_on_humantask"


def grant_task_permissions(task: HumanTask) -> list[Group]:
    """Give the task's candidate groups (and its assignee) the right to act on it; returns those groups."""
    groups = list(Group.objects.filter(name__in=task.candidate_groups))
    if groups:
        assign_perm(ACT, groups, task)  # one insert for all the groups
    if task.assignee_id:
        assign_perm(ACT, task.assignee, task)
    return groups


def grant_user(task: HumanTask, user) -> None:
    """Let one more user act on the task (delegation)."""
    assign_perm(ACT, user, task)


def revoke_user(task: HumanTask, user) -> None:
    """Take a user's direct right on the task away."""
    remove_perm(ACT, user, task)


def tasks_for_user(user) -> QuerySet[HumanTask]:
    """Every task the user may act on: through one of their groups or directly."""
    if not user.is_authenticated:
        return HumanTask.objects.none()
    if user.is_superuser:
        return HumanTask.objects.all()
    by_group = HumanTaskGroupPermission.objects.filter(
        group__in=user.groups.all(), permission__codename="act_on_humantask"
    ).values("content_object_id")
    by_user = HumanTaskUserPermission.objects.filter(
        user=user, permission__codename="act_on_humantask"
    ).values("content_object_id")
    return HumanTask.objects.filter(Q(pk__in=by_group) | Q(pk__in=by_user))


def can_act(user, task: HumanTask) -> bool:
    """True if `user` may see, claim and complete `task`."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if task.assignee_id and task.assignee_id != user.pk:
        # Claimed by someone else: only they (or a superuser) act on it now.
        return False
    return tasks_for_user(user).filter(pk=task.pk).exists()


def can_start(user, definition) -> bool:
    """True if `user` may start instances of `definition`.

    Superusers, holders of the global ``engine.add_processinstance`` permission
    (analysts, integrating systems) and members of the start event's lane role.
    """
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.has_perm("engine.add_processinstance"):
        return True
    from engine.deploy import start_lane

    lane = start_lane(definition)
    role = definition.lane_roles.get(lane, lane) if lane else None
    return bool(role) and user.groups.filter(name=role).exists()


def can_view(user, task: HumanTask) -> bool:
    """True if `user` may see `task`: a candidate even when a colleague has claimed it."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or task.assignee_id == user.pk:
        return True
    return tasks_for_user(user).filter(pk=task.pk).exists()


def candidate_users(task: HumanTask) -> QuerySet:
    """Active members of the task's candidate groups: who it may be delegated to."""
    return (
        get_user_model().objects.filter(is_active=True, groups__name__in=task.candidate_groups)
        .distinct().order_by("username")
    )


def startable_definitions(user) -> list[ProcessDefinition]:
    """The latest version of every process that `user` may start."""
    latest = ProcessDefinition.objects.filter(
        process_id=OuterRef("process_id")).order_by("-version").values("pk")[:1]
    definitions = ProcessDefinition.objects.filter(pk=Subquery(latest)).order_by("process_id")
    return [d for d in definitions if can_start(user, d)]
