"""Everything Lanebridge needs from SpiffWorkflow, wrapped in one place.

* one parser that reads both ``spiffworkflow:*`` and Camunda's user-task
  attributes (form data, assignee, candidate groups, due date, priority);
* a service task that waits for a worker instead of calling inline;
* timers written as plain ISO 8601 (see ``engine.timers``);
* link events followed to their catch (see ``engine.links``);
* event sub-processes that interrupt, and wait where the outside sees them (see ``engine.event_subprocess``);
* compensation handlers run by compensation throws (see ``engine.compensation``);
* multi-instance user tasks, Camunda's and BPMN's (see ``engine.multi_instance``);
* business rule tasks deciding deployed DMN tables (see ``engine.decisions``);
* a serializer that stores instance state without the process spec, which is
  stored once per definition version and cached per process;
* the restricted script engine (see ``engine.scripts``).
"""

from __future__ import annotations

import contextvars
import json
from copy import deepcopy
from datetime import UTC, datetime
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import DEFAULT_NSMAP, full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.task_spec import BoundaryEventConverter, BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.control import StartEventJoin, StartEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition as BpmnErrorEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    SignalEventDefinition as BpmnSignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as BpmnMessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.task_spec import UserTaskParser as CamundaUserTaskParser
from SpiffWorkflow.camunda.serializer.task_spec import UserTaskConverter as CamundaUserTaskConverter
from SpiffWorkflow.camunda.specs.user_task import UserTask as CamundaUserTask
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, SpiffProcessParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser as SpiffServiceTaskParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.spiff.specs.defaults import StandardLoopTask as SpiffStandardLoopTask
from SpiffWorkflow.util.task import TaskState

from engine import (
    compensation,
    decisions,
    event_subprocess,
    expressions,
    links,
    multi_instance,
    prune,
    spec_change,
    timers,
)
from engine.scripts import SCRIPT_ENGINE

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# How an analyst marks what an end event means, whatever its name says:
# <camunda:properties><camunda:property name="outcome" value="rejected" /></camunda:properties>.
OUTCOME_PROPERTY = "outcome"
OUTCOME_KINDS = ("rejected", "success")
# Camunda attributes on a user task that SpiffWorkflow does not read.
CAMUNDA_TASK_ATTRIBUTES = ("assignee", "candidateGroups", "candidateUsers", "dueDate", "priority", "formKey")


class WaitingServiceTask(SpiffServiceTask):
    """A service task that goes to STARTED and waits for a job to finish it."""

    def _run_hook(self, task):
        # None leaves the task STARTED: do_engine_steps() passes it by and the
        # job runner completes it later, after the connector call.
        return None


class ServiceTaskParser(SpiffServiceTaskParser):
    """Reads ``spiffworkflow:serviceTaskOperator``, or Camunda's ``camunda:topic``
    (external task) as the operation name, so files from Camunda Modeler run.

    Deploy bindings are written as ``camunda:topic`` too. Such a task's output
    lands in ``camunda:resultVariable``, else in a variable named after the task.
    """

    def create_task(self):
        topic = self.node.get(f"{{{CAMUNDA_NS}}}topic")
        if topic and self.parse_extensions().get("serviceTaskOperator") is None:
            return self.spec_class(
                self.spec,
                self.bpmn_id,
                operation_name=topic,
                operation_params={},
                result_variable=self.node.get(f"{{{CAMUNDA_NS}}}resultVariable") or self.bpmn_id,
                **self.bpmn_attributes,
            )
        if self.parse_extensions().get("serviceTaskOperator") is None:
            raise ValidationException(
                "Service task has no connector operation: add spiffworkflow:serviceTaskOperator "
                "or camunda:topic naming one",
                node=self.node,
                file_name=self.filename,
            )
        return super().create_task()


class UserTaskParser(CamundaUserTaskParser):
    """Camunda's form parser plus spiff extensions and Camunda's assignment attributes."""

    PARALLEL_MI_CLASS = multi_instance.ParallelUserTasks
    SEQUENTIAL_MI_CLASS = multi_instance.SequentialUserTasks
    # Spiff's loop class, which the serializer knows (BPMN's, that Camunda's parser names, it does not).
    STANDARD_LOOP_CLASS = SpiffStandardLoopTask

    def _add_multiinstance_task(self, loop_characteristics):
        multi_instance.add_multi_instance(self, loop_characteristics)

    def parse_extensions(self, node=None):
        node = self.node if node is None else node
        extensions = SpiffTaskParser._parse_extensions(node)
        extensions.update(super().parse_extensions(node))
        for name in CAMUNDA_TASK_ATTRIBUTES:
            value = node.get(f"{{{CAMUNDA_NS}}}{name}")
            if value:
                extensions[f"camunda:{name}"] = value
        return extensions


class EndEventParser(compensation.EndEventParser):
    """An end event, with the analyst's Camunda `outcome` property kept among its extensions."""

    def parse_extensions(self, node=None):
        node = self.node if node is None else node
        extensions = super().parse_extensions(node)
        for prop in node.xpath("./bpmn:extensionElements/camunda:properties/camunda:property",
                               namespaces={"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}):
            if prop.get("name") != OUTCOME_PROPERTY:
                continue
            value = (prop.get("value") or "").strip()
            if value not in OUTCOME_KINDS:
                # The property's own line: the end event's may be far above it.
                raise ValidationException(
                    f"The end event's property outcome is {value!r}; it must be one of {', '.join(OUTCOME_KINDS)}",
                    id=node.get("id"), line_number=prop.sourceline, file_name=self.filename)
            extensions[f"camunda:{OUTCOME_PROPERTY}"] = value
        return extensions


class ProcessParser(SpiffProcessParser):
    """Parses a process level (a process or a sub-process) with its event sub-processes (engine.event_subprocess)."""

    def create_spec(self):
        spec = super().create_spec()
        if any(not compensation.is_compensation_event_subprocess(node)
               for node in self.xpath("./bpmn:subProcess[@triggeredByEvent='true']")):
            event_subprocess.use_scope_end(spec)
        return spec

    def add_tasks(self):
        # SpiffWorkflow's own steps for the start events; event sub-processes and compensation are ours.
        compensated = compensation.prepare(self)
        starts = self.xpath("./bpmn:startEvent")
        if not starts:
            raise ValidationException("No start event found", node=self.node, file_name=self.filename)
        for node in starts:
            self.parse_node(node)
        if len(starts) > 1:
            split = StartEventSplit(self.spec, "StartEventSplit")
            join = StartEventJoin(self.spec, "StartEventJoin", split_task="StartEventSplit", threshold=1, cancel=True)
            for each in self.spec.start.outputs:
                each.inputs = [split]
                each.connect(join)
            split.outputs = self.spec.start.outputs
            self.spec.start.outputs = [split]
            split.inputs = [self.spec.start]
        for node in self.xpath("./bpmn:subProcess[@triggeredByEvent='true']"):
            if compensation.is_compensation_event_subprocess(node):
                compensation.add_event_subprocess(self, node)
            else:
                event_subprocess.add(self, node)
        compensation.attach(self, compensated)


class BpmnParser(SpiffBpmnParser):
    """The one parser Lanebridge uses for every uploaded file."""

    PROCESS_PARSER_CLASS = ProcessParser

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (UserTaskParser, CamundaUserTask),
        full_tag("serviceTask"): (ServiceTaskParser, WaitingServiceTask),
        **compensation.PARSER_CLASSES,
        full_tag("endEvent"): (EndEventParser, compensation.PARSER_CLASSES[full_tag("endEvent")][1]),
        full_tag("businessRuleTask"): (decisions.DecisionTaskParser, decisions.DecisionTask),
    }

    def __init__(self):
        # Camunda's form parser looks its prefix up in the parser's namespaces.
        super().__init__(namespaces={**DEFAULT_NSMAP, "spiffworkflow": SPIFF_NS, "camunda": CAMUNDA_NS})

    def add_bpmn_xml(self, bpmn, filename=None):
        """Add a file, with its timers' plain ISO 8601 text turned into the expressions SpiffWorkflow evaluates."""
        for tag in (timers.DURATION, timers.DATE, timers.CYCLE):
            for element in bpmn.iterfind(f".//{{{BPMN_NS}}}timerEventDefinition/{{{BPMN_NS}}}{tag}"):
                element.text = timers.as_expression(element.text or "")
        links.join(bpmn.getroot() if isinstance(bpmn, etree._ElementTree) else bpmn)
        super().add_bpmn_xml(bpmn, filename)


# The spec objects of the workflow being restored; set by load_workflow().
_restoring_specs: contextvars.ContextVar = contextvars.ContextVar("restoring_specs")


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes the process id instead of the spec; restores the cached spec."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["spec"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        # Same steps as BpmnWorkflowConverter.from_dict, with the cached specs.
        spec, subprocess_specs = _restoring_specs.get()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow

    def subprocesses_from_dict(self, dct, workflow, top_workflow=None):
        # SpiffWorkflow's own loop, which also gives a compensation throw back the handler it runs.
        top_workflow = top_workflow or workflow
        for task in list(workflow.tasks.values()):
            if str(task.id) not in dct:
                continue
            if isinstance(task.task_spec, SubWorkflowTask):
                sp = self.registry.restore(dct.pop(str(task.id)), task=task, top_workflow=top_workflow)
                sp.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            elif isinstance(task.task_spec, compensation.CompensationThrow):
                # Its handler's spec is named in the stored sub-workflow, not on the throw's spec.
                stored = dct.pop(str(task.id))
                sp = BpmnSubWorkflow(top_workflow.subprocess_specs[stored["spec"]], task.id, top_workflow,
                                     deserializing=True)
                sp.tasks = self.mapping_from_dict(stored["tasks"], UUID, workflow=sp)
                sp.task_tree = sp.tasks.get(UUID(stored["root"]))
                self.set_default_attributes(sp, stored)
                sp.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            else:
                continue
            top_workflow.subprocesses[task.id] = sp
            self.subprocesses_from_dict(dct, sp, top_workflow)


def _serializer_config() -> dict:
    config = deepcopy(SPIFF_CONFIG)
    config[CamundaUserTask] = CamundaUserTaskConverter
    config[WaitingServiceTask] = ServiceTaskConverter
    config[decisions.DecisionTask] = decisions.DecisionTaskConverter
    config.update(multi_instance.CONVERTERS)
    config[event_subprocess.EventSubprocessStart] = BoundaryEventConverter
    config[event_subprocess.ScopeEndJoin] = BpmnTaskSpecConverter
    config.update(compensation.CONVERTERS)
    return config


_spec_registry = BpmnWorkflowSerializer.configure(_serializer_config())
SPEC_SERIALIZER = BpmnWorkflowSerializer(_spec_registry)

_state_config = _serializer_config()
_state_config[BpmnWorkflow] = SpeclessWorkflowConverter
STATE_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_state_config))


def dump_specs(spec, subprocess_specs: dict) -> str:
    """Serialize a parsed process spec and its call-activity specs to JSON."""
    data = {
        "spec": _spec_registry.convert(spec),
        "subprocess_specs": {name: _spec_registry.convert(s) for name, s in subprocess_specs.items()},
    }
    return json.dumps(data)


def load_specs(spec_json: str):
    """Restore (spec, subprocess_specs) from `dump_specs` output."""
    data = json.loads(spec_json)
    spec = _spec_registry.restore(data["spec"])
    subprocess_specs = {name: _spec_registry.restore(s) for name, s in data["subprocess_specs"].items()}
    return spec, subprocess_specs


def new_workflow(specs, variables: dict) -> BpmnWorkflow:
    """A fresh workflow with `variables` seeded where tasks can see them."""
    spec, subprocess_specs = specs
    workflow = prune.new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)
    # wf.data is not visible to tasks: seed the start task's data instead.
    workflow.get_tasks()[0].data.update(deepcopy(variables))
    return workflow


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Serialize instance state, without the spec."""
    return STATE_SERIALIZER.serialize_json(workflow)


def load_workflow(specs, state_json: str) -> BpmnWorkflow:
    """Restore a workflow from `dump_workflow` output and its cached specs."""
    token = _restoring_specs.set(specs)
    try:
        workflow = STATE_SERIALIZER.deserialize_json(state_json)
    finally:
        _restoring_specs.reset(token)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def change_spec(workflow: BpmnWorkflow, specs, mapping: dict[str, str]) -> list[spec_change.Move]:
    """Move a workflow onto another version's (spec, subprocess_specs); see `engine.spec_change`."""
    spec, subprocess_specs = specs
    return spec_change.change_spec(_spec_registry, workflow, spec, subprocess_specs, mapping)


def elements(specs) -> dict[str, str]:
    """The BPMN elements of a version's process and sub-processes: id → name."""
    return spec_change.element_ids(*specs)


def element_specs(specs) -> list:
    """The task specs of the BPMN elements of a version's process and sub-processes."""
    return spec_change.element_specs(*specs)


def find_task(workflow: BpmnWorkflow, task_id):
    """The task with this id, or None if it is not (or no longer) in the workflow."""
    try:
        return workflow.get_task_from_id(task_id)
    except TaskNotFoundException:
        return None


# --- What a waiting task waits for, and how the outside world reaches it -------------------------
# The parser's own event-definition classes: SpiffWorkflow matches events by class.


def _event_definitions(task_spec) -> list:
    """The event definitions a catching element waits on: one, or each of an event-based gateway's."""
    definition = getattr(task_spec, "event_definition", None)
    if definition is None:
        return []
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def is_user_task(task) -> bool:
    """A user or manual task: a person finishes it."""
    return bool(getattr(task.task_spec, "manual", False))


def waits_for_event_subprocess(task) -> bool:
    """The task waits for the event that starts an event sub-process (its data is a snapshot, not the variables)."""
    return isinstance(task.task_spec, event_subprocess.EventSubprocessStart)


def is_call(task) -> bool:
    """A service task that waits for a job to call its connector."""
    return isinstance(task.task_spec, WaitingServiceTask)


def result_variable(task_spec) -> str:
    """The variable a service task's call result lands in ("" for any other element)."""
    if not isinstance(task_spec, WaitingServiceTask):
        return ""
    return task_spec.result_variable or ""


def timer_definition(task_spec):
    """The timer this element waits on (itself, or one branch of an event-based gateway), or None."""
    return next((d for d in _event_definitions(task_spec) if isinstance(d, TimerEventDefinition)), None)


def message_names(task_spec) -> list[str]:
    """The names of the messages this element waits on."""
    return [d.name for d in _event_definitions(task_spec) if isinstance(d, BpmnMessageEventDefinition)]


def signal_names(task_spec) -> list[str]:
    """The names of the signals this element waits on."""
    return [d.name for d in _event_definitions(task_spec) if isinstance(d, BpmnSignalEventDefinition)]


def timer_due(task) -> datetime | None:
    """When a waiting timer is due (UTC), fixing it now if SpiffWorkflow has not yet; None if unknown."""
    definition = timer_definition(task.task_spec)
    if definition is None:
        return None
    if task._get_internal_data("event_value") is None and not isinstance(definition, CycleTimerEventDefinition):
        definition.has_fired(task)  # fixes the due time in event_value
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):  # cycle timers keep their next firing here
        value = value.get("next")
    if not value:
        return None
    try:
        return TimerEventDefinition.get_datetime(value)
    except ValueError:
        return None


def timer_event_value(task):
    """What SpiffWorkflow keeps about a waiting timer (its due time, or a cycle's state), as plain data."""
    return task._get_internal_data("event_value")


def catch_message(task, name: str, variables: dict) -> None:
    """Deliver a message to this one waiting task: its variables land in the task's data."""
    definition = next(d for d in _event_definitions(task.task_spec)
                      if isinstance(d, BpmnMessageEventDefinition) and d.name == name)
    _catch(task, definition, variables)


def catch_signal(task, name: str, variables: dict) -> None:
    """Deliver a signal to this one waiting task: its variables land in the task's data."""
    definition = next(d for d in _event_definitions(task.task_spec)
                      if isinstance(d, BpmnSignalEventDefinition) and d.name == name)
    _catch(task, definition, variables)


def _catch(task, definition, variables: dict) -> None:
    # Only this task catches it: SpiffWorkflow's own routing would hand a message to every
    # task waiting for the name, whatever the correlation.
    task.data.update(deepcopy(variables))
    task.task_spec.catch(task, BpmnEvent(definition, deepcopy(variables)))
    task.task_spec._update(task)


def start_with_event(workflow: BpmnWorkflow, element_id: str, variables: dict) -> None:
    """Make a new workflow start at the start event `element_id` (message, signal or timer), not its plain one."""
    for task in workflow.get_tasks(state=TaskState.READY):
        if not isinstance(task.task_spec, StartEvent):
            task.run()
    # The start events now wait (an event one) or are ready (a plain one): keep only the chosen one.
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if isinstance(task.task_spec, StartEvent) and task.task_spec.bpmn_id != element_id:
            task.cancel()
    start = next(t for t in workflow.get_tasks(state=TaskState.WAITING | TaskState.READY)
                 if t.task_spec.bpmn_id == element_id)
    start.data.update(deepcopy(variables))
    start._set_internal_data(event_fired=True)
    if isinstance(start.task_spec.event_definition, CycleTimerEventDefinition):
        # The scheduler repeats a cycle by starting one instance per round; in each the start
        # event fires once, and SpiffWorkflow only adds a cycle's next steps as rounds pass.
        start._sync_children(start.task_spec.outputs, TaskState.FUTURE)
        for child in start.children:
            child.task_spec._predict(child)
    start.task_spec._update(start)


def catch_error(workflow: BpmnWorkflow, task, code: str, payload: dict):
    """Route a BPMN error thrown by `task` to its matching error boundary; the boundary task, or None."""
    for boundary in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(boundary.task_spec, "event_definition", None)
        if boundary.parent is not task.parent or not isinstance(definition, BpmnErrorEventDefinition):
            continue
        if definition.code not in (None, "", code):
            continue
        workflow.catch(BpmnEvent(type(definition)(definition.name, code=code), payload))
        return boundary
    # No boundary on the task: an error event sub-process of its process level (or one around it) catches it.
    return event_subprocess.catch_error(task, code, payload)


def thrown_events(workflow: BpmnWorkflow) -> list[tuple[str, str, dict]]:
    """Messages and signals the workflow threw that nothing in it caught: (kind, name, payload)."""
    thrown = []
    for event in workflow.get_events():
        definition = event.event_definition
        payload = event.payload if isinstance(event.payload, dict) else {}
        if isinstance(definition, BpmnMessageEventDefinition):
            thrown.append(("message", definition.name, payload))
        elif isinstance(definition, BpmnSignalEventDefinition):
            thrown.append(("signal", definition.name, payload))
    return thrown


def event_starts(spec) -> list[tuple[str, str, object]]:
    """The start events of a process spec that wait for something: (element id, kind, name or timer expression)."""
    found = []
    for task_spec in spec.task_specs.values():
        if not isinstance(task_spec, StartEvent):
            continue
        definition = task_spec.event_definition
        if isinstance(definition, BpmnMessageEventDefinition):
            found.append((task_spec.bpmn_id, "message", definition.name))
        elif isinstance(definition, BpmnSignalEventDefinition):
            found.append((task_spec.bpmn_id, "signal", definition.name))
        elif isinstance(definition, TimerEventDefinition):
            kind = "cycle" if isinstance(definition, CycleTimerEventDefinition) else (
                "date" if isinstance(definition, TimeDateEventDefinition) else "duration")
            found.append((task_spec.bpmn_id, f"timer_{kind}", definition.expression))
    return found


def user_task_settings(task_spec) -> dict:
    """What a user task says about who does it and when, from spiff properties or Camunda attributes."""
    extensions = getattr(task_spec, "extensions", {}) or {}
    properties = extensions.get("properties", {}) or {}
    return {
        "candidate_groups": extensions.get("camunda:candidateGroups") or properties.get("candidateGroups") or "",
        "assignee": extensions.get("camunda:assignee") or properties.get("assignee") or "",
        "due": extensions.get("camunda:dueDate") or properties.get("dueDate") or "",
        "priority": extensions.get("camunda:priority") or properties.get("priority") or 50,
        "documentation": extensions.get("instructionsForEndUser") or task_spec.documentation or "",
        "form": form_definition(task_spec),
    }


def form_definition(task_spec) -> dict:
    """The form of a user task as plain data: key and fields (Camunda formData)."""
    extensions = getattr(task_spec, "extensions", {}) or {}
    form = getattr(task_spec, "form", None)
    fields = []
    for field in getattr(form, "fields", []) or []:
        fields.append({
            "id": field.id,
            "label": field.label or field.id,
            "type": field.type or "string",
            "default": field.default_value,
            "options": [{"id": o.id, "name": o.name} for o in getattr(field, "options", [])],
            "validation": {v.name: v.config for v in field.validation},
            "properties": {p.id: p.value for p in field.properties},
        })
    return {"key": getattr(form, "key", None), "fields": fields,
            "schema": (extensions.get("properties") or {}).get("formJsonSchemaFilename")}


def due_from_text(value: str | None) -> datetime | None:
    """An ISO 8601 duration from now or a date, as a UTC time; None if empty or unreadable."""
    if not value:
        return None
    try:
        if value.upper().startswith("P"):
            return datetime.now(UTC) + TimerEventDefinition.get_timedelta_from_start(
                TimerEventDefinition.parse_iso_duration(value))
        return TimerEventDefinition.get_datetime(value)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for bad durations
        return None


def end_event_reached(workflow: BpmnWorkflow) -> tuple[str, str, str] | None:
    """(id, name, kind) of the top-level end event the workflow completed at last, or None.

    The kind is the analyst's marking ("rejected", "success"), or "" where the diagram has none.
    """
    # workflow.tasks holds the top-level process only: a subprocess's end is not the outcome,
    # unless it is the end of an event sub-process that interrupted the process.
    ended = event_subprocess.interrupting_ends(workflow) or [
        t for t in workflow.tasks.values()
        if isinstance(t.task_spec, (EndEvent, compensation.CompensationEnd)) and t.state == TaskState.COMPLETED]
    if not ended:
        return None
    spec = max(ended, key=lambda t: t.last_state_change).task_spec
    kind = (getattr(spec, "extensions", None) or {}).get(f"camunda:{OUTCOME_PROPERTY}", "")
    return spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, kind


def evaluate_text(task, text: str | None) -> str | None:
    """A Camunda attribute (assignee, candidate groups) for this task: ``${…}``/``=…`` evaluated, else as written.

    A list becomes comma-separated text, as Camunda accepts for candidate groups.
    Raises what the script engine raises for a variable the task does not have.
    """
    if not text or expressions.language(text) is None:
        return text
    value = task.workflow.script_engine.evaluate(task, expressions.translate(text))
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)
