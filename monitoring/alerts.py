"""Alerts: problems found in the query tables, grouped per process, element and kind within a window.

`run_alerts(now)` runs every minute (the embedded scheduler, or Celery beat), read top to bottom:

1. Each rule finds the problems that appeared since its last run: incidents opened, tasks that
   became overdue, instances that stopped moving, elements whose calls fail too often, buffered
   messages that expired before any instance took them. A rule's
   cursor moves with a conditional UPDATE in the same transaction as what it found, so two runs
   at once never count a problem twice.
2. Problems are added to the Alert row of their kind, process, element and window: a storm of
   failures is one row with a count, not a message per failure (no "wolf" effect).
3. Every alert not sent yet goes out at once, with the count so far, by email and to every chat
   webhook.
4. An alert whose window has closed with more problems than its message said goes out once more,
   with the rest of the count. So a window gives at most two messages per kind and element.

The same minute's run also folds the new history into the pass counts (monitoring.passes).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from engine.models import BufferedMessage, HistoryEvent, HumanTask, Incident, Job, ProcessInstance
from monitoring import channels, passes
from monitoring.elements import latest_elements, names
from monitoring.models import Alert, AlertCursor, CallCount

log = logging.getLogger(__name__)

MAX_INSTANCE_IDS = 20
CALL_KINDS = {HistoryEvent.SERVICE_RESULT: False, HistoryEvent.SERVICE_ERROR: True, HistoryEvent.INCIDENT: True}


class CursorMoved(Exception):
    """Another alert run moved the cursor first; this run's findings are rolled back."""


@dataclass
class Problem:
    """Something found at one element of one instance."""

    kind: str
    process_id: str
    element_id: str
    instance_id: int | None = None
    detail: str = ""
    roles: list[str] = field(default_factory=list)
    # For the error-rate rule: the window's count replaces the alert's count instead of adding to it.
    total: int | None = None


def _config() -> dict:
    return settings.LANEBRIDGE_ALERTS


def window_seconds() -> int:
    return max(60, int(_config()["WINDOW_SECONDS"]))


def window_start(now: datetime) -> datetime:
    """The start of the window `now` falls in (windows are aligned to the epoch)."""
    seconds = window_seconds()
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def _cursor(name: str, now: datetime) -> AlertCursor:
    # A rule's first run looks back one window only: switching alerts on must not page about last year.
    cursor, _created = AlertCursor.objects.get_or_create(name=name, defaults={
        "at": now - timedelta(seconds=window_seconds()), "position": _first_position(name)})
    return cursor


def _first_position(name: str) -> int:
    if name == "calls":
        return HistoryEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return 0


def _move(cursor: AlertCursor, position: int, at: datetime | None) -> None:
    if not AlertCursor.objects.filter(pk=cursor.pk, position=cursor.position, at=cursor.at).update(
            position=position, at=at):
        raise CursorMoved(cursor.name)


def incidents_opened(now: datetime) -> list[Problem]:
    """Incidents created since the last run."""
    cursor = _cursor("incidents", now)
    rows = Incident.objects.filter(id__gt=cursor.position)
    if cursor.position == 0:
        rows = rows.filter(created_at__gte=cursor.at)
    found = list(rows.order_by("id").values_list(
        "id", "instance__definition__process_id", "element_id", "instance_id", "message"))
    if found:
        position = found[-1][0]
    else:
        # Nothing new; on the first run, start after the incidents that were too old to alert about.
        position = cursor.position or _last_incident_id()
    _move(cursor, position, cursor.at)
    return [Problem(Alert.INCIDENT, process_id, element_id, instance_id, message[:300])
            for _id, process_id, element_id, instance_id, message in found]


def _last_incident_id() -> int:
    return Incident.objects.order_by("-id").values_list("id", flat=True).first() or 0


def tasks_overdue(now: datetime) -> list[Problem]:
    """Open tasks whose due time passed since the last run."""
    cursor = _cursor("overdue", now)
    found = HumanTask.objects.filter(state=HumanTask.OPEN, due_at__gt=cursor.at, due_at__lte=now).values_list(
        "instance__definition__process_id", "element_id", "instance_id", "name", "candidate_groups")
    problems = [Problem(Alert.OVERDUE, process_id, element_id, instance_id, name, roles=list(groups or []))
                for process_id, element_id, instance_id, name, groups in found]
    _move(cursor, cursor.position, now)
    return problems


def instances_stuck(now: datetime) -> list[Problem]:
    """Active instances whose last change became older than the threshold since the last run."""
    cursor = _cursor("stuck", now)
    hours = float(_config()["STUCK_HOURS"])
    if hours <= 0:
        _move(cursor, cursor.position, now)
        return []
    threshold = timedelta(hours=hours)
    found = list(ProcessInstance.objects.filter(
        state=ProcessInstance.ACTIVE, updated_at__gt=cursor.at - threshold, updated_at__lte=now - threshold,
    ).values_list("pk", "definition__process_id"))
    waiting = _waiting_elements([pk for pk, _p in found])
    _move(cursor, cursor.position, now)
    detail = _("No progress for %(hours)s hours") % {"hours": f"{hours:g}"}
    return [Problem(Alert.STUCK, process_id, waiting.get(pk, ""), pk, detail) for pk, process_id in found]


def _waiting_elements(instance_ids: list[int]) -> dict[int, str]:
    """Where each instance waits: its first open task, else its first pending call or timer."""
    where: dict[int, str] = {}
    for instance_id, element_id in Job.objects.filter(instance_id__in=instance_ids, state__in=[
            Job.PENDING, Job.RUNNING]).order_by("-id").values_list("instance_id", "element_id"):
        where[instance_id] = element_id
    for instance_id, element_id in HumanTask.objects.filter(instance_id__in=instance_ids, state=HumanTask.OPEN
                                                            ).order_by("-id").values_list("instance_id", "element_id"):
        where[instance_id] = element_id
    return where


def error_rates(now: datetime) -> list[Problem]:
    """Elements whose calls in the current window failed at least the threshold share of the time."""
    cursor = _cursor("calls", now)
    rows = HistoryEvent.objects.filter(id__gt=cursor.position, kind__in=list(CALL_KINDS))
    last = cursor.position
    start = window_start(now)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for process_id, element_id, kind, n, top in rows.values_list(
            "instance__definition__process_id", "element_id", "kind").annotate(
            n=Count("id"), top=Max("id")).order_by():
        counts[(process_id, element_id)][0] += n
        counts[(process_id, element_id)][1] += n if CALL_KINDS[kind] else 0
        last = max(last, top)
    for (process_id, element_id), (calls, errors) in counts.items():
        row, _created = CallCount.objects.get_or_create(process_id=process_id, element_id=element_id,
                                                        window_start=start)
        CallCount.objects.filter(pk=row.pk).update(calls=F("calls") + calls, errors=F("errors") + errors)
    _move(cursor, last, now)
    rate, minimum = float(_config()["ERROR_RATE"]), int(_config()["ERROR_RATE_MIN_CALLS"])
    if rate <= 0:
        return []
    problems = []
    for row in CallCount.objects.filter(window_start=start, calls__gte=max(1, minimum)):
        if row.errors / row.calls >= rate:
            detail = _("%(errors)s of %(calls)s calls failed") % {"errors": row.errors, "calls": row.calls}
            problems.append(Problem(Alert.ERROR_RATE, row.process_id, row.element_id, None, detail,
                                    total=row.errors))
    return problems


def messages_expired(now: datetime) -> list[Problem]:
    """Buffered messages that expired undelivered since the last run, one problem each, under the message's name."""
    cursor = _cursor("expired", now)
    found = BufferedMessage.objects.filter(
        state=BufferedMessage.EXPIRED, ended_at__gt=cursor.at, ended_at__lte=now).order_by("id").values_list(
        "name", "business_key", "created_at")
    problems = [Problem(Alert.MESSAGE_EXPIRED, "", name, None, _expired_detail(key, created))
                for name, key, created in found]
    _move(cursor, cursor.position, now)
    return problems


def _expired_detail(business_key: str, created: datetime) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Business key %(key)s, received %(at)s, no instance took it") % {
            "key": business_key or "—", "at": timezone.localtime(created).strftime("%Y-%m-%d %H:%M")}


RULES = {"INCIDENTS": incidents_opened, "OVERDUE_TASKS": tasks_overdue}


def find_problems(now: datetime) -> list[Problem]:
    """Run every rule that is on; each in its own transaction with its cursor."""
    rules = [rule for setting, rule in RULES.items() if _config()[setting]] + [
        instances_stuck, error_rates, messages_expired]
    problems: list[Problem] = []
    for rule in rules:
        try:
            with transaction.atomic():
                found = rule(now)
                record(found, now)
                problems += found
        except CursorMoved:
            log.info("alert rule %s: another run got there first", rule.__name__)
    return problems


def record(problems: list[Problem], now: datetime) -> list[Alert]:
    """Add problems to the alert of their kind, process, element and window."""
    groups: dict[tuple[str, str, str], list[Problem]] = defaultdict(list)
    for problem in problems:
        groups[(problem.kind, problem.process_id, problem.element_id)].append(problem)
    start = window_start(now)
    alerts = []
    for (kind, process_id, element_id), found in groups.items():
        alert, _created = Alert.objects.select_for_update().get_or_create(
            kind=kind, process_id=process_id, element_id=element_id, window_start=start,
            defaults={"first_at": now, "last_at": now})
        totals = [p.total for p in found if p.total is not None]
        alert.count = max(totals) if totals else alert.count + len(found)
        ids = [p.instance_id for p in found if p.instance_id is not None]
        alert.instance_ids = list(dict.fromkeys([*alert.instance_ids, *ids]))[:MAX_INSTANCE_IDS]
        alert.roles = sorted({*alert.roles, *(role for p in found for role in p.roles)})
        alert.detail = found[-1].detail
        alert.element_name = names(latest_elements(process_id)).get(element_id, element_id)
        alert.last_at = now
        alert.save()
        alerts.append(alert)
    return alerts


def due_for_sending(now: datetime):
    """Alerts never sent, and alerts whose window closed with more than their message said."""
    closed = window_start(now) - timedelta(seconds=window_seconds())
    return Alert.objects.filter(
        Q(sent_at__isnull=True, count__gt=0) | Q(window_start__lte=closed, count__gt=F("sent_count"))
    ).order_by("id")


def send_due(now: datetime) -> int:
    """Send every alert due; returns how many messages went out (one per alert, on all channels)."""
    hooks = channels.parse_webhooks(_config()["WEBHOOKS"])
    sent = 0
    for alert in due_for_sending(now):
        # Claimed with a conditional UPDATE: a concurrent run that read the same row sends nothing.
        if not Alert.objects.filter(pk=alert.pk, sent_count=alert.sent_count).update(
                sent_count=alert.count, sent_at=now):
            continue
        message = compose(alert, more=alert.sent_count if alert.sent_at else 0)
        results = {"email": channels.email(message, alert.roles)}
        for hook in hooks:
            results[hook.name] = channels.post(hook, message)
        Alert.objects.filter(pk=alert.pk).update(channels=results)
        sent += 1
    return sent


def compose(alert: Alert, more: int = 0) -> channels.Message:
    """The message for an alert, in the site's language; `more` > 0: a follow-up counting what came after it."""
    count = alert.count - more
    where = {"count": count, "element": alert.element_name or alert.element_id or "—", "process": alert.process_id}
    with translation.override(settings.LANGUAGE_CODE):
        if alert.kind == Alert.INCIDENT:
            title = ngettext("%(count)s incident at %(element)s in %(process)s",
                             "%(count)s incidents at %(element)s in %(process)s", count) % where
        elif alert.kind == Alert.OVERDUE:
            title = ngettext("%(count)s task overdue at %(element)s in %(process)s",
                             "%(count)s tasks overdue at %(element)s in %(process)s", count) % where
        elif alert.kind == Alert.STUCK:
            title = ngettext("%(count)s instance without progress at %(element)s in %(process)s",
                             "%(count)s instances without progress at %(element)s in %(process)s", count) % where
        elif alert.kind == Alert.MESSAGE_EXPIRED:
            title = ngettext("%(count)s message %(element)s expired before any instance took it",
                             "%(count)s messages %(element)s expired before any instance took them", count) % where
        else:
            title = _("Calls failing at %(element)s in %(process)s") % where
        lines = [alert.detail] if alert.detail else []
        if more:
            lines.append(_("%(count)s more in the same %(minutes)s minutes as the last message") % {
                "count": count, "minutes": window_seconds() // 60})
        lines.append(_("From %(first)s to %(last)s") % {
            "first": timezone.localtime(alert.first_at).strftime("%Y-%m-%d %H:%M"),
            "last": timezone.localtime(alert.last_at).strftime("%H:%M")})
    url = alert_url(alert)
    data = {"kind": alert.kind, "process_id": alert.process_id, "element_id": alert.element_id,
            "element_name": alert.element_name, "count": count, "total": alert.count,
            "instances": alert.instance_ids, "window_start": alert.window_start.isoformat()}
    return channels.Message(f"[Lanebridge] {title}", lines, url, data)


def alert_url(alert: Alert) -> str:
    """Where the alert's link goes, as an absolute URL: the one instance, else the instances concerned."""
    base = settings.LANEBRIDGE_BASE_URL
    if alert.kind == Alert.MESSAGE_EXPIRED:
        return base + reverse("monitoring:alerts")
    if len(alert.instance_ids) == 1:
        return base + reverse("processes:instance", args=[alert.instance_ids[0]])
    if alert.kind == Alert.ERROR_RATE or not alert.element_id:
        return base + reverse("monitoring:process-monitor", args=[alert.process_id])
    return base + reverse("processes:instances") + "?" + urlencode(
        {"process": alert.process_id, "element": alert.element_id})


def run_alerts(now: datetime | None = None) -> int:
    """Find new problems, record them and send what is due; returns how many messages went out."""
    now = now or timezone.now()
    find_problems(now)
    # Kept current here, so the monitor pages never fold a long backlog of history themselves.
    passes.fold(now)
    return send_due(now)
