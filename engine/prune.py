"""Long-running instances: what has finished is cut from SpiffWorkflow's task tree as the instance runs.

SpiffWorkflow adds each run of a task as a child of the task before it, so a
loop of three tasks that goes round 333 times makes a tree 1000 levels deep. Its task
iterator stops looking 1000 levels down: past that the next task is invisible,
nothing runs, and the workflow calls itself completed. The finished tasks
above the point where every unfinished path begins are history (which
Lanebridge keeps in its own tables), so they are cut out and that point is
hung under the root again. SpiffWorkflow keeps each task's data on the task,
so nothing the process still needs goes with them.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import compensation, event_subprocess

T = TypeVar("T")

# A task completing deeper than this in its tree makes the tree be pruned; well
# below the 1000 levels SpiffWorkflow looks at, and rare enough to cost little.
MAX_DEPTH = 20


def run_engine(workflow) -> None:
    """Run the engine until every path waits, keeping the task trees shallow; raise rather than end early."""
    running: list = [None]

    def before_task(task):
        running[0] = task

    setting_up(lambda: workflow.do_engine_steps(will_complete_task=before_task, did_complete_task=_after_task),
               running)
    for each in _workflows(workflow):
        if each.last_task is not None and _depth(each.last_task) > MAX_DEPTH:
            prune(each)
    # Ended runs of non-interrupting event sub-processes go too (each message would otherwise add a run).
    top = workflow.top_workflow
    for each in _workflows(workflow):
        if each is top or each.parent_task_id in top.subprocesses:  # not dropped with an ended run meanwhile
            event_subprocess.drop_finished_runs(each, keep=compensation.can_still_compensate)
    if workflow.is_completed():
        _check_really_completed(workflow)


class TooDeep(WorkflowException):
    """What follows a task is more than SpiffWorkflow can set up within Python's recursion limit."""


def setting_up(run: Callable[[], T], running: list | None = None) -> T:
    """`run()`, with SpiffWorkflow running out of recursion turned into TooDeep naming the element it was setting up.

    E.g. a call activity whose process is a chain of thousands of tasks: SpiffWorkflow predicts a
    sub-process's whole future recursively when it starts, whether the engine runs on to it or a
    completed task leads straight into it. `running`: a one-item list holding the task being
    completed, named if no other task was being set up.
    """
    try:
        return run()
    except RecursionError as exc:
        current = running[0] if running else None
        task = _first_task_set_up(exc, besides=current) or current
        raise TooDeep("This element leads into more steps than the engine can set up at once "
                      "(Python's recursion limit)", task_spec=task.task_spec if task else None) from None


def _first_task_set_up(exc: BaseException, besides) -> Task | None:
    """The outermost task SpiffWorkflow was setting up when `exc` was raised, other than `besides`."""
    frame = exc.__traceback__
    while frame is not None:
        task = frame.tb_frame.f_locals.get("my_task")
        if isinstance(task, Task) and task is not besides:
            return task
        frame = frame.tb_next
    return None


def _after_task(task) -> None:
    if _depth(task) > MAX_DEPTH:
        prune(task.workflow)


def _workflows(workflow) -> list:
    return [workflow, *getattr(workflow, "subprocesses", {}).values()]


def _depth(task, limit: int | None = None) -> int:
    limit = MAX_DEPTH + 1 if limit is None else limit
    depth = 0
    while task._parent is not None and depth < limit:
        task = task.workflow.tasks.get(task._parent)
        if task is None:
            break
        depth += 1
    return depth


def prune(workflow) -> int:
    """Cut the finished tasks above the point where every unfinished path begins; returns how many went."""
    tasks = workflow.tasks
    root = workflow.task_tree
    unfinished = [t for t in tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not unfinished:
        return 0
    # Mark every task on a path from the root to an unfinished task.
    on_path = set()
    for task in unfinished:
        while task is not None and task.id not in on_path:
            on_path.add(task.id)
            task = tasks.get(task._parent)
    # The waits of the level's event sub-processes (and their runs) hang beside the flow under the
    # root, where they stay: the way on is the flow's.
    beside = [child for child in root._children if event_subprocess.waits_beside(tasks.get(child))]
    # Walk down from the root while the way on is one finished task.
    keep = root
    while keep.has_state(TaskState.FINISHED_MASK):
        ways = [child for child in keep._children if child in on_path and child not in beside]
        if len(ways) != 1:
            break
        keep = tasks[ways[0]]
    # Finished tasks above `keep` that gateways still look for among a task's ancestors stay, one
    # (the latest) per element and in their order: a parallel gateway in a loop, for one, looks up
    # the flow that first led into the loop.
    path = []
    task = tasks.get(keep._parent)
    while task is not None and task is not root:
        path.append(task)
        task = tasks.get(task._parent)
    wanted = _looked_up(workflow.spec)
    ancestry, seen = [], set()
    for task in path:  # nearest first
        if task.task_spec.name in wanted and task.task_spec.name not in seen:
            seen.add(task.task_spec.name)
            ancestry.append(task)
    if len(ancestry) == len(path):
        return 0
    chain = [root, *reversed(ancestry), keep]
    kept = {t.id for t in chain}
    removed = [t for t in _descendants(root, stop={keep.id, *beside}) if t.id not in kept]
    top = workflow.top_workflow
    for task in removed:
        if task.id in top.subprocesses:
            # A finished call activity or sub-process goes with its task.
            top.delete_subprocess(task)
    for task in removed:
        del tasks[task.id]
    for parent, child in zip(chain, chain[1:], strict=False):
        parent._children = [child.id]
        child._parent = parent.id
    root._children += beside
    if workflow.last_task is not None and workflow.last_task.id not in tasks:
        workflow.last_task = keep
    return len(removed)


# Per process spec object (specs are cached and shared); weak, so a dropped spec takes its entry along.
_looked_up_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _looked_up(spec) -> frozenset:
    """Names of the elements some gateway, join or compensation throw looks for among a task's ancestors."""
    names = _looked_up_cache.get(spec)
    if names is None:
        found = set()
        for task_spec in spec.task_specs.values():
            if len(task_spec.inputs) > 1:
                found.update(i.name for i in task_spec.inputs)
            if getattr(task_spec, "split_task", None):
                found.add(task_spec.split_task)
            if compensation.HANDLER in (getattr(task_spec, "extensions", None) or {}):
                # A compensation throw looks for the activities that completed, to undo them.
                found.add(task_spec.name)
        names = _looked_up_cache[spec] = frozenset(found)
    return names


def _descendants(root, stop: set) -> list:
    """Every task below `root`, except those in `stop` and the tasks below them."""
    found, pending = [], list(root.children)
    while pending:
        task = pending.pop()
        if task.id in stop:
            continue
        found.append(task)
        pending.extend(task.children)
    return found


def _check_really_completed(workflow) -> None:
    """SpiffWorkflow calls a workflow completed when it sees no unfinished task; make sure there is none."""
    for each in _workflows(workflow):
        for task in each.tasks.values():
            if not task.has_state(TaskState.FINISHED_MASK):
                raise WorkflowException(
                    "The instance would end while this element still has to run: its task tree is too deep "
                    f"({_depth(task, limit=10**9)} levels)", task_spec=task.task_spec)


# Processes with more elements than this are predicted a few steps ahead instead of to their end.
PREDICT_ALL_UP_TO = 200


def new_workflow(spec, subprocess_specs: dict, script_engine) -> BpmnWorkflow:
    """A fresh workflow; a large process's future is predicted a few steps ahead, not to its end.

    SpiffWorkflow predicts every task that will surely run, recursively, when a
    workflow is created: a chain of 10 000 tasks overflows Python's stack and
    makes a tree ten times deeper than it can see. Starting the root as a likely
    (not a sure) task makes it predict two steps ahead, and each task predicts
    the next two as it is reached.
    """
    if len(spec.task_specs) <= PREDICT_ALL_UP_TO:
        return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
    workflow.task_tree = Task(workflow, spec.start, state=TaskState.LIKELY)
    workflow.task_tree.task_spec._predict(workflow.task_tree, mask=TaskState.NOT_FINISHED_MASK)
    workflow.task_tree._ready()
    return workflow


# SpiffWorkflow's parser recurses along the flow, about three frames per element.
_FRAMES_PER_ELEMENT = 4
_deep_lock = threading.Lock()


def with_deep_stack(func: Callable[[], T], elements: int) -> T:
    """Call `func` where SpiffWorkflow may recurse once per element of a file of `elements` elements.

    Small files run as they are. Larger ones run in a thread with a large stack
    and, meanwhile, a recursion limit raised to fit: the limit is global, so
    such calls take turns and the old limit comes back after each.
    """
    if _FRAMES_PER_ELEMENT * elements + 200 <= sys.getrecursionlimit():
        return func()
    frames = _FRAMES_PER_ELEMENT * elements + 2000
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
            outcome["error"] = exc

    with _deep_lock:
        old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
        sys.setrecursionlimit(frames)
        try:
            threading.stack_size(min(1024, 64 + frames // 100) * 1024 * 1024)
            thread = threading.Thread(target=run, name="lanebridge-deep-parse")
            thread.start()
        finally:
            threading.stack_size(old_stack)
        thread.join()
        sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
