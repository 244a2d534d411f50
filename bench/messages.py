"""Message correlation throughput: messages delivered per second into many waiting instances, beside starts.

Run: ``.venv/bin/python bench/messages.py [--waiting 10000] [--messages 2000] [--rounds 4]``.
Prints figures; asserts nothing.

The process is start → message catch "payment received" → end. `--waiting` instances are started
(the baseline, measured in the same run), each with its own business key, so each waits with a
subscription row. Messages are sent through `engine.messages.send_message`, each to the key of an
instance picked among all waiting so far: the lookup by name + key, the correlation check and the
delivery (load, catch, advance, save with the version check, history) happen per message. Starts
and deliveries alternate in rounds, so a busy moment of the shared machine falls on both; the
ratio of the totals is the figure.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROCESS_ID = "awaiting_payment"

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="http://x">
  <bpmn:message id="Message_1" name="payment received" />
  <bpmn:process id="awaiting_payment" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="Message_1" />
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


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
    parser.add_argument("--waiting", type=int, default=10_000, help="instances waiting for a message")
    parser.add_argument("--messages", type=int, default=2_000, help="messages delivered (at most --waiting)")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    args.messages = min(args.messages, args.waiting)

    with tempfile.TemporaryDirectory() as workdir:
        setup_django(Path(workdir))
        from engine.deploy import deploy
        from engine.messages import Message, send_message
        from engine.models import ProcessInstance, Subscription
        from engine.runtime import start_instance

        deploy(BPMN, "awaiting_payment.bpmn")
        keys = [f"SO-{i}" for i in range(args.waiting)]
        pick = random.Random(7)
        start_seconds = message_seconds = 0.0
        started = delivered = 0
        ratios = []
        waiting_keys: list[str] = []
        for r in range(args.rounds):
            chunk = keys[r::args.rounds]
            t = time.perf_counter()
            for key in chunk:
                start_instance(PROCESS_ID, {}, business_key=key)
            round_starts = time.perf_counter() - t
            start_seconds += round_starts
            started += len(chunk)
            # Each message goes to an instance picked among all that wait so far.
            waiting_keys.extend(chunk)
            pick.shuffle(waiting_keys)
            batch = [waiting_keys.pop() for _ in range(min(len(waiting_keys), args.messages // args.rounds))]
            t = time.perf_counter()
            for key in batch:
                answer = send_message(Message(name="payment received", business_key=key))
                if answer.status != 200:
                    raise SystemExit(f"message to {key}: {answer.status} {answer.body}")
            round_messages = time.perf_counter() - t
            message_seconds += round_messages
            delivered += len(batch)
            if batch and round_starts:
                ratios.append((len(batch) / round_messages) / (len(chunk) / round_starts))

        still_waiting = Subscription.objects.count()
        completed = ProcessInstance.objects.filter(state=ProcessInstance.COMPLETED).count()
        print(f"instances started: {started}, messages delivered: {delivered}, still waiting: {still_waiting}, "
              f"completed: {completed}")
        print(f"starts (baseline):   {started / start_seconds:8.1f} instances/s")
        print(f"message deliveries:  {delivered / message_seconds:8.1f} messages/s "
              f"(into up to {args.waiting} waiting instances)")
        if ratios:
            print(f"deliveries / starts: {(delivered / message_seconds) / (started / start_seconds):.2f} "
                  f"(per round {min(ratios):.2f} – {max(ratios):.2f})")


if __name__ == "__main__":
    main()
