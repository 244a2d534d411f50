"""Multi-instance user tasks: one task per item of a list (or per count), the flow goes on after the last.

Read from either way modelers write them:

* Camunda: ``camunda:collection="${items}"`` (a variable, or a path such as
  ``${order.lines}``) and ``camunda:elementVariable="item"``;
* BPMN: ``loopDataInputRef`` / ``inputDataItem`` (and ``loopDataOutputRef`` /
  ``outputDataItem``), or ``loopCardinality``.

Each instance sees its item in its data under the element variable. Without an
output collection, what the instances submit is merged into the process
variables (the last one wins), leaving the element variable out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.serializer.default.task_spec import MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.serializer.helpers.spec import BpmnDataSpecificationConverter
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine import expressions

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# ${name} or ${a.b.c}, or the same without ${ }: a variable path, not an expression.
_PATH = re.compile(r"^\s*(?:\$\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}|([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*))\s*$")


# What engine.expressions makes of a variable path: order['lines'].
_TRANSLATED_PATH = re.compile(r"^([A-Za-z_]\w*)((?:\['[A-Za-z_]\w*'\])*)$")


def variable_path(text: str | None) -> str | None:
    """The variable path written as ``${a.b}``, ``#{a['b']}`` or ``a.b``; None for anything else."""
    match = _PATH.match(text or "")
    if match:
        return match.group(1) or match.group(2)
    try:
        python = expressions.translate(text or "")
    except expressions.ExpressionError:
        return None
    translated = _TRANSLATED_PATH.match(python) if expressions.language(text or "") else None
    if translated is None:
        return None
    return ".".join([translated.group(1), *re.findall(r"\['(\w+)'\]", translated.group(2))])


class VariablePath(TaskDataReference):
    """A process variable, or a value inside one, named by a dotted path (``order.lines``)."""

    def get(self, my_task):
        value = my_task.data
        for part in self.bpmn_id.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value

    def exists(self, my_task):
        value = my_task.data
        for part in self.bpmn_id.split("."):
            if not isinstance(value, dict) or part not in value:
                return False
            value = value[part]
        return True

    def set(self, my_task, value):
        *parents, last = self.bpmn_id.split(".")
        target = my_task.data
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value


class _Items:
    """What parallel and sequential multi-instance tasks share."""

    def _check_input(self, my_task) -> None:
        if self.data_input is None:
            return
        if not self.data_input.exists(my_task):
            raise WorkflowDataException(
                f"the list {self.data_input.bpmn_id!r} it runs over is not a process variable", my_task)
        items = self.data_input.get(my_task)
        if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
            raise WorkflowDataException(
                f"{self.data_input.bpmn_id!r} must be a list to run one task per item, "
                f"not {type(items).__name__}", my_task)

    def merge_child(self, workflow, child):
        if self.data_output is None and self.input_item is not None:
            # Merge what the instance submitted, but not its item: the next instance gets its own.
            my_task = child.parent
            data = {k: v for k, v in child.data.items() if k != self.input_item.bpmn_id}
            DeepMerge.merge(my_task.data, data)
            my_task.internal_data["merged"].append(str(child.id))
            self._after_merge(my_task)
            return
        super().merge_child(workflow, child)


class ParallelUserTasks(_Items, ParallelMultiInstanceTask):
    """One user task per item, all open at once."""

    def create_children(self, my_task):
        self._check_input(my_task)
        super().create_children(my_task)

    def _after_merge(self, my_task):
        # The same steps as ParallelMultiInstanceTask.merge_child after its own merge.
        if self.check_completion_condition(my_task):
            for child in self._instances(my_task):
                child.cancel()
            my_task._set_state(TaskState.READY)
        elif self.children_complete(my_task):
            my_task._set_state(TaskState.READY)


class SequentialUserTasks(_Items, SequentialMultiInstanceTask):
    """One user task per item, each after the one before."""

    def init_remaining_items(self, my_task):
        self._check_input(my_task)
        return super().init_remaining_items(my_task)

    def _after_merge(self, my_task):
        # The same steps as SequentialMultiInstanceTask.merge_child after its own merge.
        if self.children_complete(my_task) or self.check_completion_condition(my_task):
            my_task._set_state(TaskState.READY)
        else:
            self.add_next_child(my_task)


CONVERTERS = {
    ParallelUserTasks: MultiInstanceTaskConverter,
    SequentialUserTasks: MultiInstanceTaskConverter,
    VariablePath: BpmnDataSpecificationConverter,
}


def add_multi_instance(parser: TaskParser, loop) -> None:
    """Make the task `parser` reads a multi-instance task, from Camunda's attributes or BPMN's elements.

    Raises the parser's ValidationException (naming the element) for a collection that is not a variable path.
    """
    collection = loop.get(f"{{{CAMUNDA_NS}}}collection")
    if collection is None:
        TaskParser._add_multiinstance_task(parser, loop)
        _with_camunda_element_variable(parser, loop)
        return
    path = variable_path(collection)
    if path is None:
        parser.raise_validation_exception(
            f"camunda:collection {collection!r} must name a list variable, such as ${{items}} or "
            "${order.lines}; other expressions are not supported")
    element_variable = loop.get(f"{{{CAMUNDA_NS}}}elementVariable")
    condition = loop.find(f"{{{BPMN_NS}}}completionCondition")
    original = parser.spec.task_specs.pop(parser.task.name)
    params = {
        "task_spec": "",
        "data_input": VariablePath(path),
        "input_item": TaskDataReference(element_variable) if element_variable else None,
        "condition": condition.text if condition is not None else None,
    }
    kind = SequentialUserTasks if loop.get("isSequential") == "true" else ParallelUserTasks
    parser.task = kind(parser.spec, original.name, description="Multi-instance", **params)
    parser._copy_task_attrs(original, loop)


def _with_camunda_element_variable(parser: TaskParser, loop) -> None:
    # With a loop cardinality, Camunda hands each instance its number in the element variable.
    element_variable = loop.get(f"{{{CAMUNDA_NS}}}elementVariable")
    if element_variable and parser.task.input_item is None:
        parser.task.input_item = TaskDataReference(element_variable)
