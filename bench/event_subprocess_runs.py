"""Messages into one long-lived instance's non-interrupting event sub-process, beside messages into fresh ones.

Run: ``.venv/bin/python bench/event_subprocess_runs.py [--messages 300] [--rounds 3]``. Prints figures;
asserts nothing.

The process is start → script → user task `review` (it waits there), with a non-interrupting event
sub-process started by the message "order cancelled" that counts the calls (script → end). One
instance receives `--messages` messages, one after another, as an order that lives for weeks hears
the ERP again and again; each ended run is cut from its task tree. The baseline, measured in the
same run, sends the same number of messages each to a fresh instance that never received one. If
runs piled up, the long-lived instance's state and its time per message would grow with every
message; the figures are its stored state and tasks at checkpoints, and the two times per message.
Deliveries alternate in rounds so a busy moment of the shared machine falls on both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.messages import setup_django  # noqa: E402 - after the path is set


def process() -> bytes:
    from tests.engine import bpmn
    from tests.engine import bpmn_semantics as sem

    handler = sem.event_subprocess("handler", "caught", sem.MESSAGE, False,
                                   inner=bpmn.script_task("count", "runs = runs + 1\nlast = reason"))
    return bpmn.chain("counting", bpmn.script_task("open", "step = 'open'"), bpmn.user_task("review"),
                      extra_body=handler, extra=sem.DECLARATIONS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=300, help="messages into the long-lived instance")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        setup_django(Path(workdir))
        from engine import spiff
        from engine.deploy import deploy, specs_for
        from engine.messages import Message, send_message
        from engine.models import ProcessInstance
        from engine.runtime import start_instance

        deploy(process(), "counting.bpmn")
        long_lived, _ = start_instance("counting", {"runs": 0}, business_key="LONG")
        for i in range(args.messages):
            start_instance("counting", {"runs": 0}, business_key=f"NEW-{i}")

        def send(key: str, number: int) -> float:
            t = time.perf_counter()
            answer = send_message(Message(name="order cancelled", business_key=key,
                                          variables={"reason": f"call {number}"}))
            if answer.status != 200:
                raise SystemExit(f"message to {key}: {answer.status} {answer.body}")
            return time.perf_counter() - t

        def size() -> tuple[int, int]:
            row = ProcessInstance.objects.get(pk=long_lived.pk)
            return len(spiff.load_workflow(specs_for(row.definition), row.state_json).get_tasks()), len(row.state_json)

        checkpoints = {1, 10, args.messages // 10, args.messages // 2, args.messages}
        sizes, long_times, fresh_times = {}, [], []
        sent = 0
        for r in range(args.rounds):
            batch = range(r * args.messages // args.rounds, (r + 1) * args.messages // args.rounds)
            for number in batch:
                long_times.append(send("LONG", number + 1))
                sent += 1
                if sent in checkpoints:
                    sizes[sent] = size()
            for number in batch:
                fresh_times.append(send(f"NEW-{number}", number + 1))

        runs = ProcessInstance.objects.get(pk=long_lived.pk).variables["runs"]
        print(f"{args.messages} messages into one instance (it counted {runs}), and one each into "
              f"{args.messages} fresh instances, in {args.rounds} rounds")
        print("long-lived instance after N messages: tasks in its workflow, stored state")
        for n in sorted(sizes):
            print(f"  {n:6d}: {sizes[n][0]:5d} tasks {sizes[n][1] / 1024:8.1f} KB")
        tail = long_times[-max(1, args.messages // 10):]
        print(f"time per message, fresh instances (baseline): {statistics.median(fresh_times) * 1000:7.2f} ms (median)")
        print(f"time per message, long-lived, all:            {statistics.median(long_times) * 1000:7.2f} ms (median)")
        print(f"time per message, long-lived, last tenth:     {statistics.median(tail) * 1000:7.2f} ms (median)")
        print(f"last tenth / baseline: {statistics.median(tail) / statistics.median(fresh_times):.2f}")


if __name__ == "__main__":
    main()
