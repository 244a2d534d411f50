"""Event sub-processes: started by a message, timer, signal or error while their process level runs.

SpiffWorkflow 3.2 gets them wrong in three ways: it never reads ``isInterrupting``
(an interrupting one runs beside the process instead of cancelling it); one started
by a message or signal is not waiting on anything the outside can see (no
``waiting_events()``, so nothing could subscribe for it), and only at the top level;
one started by a timer keeps the process from ever completing.

Here each event sub-process of a process level (the process, or a sub-process in
it) gets a waiting task, `EventSubprocessStart`, beside the level's first step.
It waits like a boundary event (so its message subscription, signal subscription
or timer job is written and closed like theirs) from the moment the level starts
until it ends; when its event comes it

* interrupting: cancels everything else of the level (open tasks, calls, timers,
  the other event sub-processes' waits), then runs the event sub-process, whose
  end ends the level;
* non-interrupting: runs the event sub-process beside the level and, for a message
  or signal, waits again for the next one (a timer cycle: for its next round).

The level ends when nothing but these waits is left (`ScopeEndJoin`). The event
sub-process sees the level's variables as they are when the event arrives, plus
what the event carries.

A non-interrupting run that has ended hands what it changed in the variables (and
what its event carried) to the level and is cut out of the task tree
(`drop_finished_runs`): SpiffWorkflow would keep every run's tasks, so an instance
receiving a message a day would grow for ever. Its history rows stay.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy

from SpiffWorkflow.bpmn.parser.event_parsers import (
    ERROR_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TIMER_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition, SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskState

# The tasks of a level whose data is its variables now: those where a path waits or works.
ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR
_MISSING = object()


class EventSubprocessStart(BoundaryEvent):
    """Waits, while its process level runs, for the event that starts an event sub-process."""

    def _update_hook(self, my_task):
        if not isinstance(self.event_definition, CycleTimerEventDefinition) or my_task._get_internal_data("round"):
            return super()._update_hook(my_task)
        # A cycle: SpiffWorkflow would add the event sub-process under this task each round, without
        # interrupting; here each round fires a task of its own, and this one waits for the next.
        if my_task.state != TaskState.WAITING:
            my_task._set_state(TaskState.WAITING)
        my_task.workflow.top_workflow.event_manager.add_task(my_task)
        if self.event_definition.cycle_complete(my_task):
            if self.cancel_activity:
                # It interrupts once: no round is left for the timer job to wait for.
                my_task._set_internal_data(round=True, event_fired=True,
                                           event_value={**my_task._get_internal_data("event_value"), "cycles": 0})
                my_task._sync_children(self.outputs, TaskState.FUTURE)  # not predicted for a cycle
                return True
            _again(my_task, fired=True)
        return None

    def _run_hook(self, my_task):
        # What the event brought is what differs from the data this task started waiting with.
        arrived = {k: v for k, v in my_task.data.items()
                   if my_task.parent is None or my_task.parent.data.get(k, _MISSING) != v}
        my_task.data = {**my_task.data, **_level_data(my_task), **arrived}
        # Kept to tell, once the run has ended, what it changed from what the event brought.
        my_task._set_internal_data(arrived=sorted(arrived))
        if self.cancel_activity:
            _cancel_all_but(my_task.workflow.task_tree, my_task)
        elif isinstance(self.event_definition, (MessageEventDefinition, SignalEventDefinition)):
            # Each further message or signal starts the event sub-process again.
            _again(my_task, fired=False)
        return super()._run_hook(my_task)


def _again(my_task, fired: bool):
    """Another wait beside `my_task` for the same event (fired: one round of a cycle, to run now)."""
    again = my_task.parent._add_child(my_task.task_spec, TaskState.FUTURE)
    again.triggered = True  # a child its parent's spec does not predict, so keep it
    again.data = dict(my_task.parent.data)
    if fired:
        again._set_internal_data(round=True, event_fired=True)
    again._sync_children(my_task.task_spec.outputs, TaskState.FUTURE)
    again.task_spec._update(again)


class ScopeEndJoin(_EndJoin):
    """A process level's end: reached when nothing but event sub-process waits is left, which it then cancels."""

    def _check_threshold_unstructured(self, my_task):
        for task in BpmnTaskIterator(my_task.workflow.task_tree, state=TaskState.NOT_FINISHED_MASK,
                                     end_at_spec=self.name, skip_subprocesses=True):
            if task is my_task or _waits_to_start(task) or _under_wait(task):
                continue
            return False
        return True

    def _run_hook(self, my_task):
        for task in my_task.workflow.get_tasks(state=TaskState.WAITING, skip_subprocesses=True):
            if _waits_to_start(task):
                task.cancel()
        return super()._run_hook(my_task)


def waits_beside(task) -> bool:
    """The task waits (or waited) beside its process level's flow for an event sub-process's event."""
    return task is not None and isinstance(task.task_spec, EventSubprocessStart)


def _waits_to_start(task) -> bool:
    return isinstance(task.task_spec, EventSubprocessStart) and task.state == TaskState.WAITING


def _under_wait(task) -> bool:
    """The task is the not yet started event sub-process behind a wait (or what follows it)."""
    parent = task.parent
    while parent is not None:
        if _waits_to_start(parent):
            return True
        parent = parent.parent
    return False


def _level_data(my_task) -> dict:
    """The variables of the task's process level now: the data of every path that waits or works there."""
    # The step that finished last (an error end event has just thrown), then every open path.
    last = my_task.workflow.last_task
    data: dict = dict(last.data) if last is not None and last is not my_task else {}
    for task in my_task.workflow.get_tasks(state=ACTIVE, skip_subprocesses=True):
        if not isinstance(task.task_spec, EventSubprocessStart):
            data.update(task.data)
    return data


def _cancel_all_but(task, keep) -> None:
    """Cancel every unfinished task under `task` except `keep` and what leads to it."""
    line = set()
    each = keep
    while each is not None:
        line.add(each.id)
        each = each.parent
    for child in list(task.children):
        if child is keep:
            continue
        if child.id in line:
            _cancel_all_but(child, keep)
        else:
            child.cancel()


def drop_finished_runs(workflow, keep: Callable = lambda run: False) -> int:
    """Cut the ended runs of `workflow`'s non-interrupting event sub-processes out of its task tree, after handing
    their changes to the variables to the level; returns how many went.

    `keep(handler_task)`: a run to leave in the tree (one whose activities may still be compensated).
    """
    top = workflow.top_workflow
    dropped = 0
    for wait in [t for t in workflow.tasks.values() if _ended_run(t)]:
        [handler] = wait.children
        if not wait._get_internal_data("handed_over"):
            live = _live_tasks(workflow)
            if not live:
                # Nothing of the level goes on to take its changes: the level's end merges them from the run.
                continue
            arrived = set(wait._get_internal_data("arrived") or ())
            before = {k: v for k, v in wait.data.items() if k not in arrived}
            changed = {k: v for k, v in handler.data.items() if k in arrived or before.get(k, _MISSING) != v}
            for task in live:
                task.data.update(deepcopy(changed))  # a copy per path: paths must not share one mutable value
            wait._set_internal_data(handed_over=True)
        if keep(handler):
            continue
        if handler.id in top.subprocesses:
            top.delete_subprocess(handler)
        subtree = _subtree(wait)
        wait.parent._children.remove(wait.id)
        for task in subtree:
            top.event_manager.remove_task(task)
            del workflow.tasks[task.id]
        if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
            workflow.last_task = None
        dropped += 1
    return dropped


def _ended_run(wait) -> bool:
    """`wait` started a run of a non-interrupting event sub-process that has ended, and nothing below it goes on."""
    if (not isinstance(wait.task_spec, EventSubprocessStart) or wait.task_spec.cancel_activity
            or wait.state != TaskState.COMPLETED or len(wait.children) != 1
            or wait.children[0].state != TaskState.COMPLETED):
        return False
    pending = list(wait.children)
    while pending:
        task = pending.pop()
        if isinstance(task.task_spec, _EndJoin) and task.state != TaskState.READY:
            # The level's end waiting for the other paths (or predicted): any path's arrival makes another.
            continue
        if not task.has_state(TaskState.FINISHED_MASK):
            return False
        pending.extend(task.children)
    return True


def _live_tasks(workflow) -> list:
    """The tasks of a level (and of the sub-processes under way in it) whose data becomes the level's variables."""
    top = workflow.top_workflow
    found = []
    for task in workflow.get_tasks(state=ACTIVE, skip_subprocesses=True):
        if isinstance(task.task_spec, (EventSubprocessStart, UnstructuredJoin)):
            # A wait takes the level's variables when its event comes; a join those of the paths it joins.
            continue
        found.append(task)
        sub = top.subprocesses.get(task.id)
        if sub is not None and not isinstance(task.task_spec, CallActivity):
            # An embedded sub-process (or an event sub-process, or a compensation handler) shares the variables.
            found += _live_tasks(sub)
    return found


def _subtree(task) -> list:
    found, pending = [], [task]
    while pending:
        each = pending.pop()
        found.append(each)
        pending.extend(each.children)
    return found


def catch_error(task, code: str, payload: dict):
    """Start the error event sub-process of `task`'s process level, or of the nearest one around it, that catches
    `code`; the waiting task that caught it, or None."""
    workflow = task.workflow
    while workflow is not None:
        for wait in workflow.get_tasks(state=TaskState.WAITING, skip_subprocesses=True):
            definition = wait.task_spec.event_definition
            if not _waits_to_start(wait) or not isinstance(definition, ErrorEventDefinition):
                continue
            if definition.code not in (None, "", code):
                continue
            wait.task_spec.catch(wait, BpmnEvent(type(definition)(definition.name, code=code), payload))
            wait.task_spec._update(wait)
            return wait
        workflow = workflow.parent_workflow
    return None


def interrupting_ends(workflow) -> list:
    """The completed end events of the event sub-processes that interrupted the top process level."""
    ended = []
    for task in workflow.tasks.values():
        wait = task.parent
        if wait is None or not isinstance(wait.task_spec, EventSubprocessStart) or not wait.task_spec.cancel_activity:
            continue
        sub = workflow.subprocesses.get(task.id)
        if sub is not None and wait.state == TaskState.COMPLETED:
            ended += [t for t in sub.tasks.values()
                      if isinstance(t.task_spec, EndEvent) and t.state == TaskState.COMPLETED]
    return ended


def use_scope_end(spec) -> None:
    """Give a process level's spec the end that lets event sub-process waits stay open until it ends."""
    old = spec.end
    del spec.task_specs[old.name]
    end = ScopeEndJoin(spec, old.name)
    for output in old.outputs:
        output.inputs = [end if each is old else each for each in output.inputs]
    end.outputs = old.outputs
    spec.end = end


def add(process_parser, node) -> None:
    """Parse the event sub-process `node` of a process level and wire its wait beside the level's first step."""
    task_spec = process_parser.parse_node(node)
    sub_spec = process_parser.parser.process_parsers[task_spec.spec].get_spec()
    [start] = sub_spec.bpmn_start_events  # engine.modeler refuses any other number
    start_node = process_parser.get_node_by_id(start.bpmn_id)
    # SpiffWorkflow's start event parser reads no error: read the definition as a boundary event's.
    boundary_parser, boundary_class = process_parser.parser._get_parser_class(full_tag("boundaryEvent"))
    reader = boundary_parser(process_parser, boundary_class, start_node, process_parser.nsmap)
    wait = EventSubprocessStart(
        process_parser.spec, start.bpmn_id,
        event_definition=reader.get_event_definition([ERROR_EVENT_XPATH, MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH,
                                                      TIMER_EVENT_XPATH]),
        cancel_activity=start_node.get("isInterrupting", "true") == "true",
        bpmn_name=start.bpmn_name, lane=task_spec.lane,
        description=start.description,
    )
    # The wait has caught the event: inside, the sub-process just starts.
    start.event_definition = NoneEventDefinition()
    process_parser.spec.start.connect(wait)
    wait.connect(task_spec)
    task_spec.connect(process_parser.spec.end)
