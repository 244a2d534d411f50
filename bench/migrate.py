"""Batch migration throughput: instances moved to a new version per second, beside starts of the same process.

Run: ``.venv/bin/python bench/migrate.py [--instances 10000] [--rounds 4]``.
Prints figures; asserts nothing.

Version 1 is start → user task "review" (with a timer boundary "remind") → end; version 2 adds a
user task "sign_off" after "review". `--instances` instances are started on version 1 (the
baseline, measured in the same run); each waits with a human-task row and a timer job. They are
migrated to version 2 with `engine.migration.migrate_instances`, the function behind
`POST /api/v1/instances/migrate/`: per instance one write (row lock, spec swap through
SpiffWorkflow's diff utilities, rows following, history, audit, save with the version check).
Starts and migrations alternate in rounds, so a busy moment of the shared machine falls on both;
the ratio of the totals is the figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROCESS_ID = "reviewing"


def bpmn(with_sign_off: bool) -> bytes:
    """The benchmark process; version 2 has a sign-off after the review."""
    sign_off = '<bpmn:userTask id="sign_off" name="Sign off" />' if with_sign_off else ""
    after_review = "sign_off" if with_sign_off else "end"
    more_flow = '<bpmn:sequenceFlow id="f3" sourceRef="sign_off" targetRef="end" />' if with_sign_off else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="http://x">
  <bpmn:process id="{PROCESS_ID}" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="review" name="Review" />
    <bpmn:boundaryEvent id="remind" attachedToRef="review" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P3D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    {sign_off}
    <bpmn:endEvent id="end" />
    <bpmn:endEvent id="reminded" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="{after_review}" />
    <bpmn:sequenceFlow id="f4" sourceRef="remind" targetRef="reminded" />
    {more_flow}
  </bpmn:process>
</bpmn:definitions>
""".encode()


def setup_django(workdir: Path) -> None:
    os.environ["LANEBRIDGE_VAR"] = str(workdir)
    os.environ["SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "lanebridge.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=10_000, help="instances started, then migrated")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        setup_django(Path(workdir))
        from django.contrib.auth import get_user_model

        from engine.deploy import deploy
        from engine.migration import migrate_instances
        from engine.models import HumanTask, Job, ProcessInstance
        from engine.runtime import start_instance

        operator = get_user_model().objects.create_superuser("bench-operator", "op@example.com", "x")
        deploy(bpmn(False), "reviewing-v1.bpmn")
        deploy(bpmn(True), "reviewing-v2.bpmn")
        start_seconds = migrate_seconds = 0.0
        started = migrated = failed = 0
        ratios = []
        per_round = -(-args.instances // args.rounds)
        for _ in range(args.rounds):
            count = min(per_round, args.instances - started)
            t = time.perf_counter()
            ids = [start_instance(PROCESS_ID, {"amount": n}, version=1)[0].pk for n in range(count)]
            round_starts = time.perf_counter() - t
            t = time.perf_counter()
            results = migrate_instances(PROCESS_ID, 1, 2, instance_ids=ids, user=operator, reason="bench")
            round_migrations = time.perf_counter() - t
            start_seconds += round_starts
            migrate_seconds += round_migrations
            started += count
            migrated += sum(r["ok"] for r in results)
            failed += sum(not r["ok"] for r in results)
            ratios.append((count / round_migrations) / (count / round_starts))

        on_v2 = ProcessInstance.objects.filter(definition__version=2).count()
        tasks = HumanTask.objects.filter(state=HumanTask.OPEN, instance__definition__version=2).count()
        timers = Job.objects.filter(kind=Job.TIMER, state=Job.PENDING, instance__definition__version=2).count()
        print(f"instances started on v1: {started}, migrated to v2: {migrated}, refused: {failed}; "
              f"on v2 now: {on_v2} with {tasks} open tasks and {timers} pending timers")
        print(f"starts (baseline): {started / start_seconds:8.1f} instances/s")
        print(f"migrations:        {migrated / migrate_seconds:8.1f} instances/s "
              f"({args.instances} in {migrate_seconds:.1f} s, batches of {per_round})")
        print(f"migrations / starts: {(migrated / migrate_seconds) / (started / start_seconds):.2f} "
              f"(per round {min(ratios):.2f} – {max(ratios):.2f})")


if __name__ == "__main__":
    main()
