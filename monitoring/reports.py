"""The numbers behind the monitor and the reports, read from the query tables only.

Every function here reads human tasks, jobs, incidents, history and the id ledger,
never an instance's serialized state, so it stays fast at millions of rows. Time
spent at an element is measured by its rows: a human task from creation to completion,
a call or timer job from creation to the moment it finished (see monitoring.passes).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engine.models import (
    HistoryEvent,
    HumanTask,
    Incident,
    Job,
    ProcessDefinition,
    ProcessInstance,
    Subscription,
)
from integrations.ledger import ids_of_instances
from monitoring import passes
from monitoring.elements import STEP_TYPES, Element, elements_of, latest_elements, names

CHUNK = 500
# Ledger kinds as people call them; other kinds are shown as they are recorded.
LEDGER_LABELS = {
    "business_key": _("Business key"),
    "crm.opportunity": _("CRM opportunity"),
    "erp.customer": _("ERP customer"),
    "erp.sale": _("ERP order"),
    "erp.production": _("Production order"),
    "erp.shipment": _("Shipment"),
    "erp.invoice": _("Invoice"),
}
ACTIVE_JOBS = (Job.PENDING, Job.RUNNING)
# A boundary event's timer waits beside the task it is attached to: the token is at the task.
LISTENERS = {"boundaryEvent"}


class UnknownProcess(LookupError):
    """No deployed definition has this process id (and version)."""


def definitions_of(process_id: str, version: int | None = None) -> list[ProcessDefinition]:
    """The deployed versions of a process, newest first (only `version` if given); UnknownProcess if none."""
    found = ProcessDefinition.objects.filter(process_id=process_id).defer("spec_json").order_by("-version")
    if version is not None:
        found = found.filter(version=version)
    found = list(found)
    if not found:
        raise UnknownProcess(f"No process {process_id!r}" + (f" version {version}" if version is not None else ""))
    return found


def pass_times(definition_ids: list[int]) -> dict[str, dict]:
    """Per element: completed passes, and the mean and 90th percentile (nearest rank) of the latest ones, in seconds."""
    found: dict[str, dict] = {}
    for (element_id, source), n in sorted(passes.counts(definition_ids).items()):
        mean, p90 = passes.times(definition_ids, element_id, source)
        entry = found.setdefault(element_id, {"completed": 0, "avg_seconds": None, "p90_seconds": None})
        entry["completed"] += n
        # An element has one kind of row; should it have both, the slower figures are the ones to see.
        if mean is not None and (entry["avg_seconds"] is None or mean > entry["avg_seconds"]):
            entry["avg_seconds"], entry["p90_seconds"] = _round(mean), _round(p90)
    return found


def _round(value) -> float | None:
    return None if value is None else round(float(value), 3)


def open_by_definition(now: datetime | None = None) -> dict[tuple[int, str], dict[str, int]]:
    """(definition, element) → {"waiting", "incidents", "overdue"}: what sits at each element now.

    Waiting: open human tasks, pending or running jobs (calls, timers), message and signal
    subscriptions (rows that exist only while they wait). Overdue: open tasks due before `now`.
    """
    now = now or timezone.now()
    inst = ProcessInstance._meta.db_table
    # One pass over the instances for every kind of row: each row needs its instance's definition.
    rows = (f"SELECT instance_id, element_id, 1 AS waiting, 0 AS incident,"
            f" CASE WHEN due_at < %s THEN 1 ELSE 0 END AS overdue FROM {HumanTask._meta.db_table} WHERE state = %s"
            f" UNION ALL SELECT instance_id, element_id, 1, 0, 0 FROM {Job._meta.db_table} WHERE state IN (%s, %s)"
            f" UNION ALL SELECT instance_id, element_id, 1, 0, 0 FROM {Subscription._meta.db_table}"
            f" UNION ALL SELECT instance_id, element_id, 0, 1, 0 FROM {Incident._meta.db_table} WHERE state = %s")
    # CROSS JOIN makes SQLite start from the few open rows (their state indexes) instead of walking
    # every instance; PostgreSQL plans it as any join.
    sql = (f"SELECT i.definition_id, r.element_id, SUM(r.waiting), SUM(r.incident), SUM(r.overdue)"
           f" FROM ({rows}) r CROSS JOIN {inst} i WHERE i.id = r.instance_id GROUP BY 1, 2")
    params = [connection.ops.adapt_datetimefield_value(now), HumanTask.OPEN, *ACTIVE_JOBS, Incident.OPEN]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(definition_id, element_id): {"waiting": int(waiting), "incidents": int(incidents),
                                              "overdue": int(overdue)}
                for definition_id, element_id, waiting, incidents, overdue in cursor.fetchall()}


def open_counts(definition_ids: list[int]) -> dict[str, dict[str, int]]:
    """Per element: waiting rows, open incidents and overdue tasks of the definitions' instances."""
    wanted = set(definition_ids)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"waiting": 0, "incidents": 0, "overdue": 0})
    for (definition_id, element_id), found in open_by_definition().items():
        if definition_id in wanted:
            for name, n in found.items():
                counts[element_id][name] += n
    return counts


def statistics(process_id: str, version: int | None = None) -> dict:
    """Per element of a process (one version, or all): waiting now, open incidents, passes and their times.

    The elements are those of the version asked for (else the newest), followed by any
    element that has rows but is no longer in that diagram.
    """
    definitions = definitions_of(process_id, version)
    ids = [d.pk for d in definitions]
    counts = open_counts(ids)
    active = {element_id: n["waiting"] for element_id, n in counts.items() if n["waiting"]}
    incidents = {element_id: n["incidents"] for element_id, n in counts.items() if n["incidents"]}
    passes = pass_times(ids)
    elements = list(elements_of(definitions[0]))
    known = {e.element_id for e in elements}
    for element_id in sorted((set(active) | set(incidents) | set(passes)) - known - {""}):
        elements.append(Element(element_id, element_id, ""))
    rows = []
    for element in elements:
        done = passes.get(element.element_id, {})
        rows.append({
            "element_id": element.element_id, "name": element.name, "type": element.type,
            "active": 0 if element.type in LISTENERS else active.get(element.element_id, 0),
            "incidents": incidents.get(element.element_id, 0),
            "completed": done.get("completed", 0), "avg_seconds": done.get("avg_seconds"),
            "p90_seconds": done.get("p90_seconds"),
        })
    return {"process_id": process_id, "elements": rows}


def bottlenecks(process_id: str) -> dict:
    """The elements with completed passes, slowest first: by p90, then mean, then how many."""
    stats = statistics(process_id)
    ranked = [{"element_id": e["element_id"], "name": e["name"], "type": e["type"],
               "p90_seconds": e["p90_seconds"], "avg_seconds": e["avg_seconds"], "count": e["completed"],
               "waiting": e["active"]}
              for e in stats["elements"] if e["completed"]]
    ranked.sort(key=lambda e: (-e["p90_seconds"], -e["avg_seconds"], -e["count"]))
    return {"process_id": process_id, "elements": ranked}


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _stage_instances(process_id: str, date_from: date | None, date_to: date | None, state: str):
    """The definitions of a process and its instances started in [date_from, date_to] (in `state` if given)."""
    definitions = definitions_of(process_id)
    instances = ProcessInstance.objects.filter(definition_id__in=[d.pk for d in definitions])
    if date_from:
        instances = instances.filter(started_at__gte=_day_start(date_from))
    if date_to:
        instances = instances.filter(started_at__lt=_day_start(date_to + timedelta(days=1)))
    if state:
        instances = instances.filter(state=state)
    return definitions, instances


STAGE_FIELDS = ("id", "business_key", "state", "outcome", "started_at", "ended_at")


def stage_rows(process_id: str, date_from: date | None = None, date_to: date | None = None,
               state: str = "") -> tuple[list[dict], list[Element], list[str]]:
    """One row per instance of a process started in [date_from, date_to], oldest first.

    Returns the rows, the step elements (user and service tasks, diagram order) and the
    ledger kinds found, which the CSV and XLSX exports turn into columns.
    """
    definitions, instances = _stage_instances(process_id, date_from, date_to, state)
    return _stage_details(definitions, list(instances.order_by("id").values(*STAGE_FIELDS)))


def stage_page(process_id: str, date_from: date | None = None, date_to: date | None = None, state: str = "",
               newest: int = 200) -> tuple[list[dict], list[Element], list[str], int]:
    """Like stage_rows for the `newest` instances only (oldest of them first), and how many there are in all.

    The reports page shows these; filling every row of a large process is left to the downloads.
    """
    definitions, instances = _stage_instances(process_id, date_from, date_to, state)
    found = list(instances.order_by("-id").values(*STAGE_FIELDS)[:newest])[::-1]
    total = len(found) if len(found) < newest else instances.count()
    return (*_stage_details(definitions, found), total)


def _stage_details(definitions: list[ProcessDefinition], found: list[dict]
                   ) -> tuple[list[dict], list[Element], list[str]]:
    """Add each row's current steps, steps done and ledger numbers; returns the rows, step elements and kinds."""
    element_names: dict[str, str] = {}
    for definition in reversed(definitions):  # newer names win
        element_names.update(names(elements_of(definition)))
    steps = [e for e in elements_of(definitions[0]) if e.type in STEP_TYPES]
    kinds: set[str] = set()
    for chunk in _chunks(found):
        by_id = {row["id"]: row for row in chunk}
        for row in chunk:
            row.update(current=[], steps=[], external_ids={}, duration_seconds=_duration(row))
        for instance_id, name in HumanTask.objects.filter(instance_id__in=by_id, state=HumanTask.OPEN).order_by(
                "id").values_list("instance_id", "name"):
            by_id[instance_id]["current"].append(name)
        for instance_id, element_id in Job.objects.filter(
                instance_id__in=by_id, state__in=ACTIVE_JOBS, kind=Job.SERVICE).order_by("id").values_list(
                "instance_id", "element_id"):
            by_id[instance_id]["current"].append(element_names.get(element_id, element_id))
        done = [(i, e, n, a, b) for i, e, n, a, b in HumanTask.objects.filter(
            instance_id__in=by_id, state=HumanTask.COMPLETED).values_list(
            "instance_id", "element_id", "name", "created_at", "completed_at")]
        done += [(i, e, element_names.get(e, e), a, b) for i, e, a, b in Job.objects.filter(
            instance_id__in=by_id, state=Job.DONE, kind=Job.SERVICE).values_list(
            "instance_id", "element_id", "created_at", "updated_at")]
        for instance_id, element_id, name, reached, finished in sorted(done, key=lambda d: (d[0], d[3])):
            by_id[instance_id]["steps"].append(
                {"element_id": element_id, "name": name, "reached_at": reached, "done_at": finished})
        for instance_id, ids in ids_of_instances(list(by_id)).items():
            by_id[instance_id]["external_ids"] = ids
            kinds.update(ids)
    known = list(LEDGER_LABELS)
    return found, steps, sorted(kinds, key=lambda k: (known.index(k) if k in known else len(known), k))


def _duration(row: dict) -> float | None:
    if row["ended_at"] is None:
        return None
    return round((row["ended_at"] - row["started_at"]).total_seconds(), 3)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The start of the month `YYYY-MM` and of the next one; ValueError if it is not such a month."""
    year_text, _sep, month_text = month.partition("-")
    if not (len(year_text) == 4 and len(month_text) == 2 and year_text.isdigit() and month_text.isdigit()):
        raise ValueError("must be a month written YYYY-MM")
    year, number = int(year_text), int(month_text)
    if not 1 <= number <= 12 or year < 1:
        raise ValueError("must be a month written YYYY-MM")
    first = date(year, number, 1)
    after = first + timedelta(days=calendar.monthrange(year, number)[1])
    return _day_start(first), _day_start(after)


EXCEPTION_COUNTS = ("incidents", "incidents_open", "incidents_resolved", "overdue_tasks", "failed_instances",
                    "cancelled_instances")


def exceptions(month: str, now: datetime | None = None) -> dict:
    """The month's exceptions per process and element, with counts.

    Incidents opened in the month (still open or resolved, and the mean time to resolve),
    human tasks due in the month that were done late or are still open past due, and
    instances that failed or were cancelled in the month. ValueError for a bad month.
    """
    now = now or timezone.now()
    start, end = month_bounds(month)
    rows: dict[tuple[str, str], dict] = {}

    def row(process_id: str, element_id: str) -> dict:
        key = (process_id, element_id or "")
        if key not in rows:
            rows[key] = {"process_id": process_id, "element_id": element_id or "", "element_name": "",
                         **dict.fromkeys(EXCEPTION_COUNTS, 0), "avg_resolve_seconds": None, "_resolve": []}
        return rows[key]

    incidents = Incident.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
        "instance__definition__process_id", "element_id", "state", "created_at", "resolved_at")
    for process_id, element_id, state, created, resolved in incidents:
        r = row(process_id, element_id)
        r["incidents"] += 1
        if state == Incident.OPEN:
            r["incidents_open"] += 1
        else:
            r["incidents_resolved"] += 1
            if resolved:
                r["_resolve"].append((resolved - created).total_seconds())
    overdue = HumanTask.objects.filter(due_at__gte=start, due_at__lt=end).filter(
        Q(state=HumanTask.OPEN, due_at__lt=now) | Q(state=HumanTask.COMPLETED, completed_at__gt=F("due_at"))
    ).values_list("instance__definition__process_id", "element_id")
    for process_id, element_id in overdue:
        row(process_id, element_id)["overdue_tasks"] += 1
    ended = ProcessInstance.objects.filter(
        state__in=[ProcessInstance.FAILED, ProcessInstance.CANCELLED], ended_at__gte=start, ended_at__lt=end)
    ended_rows = list(ended.values_list("id", "definition__process_id", "state"))
    # A failed instance failed at an element: its history's last "failed" event names it.
    failed_at = dict(HistoryEvent.objects.filter(
        instance_id__in=[i for i, _p, s in ended_rows if s == ProcessInstance.FAILED],
        kind=HistoryEvent.FAILED).order_by("id").values_list("instance_id", "element_id"))
    for instance_id, process_id, state in ended_rows:
        if state == ProcessInstance.FAILED:
            row(process_id, failed_at.get(instance_id, ""))["failed_instances"] += 1
        else:
            row(process_id, "")["cancelled_instances"] += 1
    element_names: dict[str, dict[str, str]] = {}
    for r in rows.values():
        if r["process_id"] not in element_names:
            element_names[r["process_id"]] = names(latest_elements(r["process_id"]))
        r["element_name"] = element_names[r["process_id"]].get(r["element_id"], r["element_id"])
        resolve = r.pop("_resolve")
        r["avg_resolve_seconds"] = round(sum(resolve) / len(resolve), 3) if resolve else None
    ordered = sorted(rows.values(), key=lambda r: (r["process_id"], r["element_id"]))
    totals = {name: sum(r[name] for r in ordered) for name in EXCEPTION_COUNTS}
    return {"month": month, "rows": ordered, "totals": totals}
