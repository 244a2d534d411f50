"""Long loops and long chains: Lanebridge's pruned engine against raw SpiffWorkflow, in the same run.

Run: ``.venv/bin/python bench/long_loops.py [--rounds 10000]``. Prints figures; asserts nothing.

* script loop: start → i = 0 → step → i += 1 → back while i < N → user task `after`;
* user-task loop: the same with a user task as the step, completed N times (one engine run each);
* chain: N script tasks in a row, then `after`.

"before" is raw SpiffWorkflow (``BpmnWorkflow`` + ``do_engine_steps``) with the same parser and
script engine; "after" is what Lanebridge runs (``engine.spiff.new_workflow`` + ``engine.prune``).
State is the instance row as stored (serialized without the spec). Both sides run in memory, with
no database, so the figures are the engine's own.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")
    import django

    django.setup()


def loop_process(times: int, step: str) -> bytes:
    from tests.engine import bpmn

    body = (
        bpmn.start_event() + bpmn.script_task("init", "i = 0") + step
        + bpmn.script_task("count", "i = i + 1") + bpmn.exclusive_gateway("again", default="to_after")
        + bpmn.user_task("after") + bpmn.end_event()
        + bpmn.flow("f0", "start", "init") + bpmn.flow("f1", "init", "step") + bpmn.flow("f2", "step", "count")
        + bpmn.flow("f3", "count", "again") + bpmn.flow("back", "again", "step", f"i < {times}")
        + bpmn.flow("to_after", "again", "after") + bpmn.flow("f4", "after", "end")
    )
    return bpmn.definitions("looping", body)


def parse(content: bytes, process_id: str, deep: bool):
    from lxml import etree

    from engine import prune, spiff

    def run():
        parser = spiff.BpmnParser()
        parser.add_bpmn_xml(etree.fromstring(content).getroottree(), "bench.bpmn")
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)

    return prune.with_deep_stack(run, content.count(b"<")) if deep else run()


def new_workflow(specs, lanebridge: bool):
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    from engine import spiff
    from engine.scripts import SCRIPT_ENGINE

    if lanebridge:
        return spiff.new_workflow(specs, {})
    return BpmnWorkflow(*specs, script_engine=SCRIPT_ENGINE)


def run_engine(workflow, lanebridge: bool) -> None:
    from engine import prune

    if lanebridge:
        prune.run_engine(workflow)
    else:
        workflow.do_engine_steps()


def outcome(workflow, variable: str) -> str:
    """Where the instance stands: waiting at `after` with the variable's value, or ended (and where)."""
    from SpiffWorkflow.util.task import TaskState

    waiting = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "after"]
    if waiting:
        return f"waits at 'after', {variable} = {waiting[0].data.get(variable)}"
    last = workflow.last_task.data.get(variable) if workflow.last_task is not None else None
    state = "claims completed" if workflow.is_completed() else "stuck"
    return f"{state} with {variable} = {last} (WRONG)"


def script_loop(rounds: int, lanebridge: bool) -> tuple[float, int, str]:
    from engine import spiff
    from tests.engine import bpmn

    specs = parse(loop_process(rounds, bpmn.script_task("step", "total = i * 2")), "looping", deep=False)
    started = time.perf_counter()
    workflow = new_workflow(specs, lanebridge)
    run_engine(workflow, lanebridge)
    seconds = time.perf_counter() - started
    return seconds, len(spiff.dump_workflow(workflow)), outcome(workflow, "i")


def user_task_loop(rounds: int, lanebridge: bool) -> tuple[float, float, int, str]:
    """Seconds for all rounds, ms per completion over the last tenth, state size, outcome."""
    from SpiffWorkflow.util.task import TaskState

    from engine import spiff
    from tests.engine import bpmn

    specs = parse(loop_process(rounds, bpmn.user_task("step")), "looping", deep=False)
    workflow = new_workflow(specs, lanebridge)
    run_engine(workflow, lanebridge)
    started = time.perf_counter()
    tail_start, tail_rounds = None, 0
    for done in range(rounds):
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "step"]
        if not ready:
            break
        if done >= rounds - rounds // 10:
            tail_start = tail_start or time.perf_counter()
            tail_rounds += 1
        ready[0].run()
        run_engine(workflow, lanebridge)
    seconds = time.perf_counter() - started
    tail_ms = (time.perf_counter() - tail_start) * 1000 / tail_rounds if tail_start else float("nan")
    return seconds, tail_ms, len(spiff.dump_workflow(workflow)), outcome(workflow, "i")


def chain(tasks: int, lanebridge: bool) -> tuple[float, int, str]:
    from engine import spiff
    from tests.engine import bpmn

    content = bpmn.chain("chained", *[bpmn.script_task(f"s{n}", f"last = {n}") for n in range(tasks)],
                         bpmn.user_task("after"))
    started = time.perf_counter()
    try:
        specs = parse(content, "chained", deep=lanebridge)
        workflow = new_workflow(specs, lanebridge)
        run_engine(workflow, lanebridge)
    except Exception as exc:  # noqa: BLE001 - the figure is what went wrong
        cause = exc.__context__ or exc
        return time.perf_counter() - started, 0, f"fails: {type(cause).__name__}"
    return time.perf_counter() - started, len(spiff.dump_workflow(workflow)), outcome(workflow, "last")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10_000, help="rounds of the script loop and tasks of the chain")
    parser.add_argument("--user-rounds", type=int, default=1_000, help="completions of the user-task loop")
    args = parser.parse_args()
    setup()

    print(f"script loop, {args.rounds} rounds")
    for label, lanebridge in (("before (raw SpiffWorkflow)", False), ("after (Lanebridge, pruned)", True)):
        seconds, size, result = script_loop(args.rounds, lanebridge)
        print(f"  {label:28} {seconds:7.2f} s  state {size / 1024:8.1f} KiB  {result}")
    print("script loop, 300 rounds (where raw SpiffWorkflow still runs correctly: about 1000 tasks deep)")
    for label, lanebridge in (("before (raw SpiffWorkflow)", False), ("after (Lanebridge, pruned)", True)):
        seconds, size, result = script_loop(300, lanebridge)
        print(f"  {label:28} {seconds:7.2f} s  state {size / 1024:8.1f} KiB  {result}")
    print(f"user-task loop, {args.user_rounds} completions")
    for label, lanebridge in (("before (raw SpiffWorkflow)", False), ("after (Lanebridge, pruned)", True)):
        seconds, tail_ms, size, result = user_task_loop(args.user_rounds, lanebridge)
        print(f"  {label:28} {seconds:7.2f} s  last tenth {tail_ms:6.2f} ms/completion  "
              f"state {size / 1024:8.1f} KiB  {result}")
    print(f"chain of {args.rounds} script tasks (parse, start, run)")
    for label, lanebridge in (("before (raw SpiffWorkflow)", False), ("after (Lanebridge, pruned)", True)):
        seconds, size, result = chain(args.rounds, lanebridge)
        print(f"  {label:28} {seconds:7.2f} s  state {size / 1024:8.1f} KiB  {result}")


if __name__ == "__main__":
    main()
