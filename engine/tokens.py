"""Tokens in SpiffWorkflow's task tree, for moving them by hand (`engine.modify`).

Like `engine.spiff`, the one place these SpiffWorkflow details live. A token is
an unfinished task of the top-level process that is not a prediction: ready,
started, waiting or in error. An activity with boundary events runs as a group
under a ``<id>.BoundaryEventSplit`` task: its token is the whole group, so the
boundary events go with it.
"""

from __future__ import annotations

from collections import deque
from copy import deepcopy

from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.util.task import TaskState

TOKEN_STATES = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR
BOUNDARY_SPLIT = "{}.BoundaryEventSplit"


def elements(spec) -> dict:
    """The elements of a process's top level a token can be put before, by id (boundary events left out)."""
    return {s.bpmn_id: s for s in spec.task_specs.values()
            if getattr(s, "bpmn_id", None) and not isinstance(s, BoundaryEvent)}


def boundary_events(spec) -> set[str]:
    """The ids of a process's boundary events: their tokens go with the task they are attached to."""
    return {s.bpmn_id for s in spec.task_specs.values() if isinstance(s, BoundaryEvent) and s.bpmn_id}


def tokens(workflow) -> list:
    """Every token of the top-level process."""
    return [t for t in workflow.tasks.values() if t.has_state(TOKEN_STATES) and getattr(t.task_spec, "bpmn_id", None)
            and not isinstance(t.task_spec, BoundaryEvent)]


def any_left(workflow) -> bool:
    """Whether anything of the top-level process is still to run (a new token is not an element yet)."""
    return any(t.has_state(TOKEN_STATES) for t in workflow.tasks.values())


def tokens_at(workflow, element_id: str) -> list:
    """The tokens at one element."""
    return [t for t in tokens(workflow) if t.task_spec.bpmn_id == element_id]


def merged_data(tasks: list) -> dict:
    """The data of these tasks, later ones winning: what a new token starts with."""
    data: dict = {}
    for task in tasks:
        data.update(deepcopy(task.data))
    return data


def cancel(task):
    """Cancel a token (with its boundary events); returns the task a new token may hang under."""
    group = task.parent
    if group is not None and group.task_spec.name == BOUNDARY_SPLIT.format(task.task_spec.bpmn_id):
        group.cancel()
    else:
        group = task
        task.cancel()
    return group.parent or task.workflow.task_tree


def start_before(workflow, element_id: str, under, data: dict):
    """Put a new token before an element, under task `under`; it runs when the engine runs next."""
    specs = workflow.spec.task_specs
    spec = specs.get(BOUNDARY_SPLIT.format(element_id)) or elements(workflow.spec)[element_id]
    task = under._add_child(spec, TaskState.FUTURE)
    # As SpiffWorkflow's own reset of a branch does: predict what follows, then let the spec decide.
    spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
    spec._update(task)
    task.data = deepcopy(data)
    return task


def release_joins(workflow, cancelled: list[tuple]) -> list[str]:
    """Let parallel joins stop waiting for branches whose tokens were cancelled and that no token can reach any more.

    `cancelled` holds (task spec, task the token hung under, its data) per cancelled
    token. The branch then arrives at the join as if it had run, so the other
    branches go on. Returns the ids of the joins released.
    """
    released = []
    for spec, under, data in cancelled:
        for join, via in _joins_ahead(spec):
            left = [t for t in tokens(workflow) if t.task_spec is not join]
            if any(_leads_to(t.task_spec, via, join) for t in left) or _arrived(workflow, join, via):
                continue
            arrived = under._add_child(via, TaskState.FUTURE)
            arrived._set_state(TaskState.COMPLETED)
            arrived.data = deepcopy(data)
            join_task = arrived._add_child(join, TaskState.FUTURE)
            join._predict(join_task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
            join._update(join_task)
            released.append(join.bpmn_id)
    return released


def _joins_ahead(spec) -> list[tuple]:
    """The parallel joins the flow from `spec` reaches first, each with the element it arrives from."""
    found, seen, queue = [], {spec.name}, deque([spec])
    while queue:
        current = queue.popleft()
        for output in current.outputs:
            if isinstance(output, ParallelGateway) and len(output.inputs) > 1:
                if (output, current) not in found:
                    found.append((output, current))
            elif output.name not in seen:
                seen.add(output.name)
                queue.append(output)
    return found


def _leads_to(spec, target, join) -> bool:
    """Whether the flow from `spec` reaches `target` without passing `join`."""
    seen, queue = {spec.name}, deque([spec])
    while queue:
        current = queue.popleft()
        if current is target:
            return True
        for output in current.outputs:
            if output is not join and output.name not in seen:
                seen.add(output.name)
                queue.append(output)
    return False


def _arrived(workflow, join, via) -> bool:
    return any(t.task_spec is join and t.parent is not None and t.parent.task_spec is via
               and t.parent.state == TaskState.COMPLETED and t.has_state(TaskState.NOT_FINISHED_MASK)
               for t in workflow.tasks.values())
