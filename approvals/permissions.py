"""Who may see and act on a human task: its candidates (lane role, groups, assignee), and their substitutes.

A substitute acts through the absent colleague's own rights (the guardian rows of their
tasks and groups), and only while the absence lasts: the dates are checked at every
request, so nothing has to be granted when it begins or taken back when it ends.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from approvals.models import Absence, HumanTaskGroupPermission, HumanTaskUserPermission
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


def today() -> date:
    """The site's date now: absences begin and end on dates."""
    return timezone.localdate()


def own_tasks(user) -> QuerySet[HumanTask]:
    """Tasks the user may act on in their own right: through one of their groups or directly (all, for a superuser)."""
    if user.is_superuser:
        return HumanTask.objects.all()
    by_group = HumanTaskGroupPermission.objects.filter(
        group__in=user.groups.all(), permission__codename="act_on_humantask"
    ).values("content_object_id")
    by_user = HumanTaskUserPermission.objects.filter(
        user=user, permission__codename="act_on_humantask"
    ).values("content_object_id")
    return HumanTask.objects.filter(Q(pk__in=by_group) | Q(pk__in=by_user))


def standing_in_for(user, on: date | None = None) -> QuerySet:
    """The colleagues `user` stands in for on day `on` (today): away, with `user` named as their substitute."""
    on = on or today()
    return get_user_model().objects.filter(
        absences__substitute=user, absences__starts_on__lte=on, absences__ends_on__gte=on).distinct()


def _sole_groups(absent_id: int) -> list[int]:
    """The groups of an absent user in which no other active member could act on their tasks."""
    others = Count("user", filter=Q(user__is_active=True) & ~Q(user__pk=absent_id))
    # A fresh queryset to annotate: counting over the join that found the groups would count only them.
    groups = Group.objects.filter(pk__in=Group.objects.filter(user__pk=absent_id).values("pk"))
    return list(groups.annotate(others=others).filter(others=0).values_list("pk", flat=True))


def _covered(absent_ids: list[int]) -> Q:
    """Open tasks that reach the substitute of these absent users: assigned to one of them, or
    unclaimed in a role that only one of them holds (nobody else could take it meanwhile)."""
    covered = Q(assignee__in=absent_ids)
    groups = [group for absent_id in absent_ids for group in _sole_groups(absent_id)]
    if groups:
        by_group = HumanTaskGroupPermission.objects.filter(
            group__in=groups, permission__codename="act_on_humantask").values("content_object_id")
        covered |= Q(assignee__isnull=True, pk__in=by_group)
    return Q(covered, state=HumanTask.OPEN)


def covered_tasks(absent_users) -> QuerySet[HumanTask]:
    """The open tasks of these absent users that reach their substitute."""
    absent_ids = [user.pk for user in absent_users]
    return HumanTask.objects.filter(_covered(absent_ids)) if absent_ids else HumanTask.objects.none()


def stand_in_tasks(user, on: date | None = None) -> QuerySet[HumanTask]:
    """Open tasks `user` may act on, on day `on` (today), for the colleagues they stand in for."""
    return covered_tasks(standing_in_for(user, on))


def tasks_for_user(user) -> QuerySet[HumanTask]:
    """Every task the user may act on: through one of their groups, directly, or for an absent colleague today."""
    if not user.is_authenticated:
        return HumanTask.objects.none()
    own = own_tasks(user)
    if user.is_superuser:
        return own
    stand_in = stand_in_tasks(user)
    # Only when they stand in for someone: the common case keeps the plain two-subquery statement.
    if stand_in.query.is_empty():
        return own
    return HumanTask.objects.filter(Q(pk__in=own.values("pk")) | Q(pk__in=stand_in.values("pk")))


def _own_right(user, task: HumanTask) -> bool:
    if task.assignee_id and task.assignee_id != user.pk:
        # Claimed by someone else: only they (or a superuser, or their substitute) act on it now.
        return False
    return own_tasks(user).filter(pk=task.pk).exists()


def _absent_colleague(user, task: HumanTask, on: date | None = None):
    """The absent colleague whose substitute `user` is and whose task `task` is, on day `on`; else None."""
    if task.state != HumanTask.OPEN:
        return None
    for absent in standing_in_for(user, on):
        if HumanTask.objects.filter(_covered([absent.pk]), pk=task.pk).exists():
            return absent
    return None


def acting_for(user, task: HumanTask, on: date | None = None):
    """The absent colleague on whose behalf `user` acts on `task` now; None when they act in their own right."""
    if not user.is_authenticated or user.is_superuser or _own_right(user, task):
        return None
    return _absent_colleague(user, task, on)


def can_act(user, task: HumanTask) -> bool:
    """True if `user` may see, claim and complete `task`: in their own right or as an absent colleague's substitute."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return _own_right(user, task) or _absent_colleague(user, task) is not None


def substitutes_for(task: HumanTask, on: date | None = None) -> list[int]:
    """Ids of the substitutes the task reaches on day `on` (today), because whose task it is is away."""
    on = on or today()
    if task.assignee_id:
        whose = [task.assignee_id]
    else:
        whose = list(get_user_model().objects.filter(groups__name__in=task.candidate_groups)
                     .values_list("pk", flat=True).distinct())
    absences = Absence.objects.filter(user__in=whose, starts_on__lte=on, ends_on__gte=on, substitute__is_active=True)
    return [absence.substitute_id for absence in absences
            if HumanTask.objects.filter(_covered([absence.user_id]), pk=task.pk).exists()]


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
    """True if `user` may see `task`: a candidate even when a colleague has claimed it, or who completed it."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.pk in (task.assignee_id, task.completed_by_id):
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
