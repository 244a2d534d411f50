"""Email candidates about new tasks, batched: one email per user per run, however many tasks arrived."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from approvals import permissions
from approvals.models import OrderNotice, TaskNotification, UserPreference
from engine.models import HumanTask

log = logging.getLogger(__name__)


def recipients(task: HumanTask, groups: list[Group]) -> list[int]:
    """Ids of who hears about a task: its assignee if it has one, else the members of `groups`, its candidates;
    and the substitutes of those who are away."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if task.assignee_id:
        found = users.filter(pk=task.assignee_id)
    else:
        found = users.filter(groups__in=groups)
    ids = list(found.values_list("pk", flat=True).distinct())
    substitutes = users.filter(pk__in=permissions.substitutes_for(task)).values_list("pk", flat=True)
    return ids + [pk for pk in substitutes if pk not in ids]


def queue_notifications(task: HumanTask, groups: list[Group]) -> int:
    """Record a pending notification for every recipient of a new task; returns how many.

    `groups` are the task's candidate groups, as `grant_task_permissions` found them.
    """
    rows = [TaskNotification(user_id=user_id, task=task) for user_id in recipients(task, groups)]
    TaskNotification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def send_pending_notifications(now: datetime) -> int:
    """Send one email per user listing all their pending tasks; returns how many emails went out.

    1. Find users with pending notifications.
    2. Claim that user's rows with a conditional UPDATE (sent_at is null → now), so two
       runs at once never send the same rows twice.
    3. Drop tasks that were completed or cancelled meanwhile; email the rest.
    4. If sending fails, give the rows back so the next run tries again.
    Then the notices of orders that ended badly go out (`send_pending_notices`).
    """
    sent = 0
    user_ids = TaskNotification.objects.filter(sent_at=None).values_list("user_id", flat=True).distinct()
    for user in get_user_model().objects.filter(pk__in=list(user_ids)):
        ids = list(TaskNotification.objects.filter(user=user, sent_at=None).values_list("pk", flat=True))
        claimed = TaskNotification.objects.filter(pk__in=ids, sent_at=None).update(sent_at=now)
        if not claimed:
            continue  # another run got there first
        tasks = list(
            HumanTask.objects.filter(state=HumanTask.OPEN, pk__in=TaskNotification.objects.filter(
                pk__in=ids, sent_at=now).values("task_id"))
            .filter(Q(assignee__isnull=True) | Q(assignee=user)
                    | Q(pk__in=permissions.stand_in_tasks(user, timezone.localdate(now)).values("pk")))
            .select_related("instance__definition").order_by("due_at", "created_at")
        )
        if not tasks or not user.email:
            continue
        try:
            _send(user, tasks)
            sent += 1
        except Exception:  # noqa: BLE001 - one bad address must not stop the others
            log.exception("could not send task notification to %s", user.username)
            TaskNotification.objects.filter(pk__in=ids, sent_at=now).update(sent_at=None)
    return sent + send_pending_notices(now)


def _language(user) -> str:
    # In the language the user chose for the pages, else the site's.
    preference = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    return preference or settings.LANGUAGE_CODE


def send_pending_notices(now: datetime) -> int:
    """Email each initiator whose order was rejected, cancelled or failed, once per notice; returns how many."""
    sent = 0
    for notice in OrderNotice.objects.filter(sent_at=None).select_related("user", "instance__definition"):
        # Claimed by a conditional UPDATE, as the task emails are: two runs never send it twice.
        if not OrderNotice.objects.filter(pk=notice.pk, sent_at=None).update(sent_at=now) or not notice.user.email:
            continue
        try:
            _send_notice(notice)
            sent += 1
        except Exception:  # noqa: BLE001 - one bad address must not stop the others
            log.exception("could not send order notice to %s", notice.user.username)
            OrderNotice.objects.filter(pk=notice.pk).update(sent_at=None)
    return sent


def _send_notice(notice: OrderNotice) -> None:
    base = settings.LANEBRIDGE_BASE_URL
    instance = notice.instance
    with translation.override(_language(notice.user)):
        context = {"user": notice.user, "notice": notice, "instance": instance,
                   "order": instance.business_key or f"#{instance.pk}",
                   "process": instance.definition.name or instance.definition.process_id,
                   "url": base + reverse("approvals:order", args=[instance.pk]),
                   "inbox_url": base + reverse("approvals:inbox")}
        subject = render_to_string("approvals/email/order_ended_subject.txt", context).strip()
        body = render_to_string("approvals/email/order_ended.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notice.user.email])


def _send(user, tasks: list[HumanTask]) -> None:
    base = settings.LANEBRIDGE_BASE_URL
    items = [{"task": t, "url": base + reverse("approvals:task", args=[t.pk])} for t in tasks]
    with translation.override(_language(user)):
        subject = ngettext("%(count)d new task in Lanebridge", "%(count)d new tasks in Lanebridge",
                          len(tasks)) % {"count": len(tasks)}
        body = render_to_string("approvals/email/new_tasks.txt", {"user": user, "items": items,
                                                                 "inbox_url": base + reverse("approvals:inbox")})
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
