"""Prometheus metrics computed from the query tables when they are scraped.

Why from the database and not from counters kept in memory: calls run in Celery workers,
possibly on other machines, and the web server answering `/metrics` runs several
processes. prometheus_client's multiprocess mode only adds up processes that share one
directory on one machine, so it would miss the workers elsewhere. The database sees every
call: gauges are counted at scrape time, and counters and histograms are tallied from the
history rows, reading only the rows added since the last scrape. Every web process tallies
the same rows, so whichever one answers gives the same totals.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessDefinition, ProcessInstance

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, float("inf"))
CALL_OUTCOMES = {HistoryEvent.SERVICE_RESULT: "ok", HistoryEvent.SERVICE_ERROR: "error",
                 HistoryEvent.INCIDENT: "incident"}
# History rows younger than this are counted on every scrape but not yet folded into the tally:
# a transaction still open may commit a row with a smaller id, which a cursor past it would skip.
SETTLE = timedelta(seconds=60)


class Tally:
    """Counts of history rows up to a cursor: steps per process and kind, calls per operation and outcome."""

    def __init__(self):
        self.cursor = 0
        self.steps: dict[tuple[str, str], int] = defaultdict(int)
        self.calls: dict[tuple[str, str], list] = {}

    def copy(self) -> Tally:
        other = Tally()
        other.cursor = self.cursor
        other.steps = defaultdict(int, self.steps)
        other.calls = {key: [list(v[0]), v[1], v[2]] for key, v in self.calls.items()}
        return other

    def add(self, upto: int | None, settled_before: datetime | None) -> int:
        """Fold in the rows after the cursor (up to id `upto` / written before a time); returns the last id read."""
        rows = HistoryEvent.objects.filter(id__gt=self.cursor)
        if upto is not None:
            rows = rows.filter(id__lte=upto)
        if settled_before is not None:
            rows = rows.filter(at__lt=settled_before)
        last = self.cursor
        if self.cursor == 0:
            # The first tally reads everything anyway: grouped in SQL, one pass.
            for process_id, kind, n, top in rows.values_list("instance__definition__process_id", "kind").annotate(
                    n=Count("id"), top=Max("id")).order_by():
                self.steps[(process_id, kind)] += n
                last = max(last, top)
        else:
            # Counted here rather than grouped in SQL: grouped, SQLite walks the whole instance index
            # instead of the id range past the cursor.
            by_instance: dict[tuple[int, str], int] = defaultdict(int)
            for instance_id, kind, row_id in rows.values_list("instance_id", "kind", "id").iterator(
                    chunk_size=20000):
                by_instance[(instance_id, kind)] += 1
                last = max(last, row_id)
            processes = process_ids_of({instance_id for instance_id, _kind in by_instance})
            for (instance_id, kind), n in by_instance.items():
                self.steps[(processes.get(instance_id, ""), kind)] += n
        # Each call's outcome row names its operation and carries the call's seconds.
        for kind, operation, seconds in rows.filter(kind__in=list(CALL_OUTCOMES)).values_list(
                "kind", "data__operation", "data__seconds").iterator(chunk_size=20000):
            self._observe(str(operation or ""), CALL_OUTCOMES[kind], seconds)
        return last

    def _observe(self, operation: str, outcome: str, seconds) -> None:
        entry = self.calls.setdefault((operation, outcome), [[0] * len(BUCKETS), 0.0, 0])
        entry[2] += 1
        if isinstance(seconds, (int, float)):
            entry[1] += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    entry[0][i] += 1
        else:
            # A call whose time was not recorded (a lost worker) counts in the +Inf bucket only.
            entry[0][-1] += 1


def process_ids_of(instance_ids: set[int]) -> dict[int, str]:
    """Instance id → process id."""
    definitions = dict(ProcessDefinition.objects.values_list("pk", "process_id"))
    instances = ProcessInstance.objects.all()
    if len(instance_ids) <= 5000:
        instances = instances.filter(pk__in=list(instance_ids))
    return {pk: definitions.get(d, "") for pk, d in instances.values_list("pk", "definition_id").iterator(
        chunk_size=20000)}


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


_settled = Tally()
_lock = threading.Lock()


def current_tally(now: datetime) -> Tally:
    """The settled tally moved forward to rows older than SETTLE, plus a copy with the newer rows added."""
    with _lock:
        _settled.cursor = _settled.add(None, now - SETTLE)
        fresh = _settled.copy()
    fresh.add(None, None)
    return fresh


def forget() -> None:
    """Start tallying from the first history row again (tests roll the database back)."""
    global _settled
    with _lock:
        _settled = Tally()


class QueryTableCollector(Collector):
    """Collects every Lanebridge metric from the database at scrape time."""

    def __init__(self, now: datetime | None = None):
        self.now = now

    def collect(self):
        now = self.now or timezone.now()
        yield from self._instances()
        yield from self._tasks(now)
        yield from self._incidents(now)
        yield from self._jobs(now)
        yield from self._history(now)

    def _processes(self) -> dict[int, str]:
        return dict(ProcessDefinition.objects.values_list("pk", "process_id"))

    def _instances(self):
        gauge = GaugeMetricFamily("lanebridge_instances", "Process instances by process and state",
                                  labels=["process", "state"])
        counts: dict[tuple[str, str], int] = defaultdict(int)
        processes = self._processes()
        for definition_id, state, n in _rows(
                f"SELECT definition_id, state, COUNT(*) FROM {ProcessInstance._meta.db_table} GROUP BY 1, 2", []):
            counts[(processes.get(definition_id, ""), state)] += n
        for (process_id, state), n in sorted(counts.items()):
            gauge.add_metric([process_id, state], n)
        yield gauge

    def _open(self, model, states: list[str], now: datetime) -> dict[tuple[str, str], list[int]]:
        """(process, element) → [rows in `states`, of those past due_at] (due_at: human tasks only)."""
        table, inst = model._meta.db_table, ProcessInstance._meta.db_table
        late = "SUM(CASE WHEN r.due_at < %s THEN 1 ELSE 0 END)" if model is HumanTask else "0"
        marks = ", ".join(["%s"] * len(states))
        # CROSS JOIN: SQLite starts from the few open rows (state index), not from every instance.
        sql = (f"SELECT i.definition_id, r.element_id, COUNT(*), {late} FROM {table} r CROSS JOIN {inst} i"
               f" WHERE i.id = r.instance_id AND r.state IN ({marks}) GROUP BY 1, 2")
        params = [connection.ops.adapt_datetimefield_value(now)] if model is HumanTask else []
        processes = self._processes()
        found: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for definition_id, element_id, n, past in _rows(sql, [*params, *states]):
            entry = found[(processes.get(definition_id, ""), element_id)]
            entry[0] += n
            entry[1] += past or 0
        return found

    def _tasks(self, now: datetime):
        open_tasks = GaugeMetricFamily("lanebridge_open_tasks", "Open human tasks by process and element",
                                       labels=["process", "element"])
        overdue = GaugeMetricFamily("lanebridge_overdue_tasks", "Open human tasks past their due time",
                                    labels=["process", "element"])
        for (process_id, element_id), (n, late) in sorted(self._open(HumanTask, [HumanTask.OPEN], now).items()):
            open_tasks.add_metric([process_id, element_id], n)
            overdue.add_metric([process_id, element_id], late)
        yield open_tasks
        yield overdue

    def _incidents(self, now: datetime):
        gauge = GaugeMetricFamily("lanebridge_open_incidents", "Open incidents by process and element",
                                  labels=["process", "element"])
        for (process_id, element_id), (n, _late) in sorted(self._open(Incident, [Incident.OPEN], now).items()):
            gauge.add_metric([process_id, element_id], n)
        yield gauge

    def _jobs(self, now: datetime):
        waiting = GaugeMetricFamily("lanebridge_jobs_waiting",
                                    "Jobs not done: pending (due now or later) or running, by kind",
                                    labels=["kind", "state"])
        due = GaugeMetricFamily("lanebridge_jobs_due", "Pending jobs whose due time has passed, by kind",
                                labels=["kind"])
        for kind, state, n, late in Job.objects.filter(state__in=[Job.PENDING, Job.RUNNING]).values_list(
                "kind", "state").annotate(n=Count("id"), late=Count("id", filter=Q(
                    state=Job.PENDING, due_at__lte=now))).order_by("kind", "state"):
            waiting.add_metric([kind, state], n)
            if state == Job.PENDING:
                due.add_metric([kind], late)
        yield waiting
        yield due

    def _history(self, now: datetime):
        tally = current_tally(now)
        steps = CounterMetricFamily("lanebridge_steps", "History events by process and kind",
                                    labels=["process", "kind"])
        for (process_id, kind), n in sorted(tally.steps.items()):
            steps.add_metric([process_id, kind], n)
        yield steps
        calls = CounterMetricFamily("lanebridge_connector_calls", "Connector calls by operation and outcome",
                                    labels=["operation", "outcome"])
        latency = HistogramMetricFamily("lanebridge_connector_call_seconds",
                                        "Time connector calls took, by operation and outcome",
                                        labels=["operation", "outcome"])
        for (operation, outcome), (buckets, total, count) in sorted(tally.calls.items()):
            calls.add_metric([operation, outcome], count)
            cumulative = [(_bound(b), n) for b, n in zip(BUCKETS, buckets, strict=True)]
            latency.add_metric([operation, outcome], cumulative, total)
        yield calls
        yield latency


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


def render(now: datetime | None = None) -> bytes:
    """The metrics in Prometheus' text format."""
    from prometheus_client import generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueryTableCollector(now))
    return generate_latest(registry)
