"""Running instances: every write to an instance goes through `write_instance`.

One write = one database transaction: load the instance, change it, run the
engine until every path waits, bring the query tables (human tasks, jobs,
history) in line, and save with an optimistic version check. Two writers at
once: one wins, the other retries on fresh state or gets `Conflict`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine import dispatch, live, prune, rollout, rows, signals, spiff, waits
from engine.deploy import specs_for
from engine.history import history_event, record_event, to_json
from engine.models import HistoryEvent, HumanTask, Incident, ProcessDefinition, ProcessInstance

# Other apps read these here: the one module they use for writing to instances.
__all__ = ["history_event", "record_event", "to_json"]

log = logging.getLogger(__name__)


class Conflict(Exception):
    """Someone else changed the instance first; reload and try again."""


def check_unchanged(instance: ProcessInstance, seen_version: int, hint: str) -> None:
    """Raise Conflict if the instance changed since the caller read it at `seen_version` (an operator's stale view)."""
    if instance.version != seen_version:
        raise Conflict(f"Instance {instance.pk} changed since it was read (version {seen_version}, now "
                       f"{instance.version}): {hint}")


class ProcessNotFound(Exception):
    """No deployed definition has this process id."""


class InvalidVariables(ValueError):
    """Start or task data that the engine cannot store."""


class TaskNotOpen(Exception):
    """The human task was already completed or cancelled."""


class TaskMigrated(TaskNotOpen):
    """The task's instance moved to another version while the task was being completed: its form may differ."""


class InstanceNotActive(Exception):
    """The instance has ended; it cannot be changed any more."""


class InstanceSuspended(InstanceNotActive):
    """The instance is suspended: nobody works on it until it is resumed."""


LONE_SURROGATE = "contains half of a UTF-16 surrogate pair (like \\ud800) without its other half, which is no character"


def has_lone_surrogate(text: str) -> bool:
    """Whether `text` holds a code point UTF-8 cannot encode: JSON's "\\ud800" escape decodes to one."""
    if text.isascii():
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def check_variables(variables: Any, what: str = "variables") -> dict:
    """Return `variables` if the engine can store them, else raise InvalidVariables naming the problem."""
    if not isinstance(variables, dict):
        raise InvalidVariables(f"{what} must be a JSON object, not {type(variables).__name__}")

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InvalidVariables(f"{path}: keys must be strings")
                if has_lone_surrogate(key):
                    raise InvalidVariables(f"{path}: a key {LONE_SURROGATE}")
                if key == "typename":
                    # SpiffWorkflow's serializer treats such dicts as its own objects.
                    raise InvalidVariables(f"{path}.typename: the key 'typename' is reserved")
                if path == what and (key.startswith("_") or not key.isidentifier()):
                    raise InvalidVariables(f"{what}.{key}: variable names must be identifiers not starting with '_'")
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidVariables(f"{path}: numbers must be finite, not {value}")
        elif isinstance(value, str) and "\x00" in value:
            raise InvalidVariables(f"{path}: text must not contain NUL characters")
        elif isinstance(value, str) and has_lone_surrogate(value):
            raise InvalidVariables(f"{path}: the text {LONE_SURROGATE}")
        elif not isinstance(value, (str, int, float, bool, type(None))):
            raise InvalidVariables(f"{path}: unsupported value of type {type(value).__name__}")

    walk(variables, what)
    check_sizes(variables, what)
    return variables


def check_sizes(variables: dict, what: str = "variables") -> None:
    """Raise InvalidVariables if a variable, or all of them, is larger than stored variables may be."""
    limit = settings.LANEBRIDGE["MAX_VALUE_BYTES"]
    sizes = {key: _stored_bytes(value, f"{what}.{key}") for key, value in variables.items()}
    for key, size in sizes.items():
        if size > limit:
            raise InvalidVariables(f"{what}.{key}: {size} bytes, more than the limit of {limit} bytes per value "
                                   "(LANEBRIDGE_MAX_VALUE_BYTES)")
    _check_total(sum(sizes.values()), what)


def check_total_size(variables: dict, what: str = "variables") -> None:
    """Raise InvalidVariables if `variables` together are larger than one instance's variables may be."""
    _check_total(sum(_stored_bytes(value, f"{what}.{key}") for key, value in variables.items()), what)


def _check_total(total: int, what: str) -> None:
    limit = settings.LANEBRIDGE["MAX_INSTANCE_BYTES"]
    if total > limit:
        raise InvalidVariables(f"{what}: the variables would come to {total} bytes, more than the limit of {limit} "
                               "bytes per instance (LANEBRIDGE_MAX_INSTANCE_BYTES)")


def _stored_bytes(value: Any, path: str) -> int:
    # The size of the value as stored: ASCII JSON.
    try:
        return len(json.dumps(value, default=str))
    except ValueError:
        raise InvalidVariables(f"{path}: a number too large to store") from None


def _latest(instance_id: int) -> ProcessInstance:
    # After a write, jobs run in this process on commit may have moved the instance on:
    # the copy kept by the last write here is that state, else the row is read.
    kept = live.workflows.latest(instance_id)
    return kept if kept is not None else ProcessInstance.objects.get(pk=instance_id)


# SQLite: how many more times a write starts over after waiting the whole busy timeout for the
# database's write lock. SQLite's busy handler is no queue: under many writers one can lose every round.
LOCKED_RETRIES = 2


def write_instance(instance_id: int, change: Callable, *, user=None, attempts: int = 3):
    """Apply `change(instance, workflow)` and advance the instance, in one transaction.

    Returns what `change` returns. On a version conflict the whole write is
    rolled back and tried again on fresh state; after `attempts` it raises Conflict.
    """
    retries = 0 if connection.in_atomic_block else LOCKED_RETRIES  # a caller's transaction is not ours to redo
    for retry in range(retries + 1):
        try:
            return _write_instance(instance_id, change, user, attempts)
        except OperationalError as exc:
            if retry == retries or connection.vendor != "sqlite" or "database is locked" not in str(exc):
                raise
            log.warning("instance %s: the database stayed locked for the whole busy timeout; starting over",
                        instance_id)
    raise AssertionError("unreachable")


def _write_instance(instance_id: int, change: Callable, user, attempts: int):
    runs_jobs_here = _runs_jobs_here()
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                instance, workflow, with_rows, trusted = _load(instance_id, trust_kept=attempt == 0)
                try:
                    result = change(instance, workflow)
                except Exception:
                    # A refusal (task not open...) reached on a kept copy that another process's
                    # write made out of date is no answer: try again on fresh state.
                    if trusted and not _is_current(instance):
                        raise Conflict(f"Instance {instance_id} was changed by someone else") from None
                    raise
                _advance_and_keep(instance, workflow, with_rows, user, runs_jobs_here)
                return result
        except IntegrityError as exc:
            # Two writers advanced the same state and created the same task rows: the same
            # situation as a version conflict, met one statement earlier.
            if attempt == attempts - 1:
                raise Conflict(f"Instance {instance_id} was changed by someone else") from exc
        except Conflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _is_current(instance: ProcessInstance) -> bool:
    return ProcessInstance.objects.filter(pk=instance.pk, version=instance.version).exists()


def _load(instance_id: int, trust_kept: bool) -> tuple[ProcessInstance, object, frozenset, bool]:
    """The instance, its workflow, the ids of its tasks with rows, and whether they were trusted unread."""
    kept = live.workflows.take(instance_id)
    if kept is not None and trust_kept and not connection.features.has_select_for_update:
        # SQLite: this transaction already holds the database's write lock (BEGIN IMMEDIATE),
        # and the version check in _save() turns a kept copy that is out of date into a Conflict.
        return (*kept, True)
    # The row lock makes a concurrent writer wait and then see this write's result;
    # the version check in _save() still guards databases without row locks.
    locked = ProcessInstance.objects.select_for_update(of=("self",))
    instance = locked.select_related("definition").filter(pk=instance_id).first()
    if instance is None:
        # PostgreSQL checks the join again against the row a concurrent write left: a migration that
        # moved it to another definition makes it drop out of this query, so it is locked on its own.
        instance = locked.get(pk=instance_id)
    if kept is not None and kept[0].version == instance.version:
        return instance, kept[1], kept[2], False
    workflow = spiff.load_workflow(specs_for(instance.definition), instance.state_json)
    return instance, workflow, frozenset(waits.tasks_with_rows(_waiting_tasks(workflow))), False


def _runs_jobs_here() -> bool:
    # Jobs run in this process (no broker), and the write about to start commits on its own,
    # not inside a caller's transaction: its jobs will run right after that commit.
    return settings.CELERY_TASK_ALWAYS_EAGER and transaction.get_autocommit()


def _advance_and_keep(instance: ProcessInstance, workflow, with_rows: frozenset, user, runs_jobs_here: bool) -> None:
    """Advance and save the instance, and keep its workflow in memory once the write commits."""
    state = {"with_rows": with_rows}
    # Registered before advance() so it runs before the jobs this write dispatches on commit.
    live.workflows.keep_after_commit(instance, workflow, state)
    state["with_rows"] = advance(instance, workflow, with_rows, user=user, claim_jobs=runs_jobs_here)


def latest_definition(process_id: str) -> ProcessDefinition:
    """The newest deployed version of a process, or ProcessNotFound."""
    # The XML and the spec are large and rarely needed: the spec comes from the cache.
    definition = (ProcessDefinition.objects.filter(process_id=process_id).order_by("-version")
                  .defer("bpmn_xml", "spec_json").first())
    if definition is None:
        raise ProcessNotFound(f"No process with id {process_id!r} is deployed")
    return definition


def definition_version(process_id: str, version: int | None = None) -> ProcessDefinition:
    """Version `version` of a process (the newest without one), or ProcessNotFound naming what is missing."""
    if version is None:
        return latest_definition(process_id)
    definition = (ProcessDefinition.objects.filter(process_id=process_id, version=version)
                  .defer("bpmn_xml", "spec_json").first())
    if definition is None:
        latest_definition(process_id)  # says so if the process itself is unknown
        raise ProcessNotFound(f"Process {process_id!r} has no version {version}")
    return definition


def start_instance(process_id: str, variables: dict | None = None, business_key: str = "", user=None,
                   idempotency_key: str | None = None, version: int | None = None, start_event: str | None = None,
                   started_by_event: dict | None = None) -> tuple[ProcessInstance, bool]:
    """Start a process, at `version` or else its latest; returns (instance, created).

    With an idempotency key, a second start by the same caller returns the
    first instance instead of starting another. `start_event` names the
    message, signal or timer start event that starts it instead of the plain
    one; `started_by_event` says what came in (history).
    """
    variables = check_variables({} if variables is None else variables)
    if version is None:
        version = rollout.chosen_version(process_id, business_key)
    definition = definition_version(process_id, version)
    starter = user if user is not None and getattr(user, "is_authenticated", False) else None
    if idempotency_key:
        existing = ProcessInstance.objects.filter(started_by=starter, idempotency_key=idempotency_key).first()
        if existing:
            return existing, False
    runs_jobs_here = _runs_jobs_here()
    try:
        with transaction.atomic():
            workflow = spiff.new_workflow(specs_for(definition), variables)
            if start_event:
                spiff.start_with_event(workflow, start_event, variables)
            instance = ProcessInstance.objects.create(
                definition=definition,
                business_key=business_key or "",
                variables=to_json(variables),
                started_by=starter,
                idempotency_key=idempotency_key or None,
            )
            record_event(instance, HistoryEvent.STARTED, start_event or "", user=user,
                         data={"variables": variables, "version": definition.version, **(started_by_event or {})})
            _advance_and_keep(instance, workflow, frozenset(), user, runs_jobs_here)
    except IntegrityError:
        if not idempotency_key:
            raise
        return ProcessInstance.objects.get(started_by=starter, idempotency_key=idempotency_key), False
    return _latest(instance.pk), True


def _waiting_tasks(workflow) -> list:
    return workflow.get_tasks(state=TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR)


def change_variables(workflow, values: dict, names: list[str]) -> None:
    """Inside a write: set `values` and remove `names` on every path of the workflow that waits."""
    for task in _waiting_tasks(workflow):
        # A copy per path: paths must not share one mutable value.
        task.data.update(to_json(values))
        for name in names:
            task.data.pop(name, None)


def advance(instance: ProcessInstance, workflow, with_rows: frozenset, user=None, claim_jobs: bool = False
            ) -> frozenset:
    """Run the engine until every path waits, sync the query tables and save.

    `with_rows` are the ids of the tasks that had rows before this write; the
    rows change only for tasks that appeared or went away. With `claim_jobs`
    the service jobs it creates are claimed for this process as they are
    created. Must be called inside a transaction; raises Conflict if the
    instance row changed since it was loaded. Returns the ids of the tasks
    that have rows now.
    """
    while True:
        if instance.state in ProcessInstance.RUNNING:
            try:
                prune.run_engine(workflow)
            except WorkflowException as exc:
                _fail(instance, exc)
            _throw(instance, workflow)
        # One walk of the task tree serves the syncs and the variables snapshot.
        waiting = _waiting_tasks(workflow)
        now = waits.tasks_with_rows(waiting)
        # A message that arrived before its catch was reached is caught now, and the engine runs on.
        if instance.state not in ProcessInstance.RUNNING or not waits.match_early(
                instance, [task for task_id, task in now.items() if task_id not in with_rows]):
            break
    completed = workflow.is_completed()
    inputs = _call_inputs(instance, now, with_rows) if instance.state in ProcessInstance.RUNNING else {}
    if instance.state in ProcessInstance.RUNNING:
        claim_jobs = claim_jobs and instance.state == ProcessInstance.ACTIVE
        _sync_rows(instance, workflow, with_rows, now, claim_jobs, inputs)
        if completed:
            instance.state = ProcessInstance.COMPLETED
            instance.ended_at = timezone.now()
            # The end event's name says how it ended ("Quote rejected", "Order delivered").
            end_id, instance.outcome, kind = spiff.end_event_reached(workflow) or ("", "", "")
            record_event(instance, HistoryEvent.COMPLETED, end_id, instance.outcome)
            signals.instance_ended.send(sender=ProcessInstance, instance=instance, state=instance.state,
                                        end_event=end_id, outcome=instance.outcome, outcome_kind=kind, reason="",
                                        variables=dict(workflow.data))
    instance.variables = to_json(dict(workflow.data) if completed else _current_data(workflow, waiting))
    _save(instance, workflow)
    return frozenset(now)


def _throw(instance: ProcessInstance, workflow) -> None:
    """Messages and signals the process threw to the outside: sent once this write commits."""
    for kind, name, payload in spiff.thrown_events(workflow):
        dispatch.send_event_after_commit(instance, kind, name, to_json(payload))


def _call_inputs(instance: ProcessInstance, now: dict, before: frozenset) -> dict:
    """The evaluated parameters of the calls that started waiting; a failed expression fails the instance.

    Evaluated before any row of this step is written, so a failure leaves none behind.
    """
    try:
        return {task_id: {name: value["value"] for name, value in task.task_spec.evaluate_params(task).items()}
                for task_id, task in now.items() if task_id not in before and spiff.is_call(task)}
    except WorkflowException as exc:
        _fail(instance, exc)
        return {}


def complete_task(instance: ProcessInstance, task, complete: Callable[[], None]) -> None:
    """`complete()` finishes `task`; if what follows is too deep to set up, the instance fails naming that element."""
    try:
        prune.setting_up(complete, [task])
    except prune.TooDeep as exc:
        _fail(instance, exc)


def _fail(instance: ProcessInstance, exc: WorkflowException) -> None:
    task_spec = getattr(exc, "task_spec", None) or getattr(getattr(exc, "task", None), "task_spec", None)
    element_id = getattr(task_spec, "bpmn_id", None) or getattr(task_spec, "name", "") or ""
    element_name = getattr(task_spec, "bpmn_name", None) or element_id
    message = f"{element_name or 'element'} ({element_id}): {exc}" if element_id else str(exc)
    instance.state = ProcessInstance.FAILED
    instance.error = message
    instance.ended_at = timezone.now()
    Incident.objects.create(instance=instance, element_id=element_id, message=message,
                            details={"error": str(exc), "type": type(exc).__name__})
    record_event(instance, HistoryEvent.FAILED, element_id, element_name, data={"error": message})
    signals.instance_ended.send(sender=ProcessInstance, instance=instance, state=instance.state, end_event="",
                                outcome="", outcome_kind="", reason=message, variables=dict(instance.variables or {}))
    log.warning("instance %s failed: %s", instance.pk, message)


def _current_data(workflow, waiting: list) -> dict:
    data: dict = {}
    # An event sub-process's wait holds the variables as they were when it began waiting: the others win.
    for task in sorted(waiting, key=lambda t: not spiff.waits_for_event_subprocess(t)):
        data.update(task.data)
    if not data and workflow.last_task is not None:
        data.update(workflow.last_task.data)
    return data


def _save(instance: ProcessInstance, workflow) -> None:
    instance.updated_at = timezone.now()
    instance.state_json = spiff.dump_workflow(workflow)
    updated = rows.update(ProcessInstance, {"pk": instance.pk, "version": instance.version}, {
        "state_json": instance.state_json,
        "state": instance.state,
        "variables": instance.variables,
        "error": instance.error,
        "ended_at": instance.ended_at,
        "outcome": instance.outcome,
        "version": instance.version + 1,
        "updated_at": instance.updated_at,
    })
    if updated != 1:
        raise Conflict(f"Instance {instance.pk} was changed by someone else")
    instance.version += 1


def _sync_rows(instance: ProcessInstance, workflow, before: frozenset, now: dict, claim_jobs: bool,
               inputs: dict) -> None:
    """Create rows for tasks that started waiting; close the rows of tasks that stopped."""
    gone = {task_id: spiff.find_task(workflow, task_id) for task_id in before - now.keys()}
    # None: pruned from the tree. A completed task was settled by the path that completed it
    # (complete_human_task, a call's result, a timer firing, a message); anything else stopped
    # waiting because it was cancelled. A completed task that waited several ways (an
    # event-based gateway) still has the rows of the ways that did not fire.
    closed = {i: task for i, task in gone.items()
              if task is None or task.state != TaskState.COMPLETED or len(waits.kinds_of(task)) > 1}
    if closed:
        waits.close(instance, closed)
    waits.open_new(instance, [task for task_id, task in now.items() if task_id not in before], claim_jobs, inputs)


def complete_human_task(task: HumanTask, user, data: dict, on_behalf_of=None) -> ProcessInstance:
    """Apply submitted `data` to a human task and advance its instance.

    `on_behalf_of` is the absent user a substitute completes it for; the task row and
    the history record both. Raises TaskNotOpen if it was completed or cancelled meanwhile.
    """
    data = check_variables(data, "data")
    # The version whose form `data` was checked against: a migration since then makes this completion stale.
    shown_on = task.instance.definition_id

    def change(instance, workflow):
        if instance.state == ProcessInstance.SUSPENDED:
            raise InstanceSuspended(f"Instance {instance.pk} is suspended: resume it before completing task {task.pk}")
        if instance.definition_id != shown_on:
            raise TaskMigrated(f"Task {task.pk} moved to another version of its process while it was being "
                               "completed: open it again")
        # Closing the row only if it is still open is also the check that it is.
        if not rows.update(HumanTask, {"pk": task.pk, "state": HumanTask.OPEN}, {
                "state": HumanTask.COMPLETED, "completed_at": timezone.now(),
                "completed_by": getattr(user, "pk", None), "on_behalf_of": getattr(on_behalf_of, "pk", None),
                "submitted_data": to_json(data)}):
            state = HumanTask.objects.filter(pk=task.pk).values_list("state", flat=True).first()
            raise TaskNotOpen(f"Task {task.pk} is already {state}")
        # task_id, element_id and name never change after the row is created.
        spiff_task = spiff.find_task(workflow, task.task_id)
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise TaskNotOpen(f"Task {task.pk} is no longer waiting")
        check_total_size({**spiff_task.data, **data}, "data")
        spiff_task.set_data(**data)
        complete_task(instance, spiff_task, spiff_task.run)
        done = {"task": task.pk, "data": data}
        if on_behalf_of is not None:
            done["on_behalf_of"] = on_behalf_of.get_username()
        record_event(instance, HistoryEvent.TASK_COMPLETED, task.element_id, task.name, user=user, data=done)

    write_instance(task.instance_id, change, user=user)
    return _latest(task.instance_id)


def cancel_instance(instance: ProcessInstance, user=None, reason: str = "") -> ProcessInstance:
    """Cancel a running instance: its open tasks and pending jobs are cancelled too."""

    def change(instance, workflow):
        if instance.state not in ProcessInstance.RUNNING:
            raise InstanceNotActive(f"Instance {instance.pk} is {instance.state}")
        stop_instance(instance, workflow, user, reason)

    write_instance(instance.pk, change, user=user)
    return ProcessInstance.objects.get(pk=instance.pk)


def stop_instance(instance: ProcessInstance, workflow, user, reason: str) -> None:
    """Inside a write: end the instance as cancelled, with its open tasks and pending jobs."""
    workflow.cancel()
    instance.state = ProcessInstance.CANCELLED
    instance.ended_at = timezone.now()
    waits.close_all(instance)
    record_event(instance, HistoryEvent.CANCELLED, user=user, data={"reason": reason})
    signals.instance_ended.send(sender=ProcessInstance, instance=instance, state=instance.state, end_event="",
                                outcome="", outcome_kind="", reason=reason, variables=dict(instance.variables or {}))
