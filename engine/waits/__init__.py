"""Every kind of wait an instance can be in, one module each with the same inner shape.

A kind module answers, for a task of the workflow:

* ``owns(task)``: the element can wait this way (whatever its state now);
* ``waits_on(task)``: it waits this way now, so it has a row beside the instance;
* ``match(instance, task)``: catch at once what arrived before the wait (a buffered
  message); True if something did, and the task then waits no more;
* ``open(instance, task, claim_jobs, inputs)``: write that row, in the instance's transaction
  (`inputs`: the evaluated parameters of the calls that start waiting, by task id);
* ``close(instance, task_ids)`` / ``close_all(instance)``: cancel the rows of tasks that
  stopped waiting / of an instance that ends;
* ``follow(instance, task)``: after a migration, point the task's rows at its element in the
  new version, keeping what they hold (assignee, due time, the call underway);
* ``pending(instance)``: what the instance's page lists as waiting.

Its docstring names who fires it. The runtime loops over `KINDS`; adding a kind
of wait is adding a module here.
"""

from __future__ import annotations

from engine.models import ProcessInstance
from engine.waits import human_task, message, service_call, signal, timer
from engine.waits.base import Pending

KINDS = (human_task, service_call, timer, message, signal)

__all__ = ["KINDS", "Pending", "close", "close_all", "follow", "kinds_of", "match_early", "open_new", "pending",
           "tasks_with_rows"]


def tasks_with_rows(waiting: list) -> dict:
    """The waiting tasks that have a row beside the instance, by task id."""
    return {t.id: t for t in waiting if any(kind.waits_on(t) for kind in KINDS)}


def match_early(instance: ProcessInstance, tasks: list) -> bool:
    """Let tasks that started waiting catch what arrived before them; True if any did."""
    matched = False
    for task in tasks:
        for kind in KINDS:
            if kind.waits_on(task) and kind.match(instance, task):
                matched = True
                break
    return matched


def open_new(instance: ProcessInstance, tasks: list, claim_jobs: bool, inputs: dict) -> None:
    """Write the rows of tasks that started waiting; `inputs` holds the calls' evaluated parameters by task id."""
    for task in tasks:
        for kind in KINDS:
            if kind.waits_on(task):
                kind.open(instance, task, claim_jobs, inputs)


def close(instance: ProcessInstance, gone: dict) -> None:
    """Cancel the rows of tasks that stopped waiting; `gone` maps task ids to tasks (None: pruned)."""
    for kind in KINDS:
        ids = [task_id for task_id, task in gone.items() if task is None or kind.owns(task)]
        if ids:
            kind.close(instance, ids)


def follow(instance: ProcessInstance, tasks: list) -> None:
    """After a migration: the rows of waiting tasks show their elements in the new version."""
    for task in tasks:
        for kind in KINDS:
            if kind.waits_on(task):
                kind.follow(instance, task)


def close_all(instance: ProcessInstance) -> None:
    """Cancel every row of an instance that ends."""
    for kind in KINDS:
        kind.close_all(instance)


def pending(instance: ProcessInstance) -> list[Pending]:
    """Everything an instance waits for, kind by kind, for its page."""
    return [item for kind in KINDS for item in kind.pending(instance)]


def kinds_of(task) -> list:
    """The kinds of wait an element has (several for an event-based gateway)."""
    return [kind for kind in KINDS if kind.owns(task)]
