"""Inbox query times with 100k open tasks, beside a baseline measured in the same run.

Run: ``.venv/bin/python bench/inbox.py [--tasks N] [--repeat R]``. Prints figures; asserts nothing.

A throwaway SQLite database is migrated and filled with bulk_create: N open human tasks spread over
four lanes (Sales, Manager, Finance, Warehouse), one group permission row per task, a few hundred of
them claimed by the measured user. Each measurement is what the inbox page runs for one request:
the count of the tab plus its first page (25 rows, select_related, sorted by due date).

* inbox queue: `tasks_for_user(manager)` → open, unclaimed (the permission-filtered query)
* inbox mine: open tasks assigned to the manager
* baseline: the same count + first page of open, unclaimed tasks with no permission filter
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANES = ["Sales", "Manager", "Finance", "Warehouse"]


def setup_django(db_path: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["SQLITE_PATH"] = db_path
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(tasks: int):
    """Create the rows; returns the user whose inbox is measured."""
    from django.contrib.auth.models import Group, Permission, User
    from django.db import transaction
    from django.utils import timezone

    from approvals.models import HumanTaskGroupPermission
    from engine.models import HumanTask, ProcessDefinition, ProcessInstance

    rng = random.Random(7)
    now = timezone.now()
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in LANES}
    manager = User.objects.create_user("manager")
    manager.groups.add(groups["Manager"])
    act = Permission.objects.get(codename="act_on_humantask")
    with transaction.atomic():
        definition = ProcessDefinition.objects.create(
            process_id="bench", version=1, bpmn_xml="", content_hash="x", spec_json="{}",
            lanes=LANES, lane_roles={lane: lane for lane in LANES})
        instances = ProcessInstance.objects.bulk_create(
            [ProcessInstance(definition=definition, business_key=f"Q-{i}") for i in range(tasks // 10)],
            batch_size=2000)
        rows = []
        for i in range(tasks):
            lane = LANES[i % len(LANES)]
            rows.append(HumanTask(
                instance=instances[i // 10], task_id=uuid.uuid4(), element_id="approve", name="Approve quote",
                lane=lane, candidate_groups=[lane], priority=rng.randint(1, 100),
                due_at=now + timedelta(hours=rng.randint(-48, 240)) if i % 5 else None,
                assignee=manager if lane == "Manager" and i % 97 == 0 else None,
            ))
        created = HumanTask.objects.bulk_create(rows, batch_size=2000)
        HumanTaskGroupPermission.objects.bulk_create(
            [HumanTaskGroupPermission(group=groups[t.lane], permission=act, content_object=t) for t in created],
            batch_size=2000)
    # Planner statistics, as a running database would have them.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return manager


def measure(query_factory, repeat: int) -> list[float]:
    """Milliseconds for count + first page (25 rows), `repeat` times."""
    from django.core.paginator import Paginator

    from approvals.views import PAGE_SIZE, SORTS

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        queryset = query_factory().select_related("instance__definition", "assignee").order_by(*SORTS["due"])
        page = Paginator(queryset, PAGE_SIZE).get_page(1)
        list(page.object_list)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lanebridge-bench-") as tmp:
        setup_django(str(Path(tmp) / "inbox.sqlite3"))
        from approvals.permissions import tasks_for_user
        from engine.models import HumanTask

        started = time.perf_counter()
        manager = fill(args.tasks)
        print(f"filled {args.tasks} open tasks + permission rows in {time.perf_counter() - started:.1f} s")

        cases = {
            "baseline (no permission filter)":
                lambda: HumanTask.objects.filter(state=HumanTask.OPEN, assignee__isnull=True),
            "inbox: my roles' queue":
                lambda: tasks_for_user(manager).filter(state=HumanTask.OPEN, assignee__isnull=True),
            "inbox: assigned to me":
                lambda: HumanTask.objects.filter(state=HumanTask.OPEN, assignee=manager),
        }
        print(f"{'query (count + first page of 25)':<36} {'rows':>7} {'p50 ms':>8} {'p95 ms':>8}")
        for name, factory in cases.items():
            times = sorted(measure(factory, args.repeat))
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{name:<36} {factory().count():>7} {statistics.median(times):>8.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
