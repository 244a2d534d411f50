"""Completed passes per element: counted once from the history, timed from the latest passes.

Counting every completed task and call at each request costs a scan of the task and job
tables (seconds at a million rows). Every completed pass also appends one history row
(`task_completed`, `service_result`, `timer_fired`), so the counts are kept in `PassCount`
and moved forward from the history rows added since the last read, as the metrics are.
Times (mean and p90) are measured on the latest SAMPLE passes of each element, which reads
a bounded number of rows however old the process is, and says how the step runs lately.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from engine.models import HistoryEvent, HumanTask, Job, ProcessInstance
from monitoring.models import AlertCursor, PassCount

SAMPLE = 2000
# History kind of a completed pass → the table that holds the pass's times.
PASS_KINDS = {HistoryEvent.TASK_COMPLETED: "task", HistoryEvent.SERVICE_RESULT: "job",
              HistoryEvent.TIMER_FIRED: "job"}
CURSOR = "passes"
# Rows younger than this are counted on each read but not folded in yet: a transaction still open
# may commit a row with a smaller id, which a cursor past it would skip.
SETTLE = timedelta(seconds=60)


def _count_rows(rows) -> dict[tuple[int, str, str], int]:
    """(definition, element, source) → passes among the history `rows`."""
    # Counted here, without a join or GROUP BY, so the database reads only the id range asked for
    # (grouped, SQLite walks the whole instance index instead); the definitions are looked up after.
    grouped: dict[tuple[int, str, str], int] = defaultdict(int)
    for key in rows.exclude(element_id="").values_list("instance_id", "element_id", "kind").iterator(
            chunk_size=10000):
        grouped[key] += 1
    by_instance = [(*key, n) for key, n in grouped.items()]
    instance_ids = list({row[0] for row in by_instance})
    definitions: dict[int, int] = {}
    for i in range(0, len(instance_ids), 500):
        definitions.update(ProcessInstance.objects.filter(pk__in=instance_ids[i:i + 500]).values_list(
            "pk", "definition_id"))
    counts: dict[tuple[int, str, str], int] = defaultdict(int)
    for instance_id, element_id, kind, n in by_instance:
        if instance_id in definitions:
            counts[(definitions[instance_id], element_id, PASS_KINDS[kind])] += n
    return counts


def fold(now: datetime) -> None:
    """Add the settled history rows since the cursor to the counts; a concurrent fold makes this one a no-op."""
    cursor, _created = AlertCursor.objects.get_or_create(name=CURSOR)
    rows = HistoryEvent.objects.filter(id__gt=cursor.position, at__lt=now - SETTLE)
    last = rows.aggregate(last=Max("id"))["last"]
    if last is None:
        return
    with transaction.atomic():
        if not AlertCursor.objects.filter(pk=cursor.pk, position=cursor.position).update(position=last):
            return  # another process folded these rows
        settled = HistoryEvent.objects.filter(id__gt=cursor.position, id__lte=last, kind__in=list(PASS_KINDS))
        for (definition_id, element_id, source), n in _count_rows(settled).items():
            row, _created = PassCount.objects.select_for_update().get_or_create(
                definition_id=definition_id, element_id=element_id, source=source)
            PassCount.objects.filter(pk=row.pk).update(count=row.count + n)


def counts(definition_ids: list[int], now: datetime | None = None) -> dict[tuple[str, str], int]:
    """(element, "task" or "job") → completed passes, over the definitions given."""
    fold(now or timezone.now())
    position = AlertCursor.objects.filter(name=CURSOR).values_list("position", flat=True).first() or 0
    found: dict[tuple[str, str], int] = defaultdict(int)
    for element_id, source, n in PassCount.objects.filter(definition_id__in=definition_ids).values_list(
            "element_id", "source", "count"):
        found[(element_id, source)] += n
    # Filtered by definition here, not in SQL: a filter on the joined instance would make the
    # database walk the instances instead of the few rows past the cursor.
    fresh = HistoryEvent.objects.filter(id__gt=position, kind__in=list(PASS_KINDS))
    wanted = set(definition_ids)
    for (definition_id, element_id, source), n in _count_rows(fresh).items():
        if definition_id in wanted:
            found[(element_id, source)] += n
    return found


def seconds_between(end: str, start: str) -> str:
    """SQL for the seconds from column `start` to column `end` on this database."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def _sample_sql(source: str, definition_ids: list[int]) -> tuple[str, list]:
    inst = ProcessInstance._meta.db_table
    if source == "task":
        table, state, end = HumanTask._meta.db_table, HumanTask.COMPLETED, "completed_at"
    else:
        table, state, end = Job._meta.db_table, Job.DONE, "updated_at"
    marks = ", ".join(["%s"] * len(definition_ids))
    # Newest first by id, so the scan stops after SAMPLE rows; the times are computed on those only.
    latest = (f"SELECT r.created_at AS a, r.{end} AS b FROM {table} r JOIN {inst} i ON i.id = r.instance_id"
              f" WHERE r.element_id = %s AND r.state = %s AND i.definition_id IN ({marks})"
              f" ORDER BY r.id DESC LIMIT {SAMPLE}")
    # The p90 (nearest rank) is the first duration at rank ≥ 0.9 n.
    sql = ("SELECT AVG(secs), MIN(CASE WHEN rn >= 0.9 * n THEN secs END) FROM ("
           " SELECT secs, ROW_NUMBER() OVER (ORDER BY secs) AS rn, COUNT(*) OVER () AS n FROM ("
           f" SELECT {seconds_between('b', 'a')} AS secs FROM ({latest}) l) d) r")
    return sql, [state, *definition_ids]


def times(definition_ids: list[int], element_id: str, source: str) -> tuple[float | None, float | None]:
    """Mean and p90 seconds of the latest SAMPLE completed passes of one element."""
    sql, params = _sample_sql(source, definition_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, [element_id, *params])
        mean, p90 = cursor.fetchone()
    return mean, p90
