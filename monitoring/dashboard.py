"""The figures of the monitor page (流程监控大屏), read from the query tables only."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, F
from django.utils import timezone

from engine.models import HumanTask, Incident, ProcessDefinition, ProcessInstance
from monitoring.elements import latest_elements
from monitoring.passes import seconds_between
from monitoring.reports import LISTENERS, open_by_definition, pass_times

TREND_DAYS = 14
TOP = 8


def _today_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def tiles(now: datetime) -> dict:
    """Running instances, completed today, open incidents and overdue tasks."""
    return {
        "running": ProcessInstance.objects.filter(state=ProcessInstance.ACTIVE).count(),
        "completed_today": ProcessInstance.objects.filter(
            state=ProcessInstance.COMPLETED, ended_at__gte=_today_start(now)).count(),
        "incidents": Incident.objects.filter(state=Incident.OPEN).count(),
        "overdue": HumanTask.objects.filter(state=HumanTask.OPEN, due_at__lt=now).count(),
    }


def processes(now: datetime) -> list[dict]:
    """Per process: instances by state, and where the running ones wait now, in diagram order (the funnel)."""
    process_of = dict(ProcessDefinition.objects.values_list("pk", "process_id"))
    by_state: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for definition_id, state, n in ProcessInstance.objects.values_list("definition_id", "state").annotate(
            n=Count("id")).order_by():
        by_state[process_of[definition_id]][state] += n
    waiting: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    incidents: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overdue: dict[str, int] = defaultdict(int)
    for (definition_id, element_id), counts in open_by_definition(now).items():
        process_id = process_of[definition_id]
        if counts["waiting"]:
            waiting[process_id][element_id] += counts["waiting"]
        if counts["incidents"]:
            incidents[process_id][element_id] += counts["incidents"]
        overdue[process_id] += counts["overdue"]
    found = []
    for process_id in ProcessDefinition.objects.values_list("process_id", flat=True).distinct().order_by(
            "process_id"):
        elements = latest_elements(process_id)
        order = {e.element_id: i for i, e in enumerate(elements)}
        named = {e.element_id: e.name for e in elements}
        listeners = {e.element_id for e in elements if e.type in LISTENERS}
        stages = [{"element_id": element_id, "name": named.get(element_id, element_id), "waiting": n,
                   "incidents": incidents[process_id].get(element_id, 0)}
                  for element_id, n in waiting[process_id].items() if element_id not in listeners]
        stages += [{"element_id": element_id, "name": named.get(element_id, element_id), "waiting": 0,
                    "incidents": n} for element_id, n in incidents[process_id].items()
                   if element_id not in waiting[process_id]]
        stages.sort(key=lambda s: order.get(s["element_id"], len(order)))
        found.append({"process_id": process_id, "states": dict(by_state.get(process_id, {})), "stages": stages,
                      "overdue": overdue.get(process_id, 0),
                      "incidents": sum(incidents[process_id].values())})
    return found


def trends(now: datetime, days: int = TREND_DAYS) -> dict:
    """Per day of the last `days`: instances started, completed, and the mean lead time of those completed."""
    first = _today_start(now) - timedelta(days=days - 1)
    labels = [(first + timedelta(days=i)).date() for i in range(days)]
    started = {day: n for day, n, _lead in _per_day("started_at", first, completed=False)}
    completed, lead = {}, {}
    for day, n, seconds in _per_day("ended_at", first, completed=True):
        completed[day] = n
        lead[day] = round(seconds / 3600, 2) if seconds is not None else None
    return {"days": [d.isoformat() for d in labels], "started": [started.get(d, 0) for d in labels],
            "completed": [completed.get(d, 0) for d in labels], "lead_hours": [lead.get(d) for d in labels]}


def _per_day(column: str, since: datetime, completed: bool) -> list[tuple[date, int, float | None]]:
    """(local day of `column`, instances, mean seconds from start to end) for instances since `since`."""
    table = ProcessInstance._meta.db_table
    # The day in the site's time zone, by its offset now (a DST change shifts one hour of one day).
    offset = int(timezone.localtime(since).utcoffset().total_seconds())
    if connection.vendor == "postgresql":
        day = f"(({column} + make_interval(secs => {offset}))::date)"
    else:
        day = f"date({column}, '{offset:+d} seconds')"
    where = f"{column} >= %s" + (" AND state = %s" if completed else "")
    moment = connection.ops.adapt_datetimefield_value(since)
    params = [moment, ProcessInstance.COMPLETED] if completed else [moment]
    sql = (f"SELECT {day}, COUNT(*), AVG({seconds_between('ended_at', 'started_at')}) FROM {table}"
           f" WHERE {where} GROUP BY 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(d if isinstance(d, date) else date.fromisoformat(d), n, mean) for d, n, mean in cursor.fetchall()]


def top_bottlenecks(limit: int = TOP) -> list[dict]:
    """The elements with the longest p90 time over every process, slowest first."""
    ranked = []
    definitions: dict[str, list[int]] = defaultdict(list)
    for process_id, pk in ProcessDefinition.objects.values_list("process_id", "pk"):
        definitions[process_id].append(pk)
    for process_id, ids in definitions.items():
        named = {e.element_id: e.name for e in latest_elements(process_id)}
        for element_id, times in pass_times(ids).items():
            ranked.append({"process_id": process_id, "element_id": element_id,
                           "name": named.get(element_id, element_id), **times})
    ranked.sort(key=lambda r: -(r["p90_seconds"] or 0))
    return ranked[:limit]


def latest_incidents(limit: int = TOP) -> list[dict]:
    """The newest open incidents: where, what and which instance."""
    rows = Incident.objects.filter(state=Incident.OPEN).order_by("-id").values(
        "id", "instance_id", "element_id", "message", "created_at",
        process_id=F("instance__definition__process_id"), business_key=F("instance__business_key"))[:limit]
    named: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["process_id"] not in named:
            named[row["process_id"]] = {e.element_id: e.name for e in latest_elements(row["process_id"])}
    return [{**row, "message": row["message"][:200],
             "name": named[row["process_id"]].get(row["element_id"]) or row["element_id"]} for row in rows]


def summary(now: datetime | None = None) -> dict:
    """Everything the monitor page shows, as plain data (the page and its live refresh read the same)."""
    now = now or timezone.now()
    return {"at": now.isoformat(), "tiles": tiles(now), "processes": processes(now), "trends": trends(now),
            "bottlenecks": top_bottlenecks(), "incidents": latest_incidents()}

