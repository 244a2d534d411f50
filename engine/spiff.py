"""Everything Lanebridge needs from SpiffWorkflow, wrapped in one place.

* one parser that reads both ``spiffworkflow:*`` and Camunda's user-task
  attributes (form data, assignee, candidate groups, due date, priority);
* a service task that waits for a worker instead of calling inline;
* timers written as plain ISO 8601 (see ``engine.timers``);
* multi-instance user tasks, Camunda's and BPMN's (see ``engine.multi_instance``);
* a serializer that stores instance state without the process spec, which is
  stored once per definition version and cached per process;
* the restricted script engine (see ``engine.scripts``).
"""

from __future__ import annotations

import contextvars
import json
from copy import deepcopy
from uuid import UUID

from SpiffWorkflow.bpmn.parser.BpmnParser import DEFAULT_NSMAP, full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.task_spec import UserTaskParser as CamundaUserTaskParser
from SpiffWorkflow.camunda.serializer.task_spec import UserTaskConverter as CamundaUserTaskConverter
from SpiffWorkflow.camunda.specs.user_task import UserTask as CamundaUserTask
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser as SpiffServiceTaskParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.util.task import TaskState

from engine import expressions, multi_instance, prune, timers
from engine.scripts import SCRIPT_ENGINE

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
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


class BpmnParser(SpiffBpmnParser):
    """The one parser Lanebridge uses for every uploaded file."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (UserTaskParser, CamundaUserTask),
        full_tag("serviceTask"): (ServiceTaskParser, WaitingServiceTask),
    }

    def __init__(self):
        # Camunda's form parser looks its prefix up in the parser's namespaces.
        super().__init__(namespaces={**DEFAULT_NSMAP, "spiffworkflow": SPIFF_NS, "camunda": CAMUNDA_NS})

    def add_bpmn_xml(self, bpmn, filename=None):
        """Add a file, with its timers' plain ISO 8601 text turned into the expressions SpiffWorkflow evaluates."""
        for tag in (timers.DURATION, timers.DATE, timers.CYCLE):
            for element in bpmn.iterfind(f".//{{{BPMN_NS}}}timerEventDefinition/{{{BPMN_NS}}}{tag}"):
                element.text = timers.as_expression(element.text or "")
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


def _serializer_config() -> dict:
    config = deepcopy(SPIFF_CONFIG)
    config[CamundaUserTask] = CamundaUserTaskConverter
    config[WaitingServiceTask] = ServiceTaskConverter
    config.update(multi_instance.CONVERTERS)
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


def find_task(workflow: BpmnWorkflow, task_id):
    """The task with this id, or None if it is not (or no longer) in the workflow."""
    try:
        return workflow.get_task_from_id(task_id)
    except TaskNotFoundException:
        return None


def end_event_reached(workflow: BpmnWorkflow) -> tuple[str, str] | None:
    """(id, name) of the top-level end event the workflow completed at last, or None."""
    # workflow.tasks holds the top-level process only: a subprocess's end is not the outcome.
    ended = [t for t in workflow.tasks.values()
             if isinstance(t.task_spec, EndEvent) and t.state == TaskState.COMPLETED]
    if not ended:
        return None
    spec = max(ended, key=lambda t: t.last_state_change).task_spec
    return spec.bpmn_id, spec.bpmn_name or spec.bpmn_id


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
