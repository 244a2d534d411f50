"""Moving a running workflow onto another version's spec, with SpiffWorkflow's diff utilities.

`SpiffWorkflow.bpmn.util.diff` aligns the old spec's elements with the new
one's (`diff_workflow`) and swaps the specs under the workflow's tasks
(`migrate_workflow`), re-predicting what lies after every task that waits. Two
things are Lanebridge's own:

* alignment is by element id, or the operator's mapping, never the library's
  guess by shape: a waiting element with no counterpart is refused, not moved
  somewhere plausible;
* a waiting task keeps what it has: its id (the rows beside the instance point
  at it), its state (a started call stays started), its data and its internal
  data (a timer keeps its due time). `migrate_workflow` resets them; they are
  put back.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine import prune

# The tasks whose future is predicted again from the new spec: everything that waits.
RESET = TaskState.READY | TaskState.WAITING | TaskState.STARTED


class SpecChangeRefused(ValueError):
    """The workflow cannot move to the new spec; `problems` name the elements."""

    def __init__(self, problems: list[dict]):
        super().__init__("; ".join(p["message"] for p in problems))
        self.problems = problems


@dataclass
class Move:
    """Where one waiting task goes: its element in the old version and its counterpart in the new one."""

    task: object
    element_id: str
    name: str
    to_element_id: str
    to_name: str


def element_ids(spec, subprocess_specs: dict) -> dict[str, str]:
    """Every BPMN element of a process and its sub-processes: id → name."""
    return {task_spec.bpmn_id: getattr(task_spec, "bpmn_name", None) or task_spec.bpmn_id
            for task_spec in element_specs(spec, subprocess_specs)}


def element_specs(spec, subprocess_specs: dict) -> list:
    """The task specs of every BPMN element of a process and its sub-processes."""
    return [task_spec for each in [spec, *subprocess_specs.values()] for task_spec in each.task_specs.values()
            if getattr(task_spec, "bpmn_id", None)]


def change_spec(registry, workflow, spec, subprocess_specs: dict, mapping: dict[str, str]) -> list[Move]:
    """Move `workflow` onto `spec`; returns where each waiting task went, or raises SpecChangeRefused.

    `mapping` maps old element ids to new ones; other elements keep their id.
    On a refusal the workflow is left half-changed: callers work on a copy or
    roll back (a write's workflow is dropped with its transaction).
    """
    # Finished history is cut first (Lanebridge keeps it in its own tables): only what still
    # runs needs a counterpart, and the new spec must hold every task the state keeps.
    workflows = [workflow, *workflow.subprocesses.values()]
    for each in workflows:
        prune.prune(each)
    top_diff, sub_diffs = diff_workflow(registry, workflow, spec, subprocess_specs)
    problems: list[dict] = []
    waiting = [t for each in workflows for t in each.get_tasks(state=RESET, skip_subprocesses=True)]
    moves = [_move(task, _counterpart(task, spec, subprocess_specs, mapping), problems) for task in waiting]
    for sub_id in workflow.subprocesses:
        if sub_diffs.get(sub_id) is None:
            problems.append(_problem(workflow.get_task_from_id(sub_id).task_spec,
                                     "is a running sub-process with no counterpart in the new version"))
    if problems:
        raise SpecChangeRefused(problems)

    saved = {t.id: (t.state, deepcopy(t.data), deepcopy(t.internal_data)) for t in waiting}
    try:
        _align(top_diff, workflow, spec, mapping)
        migrate_workflow(top_diff, workflow, spec, reset_mask=RESET)
        for sub_id, sub in workflow.subprocesses.items():
            sub_spec = subprocess_specs[sub.spec.name]
            _align(sub_diffs[sub_id], sub, sub_spec, mapping)
            migrate_workflow(sub_diffs[sub_id], sub, sub_spec, reset_mask=RESET)
    except WorkflowException as exc:
        # Re-predicting runs the new version's pre-scripts and data inputs.
        task_spec = getattr(exc, "task_spec", None)
        raise SpecChangeRefused([_problem(task_spec, f"fails on the new version: {exc}")] if task_spec
                                else [{"element_id": "", "message": str(exc)}]) from None
    workflow.subprocess_specs = subprocess_specs
    for task in waiting:
        _restore(task, *saved[task.id], problems)
    problems += _left_behind(workflow, spec, subprocess_specs)
    if problems:
        raise SpecChangeRefused(problems)
    return [m for m in moves if m is not None]


def _counterpart(task, spec, subprocess_specs: dict, mapping: dict[str, str]):
    name = _target_name(task.task_spec, mapping)
    owner = spec if task.workflow is task.workflow.top_workflow else subprocess_specs.get(task.workflow.spec.name)
    return owner.task_specs.get(name) if owner is not None else None


def _target_name(task_spec, mapping: dict[str, str]) -> str:
    """The name of the new task spec: the mapped element, or the same one.

    SpiffWorkflow names the helper specs of an element after it
    ("review.BoundaryEventSplit"): they follow the element.
    """
    bpmn_id = getattr(task_spec, "bpmn_id", None)
    if bpmn_id in mapping:
        return mapping[bpmn_id]
    for old, new in mapping.items():
        if task_spec.name.startswith(f"{old}."):
            return new + task_spec.name[len(old):]
    return task_spec.name


def _move(task, target, problems: list[dict]) -> Move | None:
    old = task.task_spec
    if target is None:
        problems.append(_problem(old, "waits here and has no counterpart in the new version: map it to an element"))
        return None
    if _shape(old) != _shape(target):
        problems.append(_problem(old, f"is a {_describe(old)} but {target.bpmn_id or target.name} is a "
                                      f"{_describe(target)}: map it to an element that waits the same way"))
        return None
    if not getattr(old, "bpmn_id", None):
        return None  # a helper spec (boundary split, join...): it follows its element
    return Move(task, old.bpmn_id, old.bpmn_name or old.bpmn_id, target.bpmn_id, target.bpmn_name or target.bpmn_id)


def _shape(task_spec) -> tuple:
    """What kind of element waits how: the spec class and its event definition's class."""
    definition = getattr(task_spec, "event_definition", None)
    return type(task_spec), type(definition)


def _describe(task_spec) -> str:
    definition = getattr(task_spec, "event_definition", None)
    kind = type(task_spec).__name__
    if definition is None:
        return kind
    return f"{kind} ({type(definition).__name__.removesuffix('EventDefinition').lower() or 'none'})"


def _align(diff, workflow, spec, mapping: dict[str, str]) -> None:
    # Same id or the mapping, never SpiffWorkflow's guess by shape.
    for task in workflow.tasks.values():
        diff.alignment[task] = spec.task_specs.get(_target_name(task.task_spec, mapping))


def _restore(task, state, data, internal_data, problems: list[dict]) -> None:
    """Give a waiting task back what the reset took: its data, its internal data (a timer's due time), its state."""
    task.data = data
    task.internal_data = internal_data
    if task.state == state:
        return
    if task.state < state:
        task.state = state  # a started call is READY after the reset: started again, not run again
    else:
        problems.append(_problem(task.task_spec, f"would go from {TaskState.get_name(state)} to "
                                                 f"{TaskState.get_name(task.state)} on the new version"))


def _left_behind(workflow, spec, subprocess_specs: dict) -> list[dict]:
    """Tasks still holding an old spec: finished steps on a running path whose element is gone."""
    problems = []
    for each in [workflow, *workflow.subprocesses.values()]:
        owner = spec if each is workflow else subprocess_specs.get(each.spec.name)
        for task in each.tasks.values():
            if owner is None or owner.task_specs.get(task.task_spec.name) is not task.task_spec:
                problems.append(_problem(task.task_spec, "lies on a path that is still running and has no "
                                                         "counterpart in the new version: map it to an element"))
    return problems


def _problem(task_spec, message: str) -> dict:
    element_id = getattr(task_spec, "bpmn_id", None) or getattr(task_spec, "name", "") or ""
    name = getattr(task_spec, "bpmn_name", None) or element_id
    return {"element_id": element_id, "message": f"{name} ({element_id}) {message}"}
