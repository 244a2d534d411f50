"""Search by id: `integrations.ledger.search` over a million ledger rows, beside baselines from the same run.

Run: ``.venv/bin/python bench/search.py [--rows 1000000] [--per-instance 10] [--searches 1000]``.
Prints figures; asserts nothing. Target: p95 under 50 ms.

A throwaway SQLite database (WAL, as in the embedded setup) in a temporary directory is
migrated and filled with `--rows` ledger rows (`--per-instance` per instance, so 100,000
instances by default), then timed:

* search: random ids and business keys, in random case, through the function the API uses,
  as an operator (sees everything) and as a sales user (sees only their own instances);
* baseline 1: the same number of primary-key lookups of instances (the fastest query there is);
* baseline 2: the same search on the raw `value` column, which has no index of its own
  (what an unindexed ledger would cost), on fewer searches because each scans the table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = [
    ("business_key", "Q-{n:07d}"), ("crm.opportunity", "{n}"), ("erp.customer", "C-{c:06d}"),
    ("erp.sale", "{n}"), ("erp.sale", "SO-{n:07d}"), ("erp.production", "MO-{n:07d}"),
    ("erp.shipment", "SH-{n:07d}"), ("erp.invoice", "INV-{n:07d}"), ("crm.note", "N-{n:07d}"),
    ("shop.order", "WEB-{n:07d}"),
]
PROCESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_benched"
  targetNamespace="http://lanebridge.test/bench">
  <bpmn:process id="benched" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="review" name="Review" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def setup_django(directory: str) -> None:
    """Point Lanebridge at a fresh SQLite file in `directory` and migrate it."""
    os.environ["LANEBRIDGE_VAR"] = directory
    os.environ["SQLITE_PATH"] = str(Path(directory) / "bench.sqlite3")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(rows: int, per_instance: int, batch: int = 5000) -> list[str]:
    """Create the instances and their ledger rows; returns every value written, for picking searches."""
    from django.contrib.auth.models import User

    from engine.deploy import deploy
    from engine.models import ProcessInstance
    from integrations.ledger import normalize
    from integrations.models import ExternalId
    definition = deploy(PROCESS, "benched.bpmn").definitions[0]
    sales = User.objects.create_user("sales-bench")
    instances = rows // per_instance
    for start in range(0, instances, batch):
        ProcessInstance.objects.bulk_create([
            ProcessInstance(definition=definition, business_key=f"Q-{n:07d}", state_json="{}",
                            started_by=sales if n % 100 == 0 else None)
            for n in range(start, min(start + batch, instances))
        ])
    first_pk = ProcessInstance.objects.order_by("pk").values_list("pk", flat=True).first()
    values: list[str] = []
    pending: list[ExternalId] = []
    for n in range(instances):
        for kind, template in KINDS[:per_instance]:
            value = template.format(n=n, c=n // 3)  # a customer has three orders
            values.append(value)
            pending.append(ExternalId(instance_id=first_pk + n, kind=kind, value=value,
                                      value_normalized=normalize(value)))
        if len(pending) >= batch:
            ExternalId.objects.bulk_create(pending, ignore_conflicts=True)
            pending = []
    ExternalId.objects.bulk_create(pending, ignore_conflicts=True)
    return values


def timed(queries: list, run) -> list[float]:
    """Milliseconds taken by `run(query)` for each query."""
    times = []
    for query in queries:
        started = time.perf_counter()
        run(query)
        times.append((time.perf_counter() - started) * 1000)
    return times


def line(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (f"{label:<46} n={len(times):>5}  p50 {statistics.median(ordered):8.3f} ms  "
            f"p95 {p95:8.3f} ms  max {ordered[-1]:8.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--per-instance", type=int, default=10, choices=range(1, len(KINDS) + 1))
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lanebridge-bench-search-") as directory:
        setup_django(directory)
        from django.contrib.auth.models import User
        from django.db import connection

        from engine.models import ProcessInstance
        from integrations import ledger
        from integrations.models import ExternalId
        from processes.services import instances_for_user

        started = time.perf_counter()
        values = fill(args.rows, args.per_instance)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"filled {ExternalId.objects.count():,} ledger rows for {ProcessInstance.objects.count():,} "
              f"instances in {time.perf_counter() - started:.1f} s ({connection.vendor})")

        rng = random.Random(args.seed)
        # Mostly ids that exist, in any case; one in ten that does not.
        queries = [rng.choice(values).lower() if rng.random() < 0.9 else f"SO-X{rng.randrange(10**6)}"
                   for _ in range(args.searches)]
        operator = User.objects.create_superuser("operator-bench")
        sales = User.objects.get(username="sales-bench")
        visible_all, visible_own = instances_for_user(operator), instances_for_user(sales)
        pks = list(ProcessInstance.objects.values_list("pk", flat=True))
        pk_queries = [rng.choice(pks) for _ in range(args.searches)]

        found = sum(bool(ledger.search(q, visible_all)) for q in queries)
        print(f"{found} of {len(queries)} searches found an instance (as operator)\n")
        print(line("search (operator, sees all)", timed(queries, lambda q: list(ledger.search(q, visible_all)))))
        print(line("search (sales user, sees own)", timed(queries, lambda q: list(ledger.search(q, visible_own)))))
        print(line("baseline: instance by primary key", timed(
            pk_queries, lambda pk: ProcessInstance.objects.select_related("definition").get(pk=pk))))
        unindexed = queries[: max(1, args.searches // 20)]
        print(line("baseline: same search on unindexed `value`", timed(
            unindexed, lambda q: list(ExternalId.objects.filter(value=q.upper()).values_list("instance_id")))))


if __name__ == "__main__":
    main()
