"""Compensation: undoing activities that completed, by the handlers drawn for them, in reverse order.

SpiffWorkflow 3.2 refuses a compensation boundary event (a boundary without an
event it knows) and parses a compensation throw as a plain event that does nothing.

Here, while a process level is parsed (`prepare`):

* each compensation boundary event on an activity is taken out of the flow, and the
  handler its association points at (``isForCompensation``) is wrapped in a small
  sub-process of its own (start → handler → end), which SpiffWorkflow runs like any
  other; the activity's spec names that sub-process (`HANDLER`), or for a loop or
  multi-instance activity the spec of its runs, so each completed run is undone on its own;
* a compensation throw (intermediate or end event) becomes a `CompensationThrow`;
* a sub-process's compensation event sub-process is its handler (it replaces undoing what
  completed inside the sub-process; its own throws compensate the sub-process's activities);
* the process's own compensation event sub-process undoes the process as a whole: the first
  throw at process level that names no activity runs it, with the process's variables, instead
  of the handlers of the process's activities (which its own throws compensate); so does a
  throw of a caller compensating a completed call activity of that process.

When a throw is reached it compensates, in the reverse order of their completion, the
activities of its process level that completed and have a handler (only the one its
``activityRef`` names, if it names one; a completed sub-process is compensated by
compensating what completed inside it), each once. It runs their handlers one after
another, each seeing the variables as they are, and goes on when the last has ended
(BPMN's ``waitForCompletion``); the handler of a multi-instance run also sees that run's
item and output, which are not kept after it. A throw in an event sub-process compensates the level
the event sub-process belongs to. An activity that did not complete is not compensated.
"""

from __future__ import annotations

from copy import deepcopy
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.spiff.parser.event_parsers import SpiffEndEventParser, SpiffIntermediateThrowEventParser
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.util.task import TaskState

from engine.event_subprocess import EventSubprocessStart

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# Key in an activity spec's extensions: the id of the sub-process wrapping its compensation handler.
HANDLER = "lanebridge:compensationHandler"
WRAPPER_SUFFIX = "__compensation"
# Key in the extensions of a compensation event sub-process's spec: it compensates its whole level.
WHOLE_LEVEL_HANDLER = "lanebridge:compensatesLevel"
# What a compensation event sub-process of the process compensates (in a throw's internal data).
WHOLE_PROCESS = "process"


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _compensates(node) -> bool:
    return node.find(_bpmn("compensateEventDefinition")) is not None


class CompensationThrow(SpiffBpmnTask):
    """A compensation throw event: runs the handlers of the completed activities it compensates, then goes on."""

    def __init__(self, wf_spec, bpmn_id, activity_ref=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.activity_ref = activity_ref

    def _update_hook(self, my_task):
        if my_task._get_internal_data("compensate") is None:
            if not super()._update_hook(my_task):
                return False
            my_task._set_internal_data(compensate=_to_compensate(my_task))
            return True
        running = my_task.workflow.top_workflow.subprocesses.get(my_task.id)
        return running is None or running.completed

    def _run_hook(self, my_task):
        top = my_task.workflow.top_workflow
        running = top.subprocesses.get(my_task.id)
        if running is not None:
            # The handler's variables are the process's from now on, but for those of the run it undid.
            data = deepcopy(running.last_task.data)
            for name in my_task._get_internal_data("run_data") or ():
                if name in my_task.data:
                    data[name] = my_task.data[name]
                else:
                    data.pop(name, None)
            my_task.data = data
            top.delete_subprocess(my_task)
        queue = my_task._get_internal_data("compensate")
        if not queue:
            return super()._run_hook(my_task)
        (wrapper, compensated_task), queue = queue[0], queue[1:]
        run_data = _run_data(top, compensated_task)
        my_task._set_internal_data(compensate=queue, compensating=compensated_task, run_data=sorted(run_data))
        handler_run = top.create_subprocess(my_task, wrapper)
        handler_run.completed_event.connect(self._on_subworkflow_completed, my_task)
        start = handler_run.get_next_task(spec_name="Start")
        start.set_data(**deepcopy({**my_task.data, **run_data}))
        start.run()
        return None  # STARTED until the handler ends

    def _on_subworkflow_completed(self, handler_run, my_task):
        # Ready again: running it takes the handler's variables and starts the next handler.
        my_task._set_state(TaskState.READY)

    def _on_cancel(self, my_task):
        running = my_task.workflow.top_workflow.get_subprocess(my_task)
        if running is not None:
            running.cancel()


class CompensationEnd(CompensationThrow):
    """A compensation end event: compensates, then ends its path."""


class CompensationThrowConverter(BpmnTaskSpecConverter):
    """Stores a compensation throw's spec with the activity it names."""

    def to_dict(self, spec):
        dct = super().to_dict(spec)
        dct["activity_ref"] = spec.activity_ref
        dct["prescript"] = spec.prescript
        dct["postscript"] = spec.postscript
        return dct


CONVERTERS = {CompensationThrow: CompensationThrowConverter, CompensationEnd: CompensationThrowConverter}


def _handler(task_spec) -> str | None:
    return (getattr(task_spec, "extensions", None) or {}).get(HANDLER)


def _scope(workflow):
    """The process level a throw in `workflow` compensates: an event sub-process's own level is its parent's."""
    top = workflow.top_workflow
    while workflow.parent_task_id is not None:
        task = top.get_task_from_id(workflow.parent_task_id)
        if isinstance(task.task_spec, CompensationThrow):
            # A compensation event sub-process compensates the completed sub-process it was drawn in,
            # or the process it was drawn in.
            compensating = task._get_internal_data("compensating")
            if compensating == WHOLE_PROCESS:
                return _scope(task.workflow)
            return top.subprocesses.get(UUID(compensating), workflow) if compensating else workflow
        if task.parent is None or not isinstance(task.parent.task_spec, EventSubprocessStart):
            break
        workflow = task.workflow
    return workflow


def _to_compensate(my_task) -> list[list[str]]:
    """[handler, what it compensates] for what the throw compensates, latest completed first; marked as done.

    The process compensated as a whole, the first time, by its compensation event sub-process if it has one
    (whose own throws then compensate the process's activities); else each completed, not yet compensated
    activity with a handler.
    """
    scope = _scope(my_task.workflow)
    whole = _process_handler(scope.spec) if scope is scope.top_workflow else None
    if whole and my_task.task_spec.activity_ref is None and not scope.task_tree._get_internal_data("compensated"):
        scope.task_tree._set_internal_data(compensated=True)
        return [[whole, WHOLE_PROCESS]]
    found = list(_completed_with_handler(scope, my_task.task_spec.activity_ref, False))
    found.sort(key=lambda t: t.last_state_change, reverse=True)
    for task in found:
        task._set_internal_data(compensated=True)
    return [[_handler_of(t), str(t.id)] for t in found]


def _run_data(top, task_id: str) -> dict:
    """The variables of one instance of a multi-instance activity that only it had: its item and its output."""
    try:
        task_id = UUID(task_id)
    except ValueError:  # the whole process
        return {}
    task = next((w.tasks[task_id] for w in (top, *top.subprocesses.values()) if task_id in w.tasks), None)
    loop = task.parent.task_spec if task is not None and task.parent is not None else None
    if not isinstance(loop, MultiInstanceTask):
        return {}
    names = [ref.bpmn_id for ref in (loop.input_item, loop.output_item) if ref is not None]
    return {name: task.data[name] for name in names if name in task.data}


def _handler_of(task) -> str | None:
    """What undoes a completed task: its handler, or for a call activity its process's compensation event
    sub-process (the called process compensated as a whole)."""
    handler = _handler(task.task_spec)
    if handler is None and isinstance(task.task_spec, CallActivity):
        called = task.workflow.top_workflow.subprocesses.get(task.id)
        handler = _process_handler(called.spec) if called is not None else None
    return handler


def _process_handler(spec) -> str | None:
    """The compensation event sub-process drawn at the level of process `spec`, if any (its spec's name)."""
    return next((task_spec.spec for task_spec in spec.task_specs.values()
                 if (getattr(task_spec, "extensions", None) or {}).get(WHOLE_LEVEL_HANDLER)), None)


def _completed_with_handler(workflow, ref: str | None, inside: bool):
    top = workflow.top_workflow
    for task in workflow.get_tasks(state=TaskState.COMPLETED, skip_subprocesses=True):
        hit = inside or ref is None or task.task_spec.bpmn_id == ref
        if not hit:
            continue
        if _handler_of(task):
            if not task._get_internal_data("compensated"):
                yield task
        elif task.id in top.subprocesses:
            # A completed sub-process is compensated by compensating what completed in it.
            yield from _completed_with_handler(top.subprocesses[task.id], None, True)


def can_still_compensate(task) -> bool:
    """Whether a throw could still undo something that completed in `task` (a finished sub-process or run)."""
    top = task.workflow.top_workflow
    return task.id in top.subprocesses and next(_completed_with_handler(top.subprocesses[task.id], None, True),
                                                None) is not None


# Parsing.

def _throw_task(parser, end: bool):
    definition = parser.node.find(_bpmn("compensateEventDefinition"))
    spec_class = CompensationEnd if end else CompensationThrow
    task = spec_class(parser.spec, parser.bpmn_id, activity_ref=definition.get("activityRef"),
                      **parser.bpmn_attributes)
    if end:
        task.connect(parser.spec.end)
    return task


class ThrowEventParser(SpiffIntermediateThrowEventParser):
    """An intermediate throw event; a compensation one becomes a CompensationThrow."""

    def create_task(self):
        return _throw_task(self, end=False) if _compensates(self.node) else super().create_task()


class EndEventParser(SpiffEndEventParser):
    """An end event; a compensation one becomes a CompensationEnd."""

    def create_task(self):
        return _throw_task(self, end=True) if _compensates(self.node) else super().create_task()


def problems(processes: list[etree._Element]):
    """(message, element) for every compensation element Lanebridge could not run as drawn."""
    for process in processes:
        for scope in [process, *process.iter(_bpmn("subProcess"), _bpmn("transaction"))]:
            if scope is not process and scope.get("id", "").endswith(WRAPPER_SUFFIX):
                continue
            found = handlers(scope)
            children = [e for e in scope if isinstance(e.tag, str)]
            for boundary in scope.findall(_bpmn("boundaryEvent")):
                if _compensates(boundary) and boundary.get("attachedToRef") not in found:
                    yield ("is a compensation boundary event without a handler: connect it by an association to "
                           "the task that undoes the activity, marked \"for compensation\""), boundary
            used = {id(h) for h in found.values()}
            for element in children:
                if element.get("isForCompensation") == "true" and id(element) not in used:
                    yield ("is marked for compensation, but no compensation boundary event is connected to it by "
                           "an association, so nothing could ever run it"), element
            level = _throw_level(scope)
            activities = {e.get("id") for e in level if isinstance(e.tag, str)}
            for event in children:
                definition = event.find(_bpmn("compensateEventDefinition"))
                ref = definition.get("activityRef") if definition is not None else None
                if ref and ref not in activities:
                    yield (f"compensates activity {ref!r}, which is not drawn in the process level this event "
                           "compensates: name an activity of that level, or none to compensate them all"), event


def _throw_level(scope: etree._Element) -> etree._Element:
    """The level a throw drawn in `scope` compensates: an event sub-process's parent level."""
    while scope.get("triggeredByEvent") == "true" and scope.getparent() is not None:
        scope = scope.getparent()
    return scope


PARSER_CLASSES = {
    full_tag(tag): (parser, SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)][1])
    for tag, parser in (("intermediateThrowEvent", ThrowEventParser), ("endEvent", EndEventParser))
}


def handlers(scope: etree._Element) -> dict[str, etree._Element]:
    """{activity id: its compensation handler} for the compensation boundary events drawn in `scope`."""
    root = scope.getroottree().getroot()
    by_id = {e.get("id"): e for e in scope if isinstance(e.tag, str) and e.get("id")}
    found = {}
    for boundary in scope.findall(_bpmn("boundaryEvent")):
        if not _compensates(boundary):
            continue
        for association in root.iter(_bpmn("association")):
            ends = {association.get("sourceRef"), association.get("targetRef")}
            if boundary.get("id") in ends:
                ends.discard(boundary.get("id"))
                handler = by_id.get(ends.pop()) if ends else None
                if handler is not None and handler.get("isForCompensation") == "true":
                    found[boundary.get("attachedToRef")] = handler
    return found


def prepare(process_parser) -> dict[str, str]:
    """Take a level's compensation boundaries out of its flow and wrap its handlers; {activity id: wrapper id}."""
    scope = process_parser.node
    wrapped = {}
    for activity_id, handler in handlers(scope).items():
        wrapper_id = handler.get("id") + WRAPPER_SUFFIX
        wrapper = scope.find(f"{_bpmn('subProcess')}[@id='{wrapper_id}']")
        if wrapper is None:
            # The handler itself stays where it was drawn, unconnected, so SpiffWorkflow never reaches it
            # there; its copy in the wrapper (same id, so history and tasks name it) is what runs.
            wrapper = etree.SubElement(scope, _bpmn("subProcess"), id=wrapper_id, name=handler.get("name") or "")
            etree.SubElement(wrapper, _bpmn("startEvent"), id=f"{wrapper_id}_start")
            wrapper.append(deepcopy(handler))
            etree.SubElement(wrapper, _bpmn("endEvent"), id=f"{wrapper_id}_end")
            etree.SubElement(wrapper, _bpmn("sequenceFlow"), id=f"{wrapper_id}_in", sourceRef=f"{wrapper_id}_start",
                             targetRef=handler.get("id"))
            etree.SubElement(wrapper, _bpmn("sequenceFlow"), id=f"{wrapper_id}_out", sourceRef=handler.get("id"),
                             targetRef=f"{wrapper_id}_end")
        process_parser.nodes_by_id[wrapper_id] = wrapper
        wrapped[activity_id] = wrapper_id
    for attached, boundaries in list(process_parser.boundary_events_by_attached.items()):
        process_parser.boundary_events_by_attached[attached] = [b for b in boundaries if not _compensates(b)]
    # A sub-process drawn with a compensation event sub-process is compensated by running it
    # (parsed with the sub-process's own level, see `add_event_subprocess`).
    for sub in scope.findall(_bpmn("subProcess")):
        esp = compensation_event_subprocess(sub)
        if esp is not None:
            wrapped[sub.get("id")] = esp.get("id")
    return wrapped


def compensation_event_subprocess(sub: etree._Element) -> etree._Element | None:
    """The compensation event sub-process drawn directly in sub-process `sub`, if any."""
    for esp in sub.findall(_bpmn("subProcess")):
        start = esp.find(_bpmn("startEvent"))
        if esp.get("triggeredByEvent") == "true" and start is not None and _compensates(start):
            return esp
    return None


def is_compensation_event_subprocess(node: etree._Element) -> bool:
    """An event sub-process started by compensation: it waits for nothing, it is run by compensating its level."""
    start = node.find(_bpmn("startEvent"))
    return start is not None and _compensates(start)


def add_event_subprocess(process_parser, node: etree._Element) -> None:
    """Parse a compensation event sub-process of a level, unconnected: a compensation throw runs it."""
    task_spec = process_parser.parse_node(node)
    task_spec.extensions = {**(getattr(task_spec, "extensions", None) or {}), WHOLE_LEVEL_HANDLER: True}


def attach(process_parser, wrapped: dict[str, str]) -> None:
    """Parse the handler wrappers of a level and name each on the spec of the activity it compensates."""
    for activity_id, wrapper_id in wrapped.items():
        if wrapper_id.endswith(WRAPPER_SUFFIX) and wrapper_id not in process_parser.spec.task_specs:
            process_parser.parse_node(process_parser.nodes_by_id[wrapper_id])
        activity = process_parser.spec.task_specs.get(activity_id)
        if isinstance(activity, LoopTask):
            # Each run of a loop or multi-instance activity is undone on its own, not the activity once.
            activity = process_parser.spec.task_specs[activity.task_spec]
        if activity is not None:
            activity.extensions = {**(getattr(activity, "extensions", None) or {}), HANDLER: wrapper_id}
