"""Moving running instances to another version of their process (Camunda's process instance migration).

`plan_migration` says, for each element an instance waits at, where it goes in
the target version, changing nothing; `migrate_instance` does it in one write
(`write_instance`: row lock, version check), and the rows beside the instance
follow: open tasks keep their id and assignee, jobs and timers their row and
due time, subscriptions their task. Elements keep their id unless the
operator's mapping names another; a waiting element with no counterpart, or a
mapping to an element that does not exist, refuses the whole migration.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.db.models import QuerySet
from django.utils import timezone

from engine import spec_change, spiff, waits
from engine.deploy import specs_for
from engine.models import HistoryEvent, ProcessDefinition, ProcessInstance
from engine.repairs import audit
from engine.runtime import (
    Conflict,
    InstanceNotActive,
    ProcessNotFound,
    check_unchanged,
    definition_version,
    record_event,
    write_instance,
)

# How many instances one batch request moves at most; the rest is another request.
MAX_BATCH = 10_000


class MigrationRefused(ValueError):
    """The migration cannot be done as asked; `problems` name the field or the elements."""

    def __init__(self, problems: list[dict]):
        super().__init__("; ".join(p["message"] for p in problems))
        self.problems = problems


def plan_migration(instance: ProcessInstance, to_version: int, mapping: dict | None = None) -> dict:
    """Where each waiting element of `instance` would go on `to_version`; nothing changes."""
    target, mapping = _target(instance.definition, to_version, mapping)
    return _plan(instance, target, mapping)


def _plan(instance: ProcessInstance, target: ProcessDefinition, mapping: dict) -> dict:
    _check_running(instance, target)
    # A copy from the stored state: the plan is what the migration itself would do.
    workflow = spiff.load_workflow(specs_for(instance.definition), instance.state_json)
    moves = _change(workflow, target, mapping)
    return _result(instance, instance.definition, target, moves, migrated=False)


def migrate_instance(instance: ProcessInstance, to_version: int, mapping: dict | None = None, *, user=None,
                     reason: str = "", dry_run: bool = False, seen_version: int | None = None) -> dict:
    """Move a running (or suspended) instance to `to_version`; the plan as done, or just the plan on a dry run.

    `seen_version` is the instance's version the caller decided on (its dry
    run, the task list it read): if the instance changed since, Conflict.
    Raises MigrationRefused (bad version, mapping or counterpart),
    InstanceNotActive (ended, or already on that version) or Conflict.
    """
    target, mapping = _target(instance.definition, to_version, mapping)
    if dry_run:
        return _plan(instance, target, mapping)
    return _migrate(instance, target, mapping, user, reason, seen_version)


def _migrate(instance: ProcessInstance, target: ProcessDefinition, mapping: dict, user, reason: str,
             seen_version: int | None) -> dict:
    expected = instance.version if seen_version is None else seen_version
    outcome: dict = {}

    def change(instance, workflow):
        check_unchanged(instance, expected, "look at its migration again")
        _check_running(instance, target)
        source = instance.definition
        moves = _change(workflow, target, mapping)
        instance.definition = target
        ProcessInstance.objects.filter(pk=instance.pk).update(definition=target, updated_at=timezone.now())
        waits.follow(instance, [move.task for move in moves])
        result = _result(instance, source, target, moves, migrated=True)
        record_event(instance, HistoryEvent.MIGRATED, user=user, data={
            "reason": reason, "from_version": source.version, "to_version": target.version,
            "mapping": mapping, "elements": result["elements"]})
        audit(user, "instance.migrate", f"instance {instance.pk}",
              f"{reason} (v{source.version} → v{target.version})".strip())
        outcome.update(result)

    write_instance(instance.pk, change, user=user)
    return outcome


def migrate_instances(process_id: str, from_version: int, to_version: int, mapping: dict | None = None, *,
                      instance_ids: list[int] | None = None, user=None, reason: str = "",
                      dry_run: bool = False) -> list[dict]:
    """Migrate many instances of `from_version`, each in its own transaction: one result per instance.

    Without `instance_ids`, every running instance of `from_version`.
    """
    source = _version(process_id, from_version, "from_version")
    if to_version == from_version:
        raise MigrationRefused([{"field": "to_version", "message": f"to_version is from_version ({from_version})"}])
    # A bad version or mapping refuses the batch before any instance moves.
    target, mapping = _target(source, to_version, mapping)
    results = []
    for instance in batch(process_id, from_version, instance_ids):
        try:
            done = (_plan(instance, target, mapping) if dry_run
                    else _migrate(instance, target, mapping, user, reason, None))
        except (MigrationRefused, InstanceNotActive, Conflict) as exc:
            results.append({"instance": instance.pk, "ok": False, "detail": str(exc), "elements": [],
                            "problems": getattr(exc, "problems", [])})
            continue
        results.append({"instance": instance.pk, "ok": True, "detail": _summary(done), "elements": done["elements"]})
    for missing in sorted(set(instance_ids or []) - {r["instance"] for r in results}):
        results.append({"instance": missing, "ok": False, "elements": [], "problems": [],
                        "detail": f"Instance {missing} is not an instance of {process_id} v{from_version}"})
    return results


def batch(process_id: str, from_version: int, instance_ids: list[int] | None = None) -> QuerySet:
    """The instances a batch migration takes: the given ones of that version, else all of it that still run."""
    instances = ProcessInstance.objects.filter(definition__process_id=process_id, definition__version=from_version)
    if instance_ids is not None:
        return instances.filter(pk__in=instance_ids).select_related("definition").order_by("id")
    return instances.filter(state__in=ProcessInstance.RUNNING).select_related("definition").order_by("id")[
        :MAX_BATCH]


def running_counts(process_id: str) -> dict[int, int]:
    """Version → how many of its instances still run (active or suspended)."""
    counts = {}
    rows = (ProcessInstance.objects.filter(definition__process_id=process_id, state__in=ProcessInstance.RUNNING)
            .values_list("definition__version").order_by())
    for (version,) in rows:
        counts[version] = counts.get(version, 0) + 1
    return counts


def elements(definition: ProcessDefinition) -> dict[str, str]:
    """The elements of a version an operator can map from or to: id → name."""
    return spiff.elements(specs_for(definition))


def waiting_elements(definition: ProcessDefinition) -> dict[str, str]:
    """The elements of a version an instance can wait at (tasks, calls, catch events): id → name."""
    found = {}
    for task_spec in spiff.element_specs(specs_for(definition)):
        # The kinds of wait judge an element by its task's spec.
        if waits.kinds_of(SimpleNamespace(task_spec=task_spec)):
            found[task_spec.bpmn_id] = getattr(task_spec, "bpmn_name", None) or task_spec.bpmn_id
    return found


def _target(source: ProcessDefinition, to_version, mapping) -> tuple[ProcessDefinition, dict]:
    """The target definition and the checked mapping, or MigrationRefused naming the field or elements."""
    if isinstance(to_version, bool) or not isinstance(to_version, int):
        raise MigrationRefused([{"field": "to_version", "message": f"to_version must be a version number, "
                                                                   f"not {to_version!r}"}])
    target = _version(source.process_id, to_version, "to_version")
    mapping = {} if mapping is None else mapping
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in mapping.items()):
        raise MigrationRefused([{"field": "mapping", "message": "mapping must map element ids to element ids"}])
    old, new = elements(source), elements(target)
    problems = [{"field": f"mapping.{k}", "element_id": k,
                 "message": f"mapping: {k} is no element of {source.process_id} v{source.version}"}
                for k in mapping if k not in old]
    problems += [{"field": f"mapping.{k}", "element_id": v,
                  "message": f"mapping: {k} → {v}, but {v} is no element of {target.process_id} v{target.version}"}
                 for k, v in mapping.items() if v not in new]
    if problems:
        raise MigrationRefused(problems)
    return target, dict(mapping)


def _version(process_id: str, version: int, field: str) -> ProcessDefinition:
    try:
        return definition_version(process_id, version)
    except ProcessNotFound as exc:
        raise MigrationRefused([{"field": field, "message": str(exc)}]) from None


def _check_running(instance: ProcessInstance, target: ProcessDefinition) -> None:
    if instance.state not in ProcessInstance.RUNNING:
        raise InstanceNotActive(f"Instance {instance.pk} is {instance.state}; only a running one can be migrated")
    if instance.definition_id == target.pk:
        raise InstanceNotActive(f"Instance {instance.pk} is already on version {target.version}")


def _change(workflow, target: ProcessDefinition, mapping: dict) -> list:
    try:
        return spiff.change_spec(workflow, specs_for(target), mapping)
    except spec_change.SpecChangeRefused as exc:
        raise MigrationRefused(exc.problems) from None


def _result(instance: ProcessInstance, source: ProcessDefinition, target: ProcessDefinition, moves: list,
            migrated: bool) -> dict:
    kinds = {move.task.id: ", ".join(str(kind.__name__.rsplit(".", 1)[-1]) for kind in waits.kinds_of(move.task))
             for move in moves}
    return {
        "instance": instance.pk,
        "process_id": source.process_id,
        "from_version": source.version,
        "to_version": target.version,
        "migrated": migrated,
        "elements": [{"element_id": m.element_id, "name": m.name, "kind": kinds[m.task.id],
                      "to_element_id": m.to_element_id, "to_name": m.to_name,
                      "changed": m.element_id != m.to_element_id or m.name != m.to_name}
                     for m in sorted(moves, key=lambda m: m.element_id)],
    }


def _summary(result: dict) -> str:
    moved = ", ".join(f"{e['element_id']} → {e['to_element_id']}" for e in result["elements"]) or "nothing waiting"
    verb = "migrated" if result["migrated"] else "would migrate"
    return f"{verb} v{result['from_version']} → v{result['to_version']}: {moved}"
