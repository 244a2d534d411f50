"""Monitoring queries at scale: statistics, reports, dashboard and metrics beside a plain COUNT(*) of the same run.

Run: ``.venv/bin/python bench/monitor.py [--instances 100000] [--history 1000000] [--repeat 5]``;
with ``DATABASE_URL=postgres://...`` set, on PostgreSQL (in a throwaway ``test_`` database beside it).
Prints figures; asserts nothing. Goal: every page's queries under 150 ms at 1 M history rows.

A throwaway database (SQLite in WAL mode as in the embedded setup, or PostgreSQL) is migrated and filled with rows
written straight into the query tables (no engine run: the queries read only these tables):
`--instances` instances of a two-step order process over 60 days (most completed, some running,
failed or cancelled), one human task and one service job each, incidents for the failed ones,
two ledger numbers each and `--history` history rows. Each query is run `--repeat` times and its
median printed beside the median of ``SELECT COUNT(*)`` over the history and instance tables.
The pass counts are folded once after the fill, as the minute's alert run keeps them folded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HISTORY_KINDS = ["started", "task_ready", "task_claimed", "task_completed", "service_attempt", "service_result",
                 "message", "timer_fired", "service_attempt", "completed"]


def setup_django(directory: str) -> str | None:
    """Point Lanebridge at a fresh database and migrate it; returns the PostgreSQL database to drop after, if any.

    Without DATABASE_URL, a SQLite file in `directory`; with it, a new `test_` database on that server.
    """
    os.environ["LANEBRIDGE_VAR"] = directory
    os.environ["SQLITE_PATH"] = str(Path(directory) / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True)  # migrates it
        return name
    call_command("migrate", verbosity=0)
    return None


def stamp(moment: datetime) -> str:
    """A datetime as Django stores it in SQLite (UTC, no zone)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def fill(instances: int, history: int, now: datetime, batch: int = 20000) -> None:
    """Write the rows; each instance gets history // instances history rows."""
    from django.db import connection, transaction

    from engine.deploy import deploy
    from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessInstance
    from integrations.models import ExternalId
    from tests.monitoring.conftest import ORDER_BPMN  # the process the tests drive

    def insert(model, columns: list[str], rows: list[tuple]) -> None:
        """Insert rows giving `columns`; every other column gets its field's default."""
        others = [f for f in model._meta.concrete_fields if f.column not in columns and not f.primary_key]
        defaults = [f.get_db_prep_save(f.get_default(), connection) for f in others]
        names = ", ".join(columns + [f.column for f in others])
        marks = "(" + ", ".join(["%s"] * (len(columns) + len(others))) + ")"
        # Many rows per statement: row by row, PostgreSQL takes minutes to fill.
        for i in range(0, len(rows), 500):
            chunk = rows[i:i + 500]
            values = ", ".join([marks] * len(chunk))
            cursor.execute(f"INSERT INTO {model._meta.db_table} ({names}) VALUES {values}",  # noqa: S608
                           [value for row in chunk for value in (*row, *defaults)])

    definition = deploy(ORDER_BPMN, "order.bpmn").definitions[0]
    rng = random.Random(7)
    per_instance = max(1, history // instances)
    cursor = connection.cursor()
    inst, tasks, jobs, incidents, events, ledger = [], [], [], [], [], []

    def flush() -> None:
        with transaction.atomic():
            insert(ProcessInstance, ["id", "definition_id", "business_key", "state", "variables", "outcome", "version",
                                     "started_at", "ended_at", "updated_at"], inst)
            insert(HumanTask, ["id", "instance_id", "task_id", "element_id", "name", "candidate_groups", "due_at",
                               "state", "created_at", "completed_at"], tasks)
            insert(Job, ["id", "instance_id", "task_id", "element_id", "operation", "idempotency_key", "state",
                         "attempts", "due_at", "created_at", "updated_at"], jobs)
            insert(Incident, ["instance_id", "job_id", "element_id", "message", "state", "created_at", "resolved_at"],
                   incidents)
            insert(HistoryEvent, ["instance_id", "kind", "element_id", "data", "at"], events)
            insert(ExternalId, ["instance_id", "kind", "value", "value_normalized", "created_at"], ledger)
        for rows in (inst, tasks, jobs, incidents, events, ledger):
            rows.clear()

    for n in range(1, instances + 1):
        started = now - timedelta(days=60 * rng.random())
        approve = started + timedelta(hours=rng.expovariate(1 / 8))
        call = approve + timedelta(seconds=rng.expovariate(1 / 3))
        roll = rng.random()
        state, outcome, ended = "completed", "Order delivered", call
        if roll < 0.15:
            state, outcome, ended = "active", "", None
        elif roll < 0.18:
            state, outcome, ended = "failed", "", call
        elif roll < 0.20:
            state, outcome, ended = "cancelled", "", approve
        elif roll < 0.40:
            outcome, ended = "Quote rejected", approve
        key = f"Q-{n:07d}"
        inst.append((n, definition.pk, key, state, json.dumps({"customer": {"name": f"Customer {n % 997}"}}),
                     outcome, 1, stamp(started), ended and stamp(ended), stamp(ended or started)))
        open_task = state == "active" and roll < 0.10
        tasks.append((n, n, f"{n:032x}", "approve", "Approve quote", '["Manager"]',
                      stamp(started + timedelta(hours=24)), "open" if open_task else "completed", stamp(started),
                      None if open_task else stamp(approve)))
        if not open_task and outcome != "Quote rejected" and state != "cancelled":
            job_state = {"failed": "failed", "active": "pending"}.get(state, "done")
            jobs.append((n, n, f"{n + 10**9:032x}", "create_order", "test.create_order", f"lanebridge-{n}", job_state,
                         1, stamp(call), stamp(approve), stamp(call)))
            if state == "failed":
                incidents.append((n, n, "create_order", "ERP refused the order",
                                  "open" if rng.random() < 0.5 else "resolved", stamp(call),
                                  stamp(call + timedelta(hours=2))))
        for i in range(per_instance):
            kind = HISTORY_KINDS[i % len(HISTORY_KINDS)]
            element = {"task_ready": "approve", "task_completed": "approve", "task_claimed": "approve"}.get(
                kind, "create_order" if kind.startswith("service") else "")
            data = '{"operation": "test.create_order", "seconds": 0.4}' if kind.startswith("service") else "{}"
            events.append((n, kind, element, data, stamp(started + timedelta(seconds=i))))
        ledger.append((n, "business_key", key, key, stamp(started)))
        ledger.append((n, "erp.sale", f"SO-{n:07d}", f"SO-{n:07d}", stamp(call)))
        if len(events) >= batch:
            flush()
    flush()
    # The statistics a live database has: PostgreSQL's autovacuum would also have set the visibility map.
    cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def timed(func, repeat: int) -> tuple[float, object]:
    """Median milliseconds of `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lanebridge-bench-") as directory:
        server_database = setup_django(directory)
        try:
            run(args)
        finally:
            if server_database:
                from django.db import connection

                connection.creation.destroy_test_db(server_database, verbosity=0)


def run(args: argparse.Namespace) -> None:
    """Fill the database, then time each query beside the COUNT(*) baselines."""
    from django.db import connection
    from django.utils import timezone

    from engine.models import ProcessInstance
    from monitoring import dashboard, metrics, passes, reports
    from processes.services import list_rows, search_instances

    now = timezone.now()
    start = time.perf_counter()
    fill(args.instances, args.history, now)
    print(f"{connection.vendor}: filled {args.instances:,} instances and {args.history:,} history rows "
          f"in {time.perf_counter() - start:.0f} s")
    # What the minute's alert run does on a live system; here once over every row just written.
    ms, _ = timed(lambda: passes.fold(now + passes.SETTLE + timedelta(days=1)), 1)
    print(f"pass counts folded from every history row once in {ms:.0f} ms")

    def count(table: str):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - a fixed table name
                return cursor.fetchone()[0]
        return run

    month = timezone.localtime(now).strftime("%Y-%m")
    day = timezone.localdate(now) - timedelta(days=3)
    cases = [
        ("baseline: COUNT(*) history", count("engine_historyevent")),
        ("baseline: COUNT(*) instances", count("engine_processinstance")),
        ("dashboard (monitor page and data)", lambda: dashboard.summary(now)),
        ("statistics (API, heatmap page)", lambda: reports.statistics("order")),
        ("bottlenecks", lambda: reports.bottlenecks("order")),
        ("stage report, one day", lambda: reports.stage_rows("order", day, day)),
        ("exception report, this month", lambda: reports.exceptions(month)),
        ("instance list page (50 rows)", lambda: list_rows(list(ProcessInstance.objects.select_related(
            "definition").order_by("-id")[:50]))),
        ("instance search by ERP number", lambda: list(search_instances(
            ProcessInstance.objects.all(), "so-0054321")[:50])),
        ("metrics scrape", lambda: metrics.render(now)),
    ]
    if hasattr(reports, "stage_page"):
        cases.insert(5, ("reports page, stage tab (all)", lambda: reports.stage_page("order")))
    # A first run pays once for what later runs reuse: the metrics tally of every history row
    # (once per web process), the parsed spec and diagram.
    print(f"{'query':<36}{'first ms':>10}{'median ms':>11}{'× COUNT(*) history':>20}")
    baseline = None
    for name, func in cases:
        first, _ = timed(func, 1)
        ms, _ = timed(func, args.repeat)
        baseline = baseline or ms
        print(f"{name:<36}{first:>10.1f}{ms:>11.1f}{ms / baseline:>20.1f}")
    ms, _ = timed(lambda: reports.stage_rows("order"), 1)
    print(f"{'stage report, all (export)':<36}{'':>10}{ms:>11.1f}{ms / baseline:>20.1f}")


if __name__ == "__main__":
    main()
